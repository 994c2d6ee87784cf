package soak

import (
	"net/http"
)

// liveToken is an access token of u certainly live now: the newest one it
// has, else one from a live refresh token (cheap), else from a login (an
// argon2id check), or nil if none can be had.
func (c *client) liveToken(u *user) *accessToken {
	if u.deleted {
		return nil
	}
	now := c.d.soon()
	if t := u.newestLiveAccess(now); t != nil {
		return t
	}
	if rt := u.newestLiveRefresh(now); rt != nil {
		if t := c.refreshWith(u, rt); t != nil && live(t.exp, c.d.soon()) == yes {
			return t
		}
	}
	if u.checksLeft(now) <= 0 || u.throttleAllowed(now) {
		return nil
	}
	if t := c.login(u, u.email); t != nil && live(t.exp, c.d.soon()) == yes {
		return t
	}
	return nil
}

// loginName is a name u logs in with: the address or the username, as
// given or in another case (both match case-insensitively).
func (c *client) loginName(u *user) string {
	switch n := c.rng.IntN(10); {
	case n < 2:
		return caseVariant(u.email)
	case n < 3:
		return swapCase(u.email)
	case n < 5 && u.username != nil:
		return *u.username
	case n < 6 && u.username != nil:
		return swapCase(*u.username)
	}
	return u.email
}

// login logs u in with its password and records the tokens.
func (c *client) login(u *user, name string) *accessToken {
	defer c.begin("login")()
	c.touch(u)
	a := c.call(http.MethodPost, "/v1/token/", map[string]any{"username": name, "password": u.password}, "")
	return c.loggedIn(u, a)
}

// loggedIn checks a, the answer to a login of u with its password, and
// records its tokens.
func (c *client) loggedIn(u *user, a *answer) *accessToken {
	if !c.passwordCheck(a, u, http.StatusOK, false) || !c.wantStatus(a, http.StatusOK) {
		return nil
	}
	c.wantNoStore(a)
	access, _ := a.obj["access"].(string)
	refresh, _ := a.obj["refresh"].(string)
	if access == "" || refresh == "" || access == refresh ||
		a.obj["access_expires_in"] != u.org.access.Seconds() || a.obj["refresh_expires_in"] != u.org.refresh.Seconds() {
		c.fail("%s; want {access, refresh, access_expires_in: %v, refresh_expires_in: %v} (the organization's lifetimes)",
			a, u.org.access.Seconds(), u.org.refresh.Seconds())
		return nil
	}
	t := &accessToken{s: access, exp: a.at.seconds().add(u.org.access)}
	u.access = keepLast(append(u.access, t))
	u.refresh = keepLast(append(u.refresh, &refreshToken{s: refresh, exp: a.at.seconds().add(u.org.refresh), accessLife: u.org.access}))
	return t
}

func opLogin(c *client) bool {
	u := c.someUser(func(u *user) bool { return u.checksLeft(c.d.soon()) > 0 })
	if u == nil {
		return false
	}
	c.login(u, c.loginName(u))
	return true
}

// mayFail reports whether the driver makes u fail a password check now: it
// stays under the account-wide cap, and mostly under the 5 failures that
// throttle (sometimes it goes past, to see the 429).
func (c *client) mayFail(u *user) bool {
	now := c.d.soon()
	return u.checksLeft(now) > 0 && (countWithin(u.failures, loginWindow, now) < loginFailureLimit-1 || c.chance(0.15))
}

// wrongPassword is one of u's earlier passwords, or any other.
func (c *client) wrongPassword(u *user) string {
	if len(u.old) > 0 && c.chance(0.5) {
		return u.old[c.rng.IntN(len(u.old))]
	}
	return c.newPassword()
}

func opLoginWrongPassword(c *client) bool {
	u := c.someUser(c.mayFail)
	if u == nil {
		return false
	}
	defer c.begin("login_wrong_password")()
	c.touch(u)
	a := c.call(http.MethodPost, "/v1/token/", map[string]any{"username": c.loginName(u), "password": c.wrongPassword(u)}, "")
	if c.passwordCheck(a, u, http.StatusUnauthorized, true) {
		c.wantDetail(a, http.StatusUnauthorized, msgNoAccount)
	}
	return true
}

// opLoginUnknown logs in as nobody: the same 401 as a wrong password.
func opLoginUnknown(c *client) bool {
	defer c.begin("login_unknown")()
	name := c.newEmail()
	if c.chance(0.4) {
		name = c.newUsername()
	}
	a := c.call(http.MethodPost, "/v1/token/", map[string]any{"username": name, "password": c.newPassword()}, "")
	if !a.down {
		c.wantDetail(a, http.StatusUnauthorized, msgNoAccount)
	}
	return true
}

// opLoginDeleted logs in as a deleted user, with what was its password.
func opLoginDeleted(c *client) bool {
	g := c.someGhost(func(g *user) bool {
		return !c.hasAccount(g.email) && !c.tainted[g.addr()] && g.checksLeft(c.d.soon()) > 0
	})
	if g == nil {
		return false
	}
	defer c.begin("login_deleted_user")()
	c.touch(g)
	a := c.call(http.MethodPost, "/v1/token/", map[string]any{"username": c.loginName(g), "password": g.password}, "")
	if c.passwordCheck(a, g, http.StatusUnauthorized, true) {
		c.wantDetail(a, http.StatusUnauthorized, msgNoAccount)
	}
	return true
}

// refreshWith refreshes with t, one of u's refresh tokens.
func (c *client) refreshWith(u *user, t *refreshToken) *accessToken {
	defer c.begin("refresh")()
	c.touch(u)
	a := c.call(http.MethodPost, "/v1/token/refresh/", map[string]any{"refresh": t.s}, "")
	if a.down {
		return nil
	}
	switch u.refreshState(t, a.at) {
	case no:
		c.wantTokenInvalid(a)
		return nil
	case maybe:
		if a.status == http.StatusUnauthorized {
			c.wantTokenInvalid(a)
			t.revoked = true // dead from now on
			return nil
		}
	}
	if !c.wantStatus(a, http.StatusOK) {
		return nil
	}
	c.wantNoStore(a)
	access, _ := a.obj["access"].(string)
	if access == "" || a.obj["access_expires_in"] != t.accessLife.Seconds() {
		c.fail("%s; want {access, access_expires_in: %v}", a, t.accessLife.Seconds())
		return nil
	}
	at := &accessToken{s: access, exp: a.at.seconds().add(t.accessLife)}
	u.access = keepLast(append(u.access, at))
	return at
}

// someRefresh picks a user (sometimes a deleted one) and one of its refresh
// tokens: with preferLive mostly the newest live one, else any (revoked,
// expired...).
func (c *client) someRefresh(preferLive bool) (*user, *refreshToken) {
	has := func(u *user) bool { return len(u.refresh) > 0 }
	u := c.someUser(has)
	if g := c.someGhost(has); g != nil && (u == nil || c.chance(0.1)) {
		u = g
	}
	if u == nil {
		return nil, nil
	}
	if t := u.newestLiveRefresh(c.d.soon()); t != nil && preferLive && c.chance(0.7) {
		return u, t
	}
	return u, u.refresh[c.rng.IntN(len(u.refresh))]
}

func opRefresh(c *client) bool {
	u, t := c.someRefresh(true)
	if u == nil {
		return false
	}
	c.refreshWith(u, t)
	return true
}

// opRefreshNotRefresh refreshes with an access token, or with no token at
// all: the token routes tell refresh tokens apart.
func opRefreshNotRefresh(c *client) bool {
	defer c.begin("refresh_not_a_refresh_token")()
	tok := c.randString(30) + "." + c.randString(40) + "." + c.randString(43)
	if u := c.someUser(func(u *user) bool { return len(u.access) > 0 }); u != nil && c.chance(0.7) {
		tok = u.access[c.rng.IntN(len(u.access))].s
	}
	route := c.pick([]string{"/v1/token/refresh/", "/v1/token/revoke/"})
	if a := c.call(http.MethodPost, route, map[string]any{"refresh": tok}, ""); !a.down {
		c.wantTokenInvalid(a)
	}
	return true
}

func opRevoke(c *client) bool {
	u, t := c.someRefresh(false)
	if u == nil {
		return false
	}
	defer c.begin("revoke")()
	c.touch(u)
	a := c.call(http.MethodPost, "/v1/token/revoke/", map[string]any{"refresh": t.s}, "")
	if a.down {
		t.revoked = true // it may be: no later check relies on it either way
		u.refresh = removeToken(u.refresh, t)
		return true
	}
	st := u.refreshState(t, a.at)
	t.revoked = true
	if st == no || st == maybe && a.status == http.StatusUnauthorized {
		c.wantTokenInvalid(a)
		return true
	}
	if c.wantStatus(a, http.StatusOK) && len(a.obj) != 0 {
		c.fail("%s; want 200 {}", a)
	}
	return true
}

func removeToken(s []*refreshToken, t *refreshToken) []*refreshToken {
	out := s[:0]
	for _, x := range s {
		if x != t {
			out = append(out, x)
		}
	}
	return out
}

// opVerify verifies an access or refresh token of a user (live or not), or
// something that is no token.
func opVerify(c *client) bool {
	u := c.someUser(func(u *user) bool { return len(u.access)+len(u.refresh) > 0 })
	if g := c.someGhost(func(g *user) bool { return len(g.access)+len(g.refresh) > 0 }); g != nil && (u == nil || c.chance(0.1)) {
		u = g
	}
	defer c.begin("verify")()
	var (
		tok string
		st  func(at span) tri
	)
	switch {
	case u != nil && len(u.access) > 0 && (len(u.refresh) == 0 || c.chance(0.5)):
		t := u.access[c.rng.IntN(len(u.access))]
		tok = t.s
		st = func(at span) tri {
			// An access token stays valid for verify until it expires, even
			// after its refresh token was revoked. Whether a deleted user's
			// still verifies the contract does not say.
			if l := live(t.exp, at); u.deleted && l != no {
				return maybe
			} else {
				return l
			}
		}
	case u != nil && len(u.refresh) > 0:
		t := u.refresh[c.rng.IntN(len(u.refresh))]
		tok = t.s
		st = func(at span) tri { return u.refreshState(t, at) }
	default:
		tok = "eyJhbGciOiJub25lIn0." + c.randString(40) + "."
		st = func(span) tri { return no }
	}
	if u != nil {
		c.touch(u)
	}
	a := c.call(http.MethodPost, "/v1/token/verify/", map[string]any{"token": tok}, "")
	if a.down {
		return true
	}
	switch s := st(a.at); {
	case s == no || s == maybe && a.status == http.StatusUnauthorized:
		c.wantTokenInvalid(a)
	case c.wantStatus(a, http.StatusOK) && len(a.obj) != 0:
		c.fail("%s; want 200 {}", a)
	}
	return true
}

// opAdvance moves the server's clock just past one of the contract's
// lifetimes or windows.
func opAdvance(c *client) bool {
	by := c.pickAdvance()
	c.d.advance(by)
	c.d.countOp("clock_advance")
	return true
}
