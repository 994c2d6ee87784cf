package soak

import (
	"encoding/json"
	"maps"
	"net/http"
	"sync"
)

// The deliberate races: one client sends several requests on one target at
// once. Their checks count outcomes, so they hold whatever order the server
// serialized the requests in.

// race sends every request at once and returns the answers in order.
func (c *client) race(method, path, bearer string, bodies []any) []*answer {
	out := make([]*answer, len(bodies))
	var wg sync.WaitGroup
	for i, b := range bodies {
		raw, err := json.Marshal(b)
		if err != nil {
			panic(err)
		}
		wg.Go(func() { out[i] = c.send(method, path, "application/json", raw, true, bearer) })
	}
	wg.Wait()
	return out
}

// tally counts answers by status; down counts those without a usable one.
func tally(as []*answer) (by map[int]int, down int) {
	by = map[int]int{}
	for _, a := range as {
		if a.down {
			down++
			continue
		}
		by[a.status]++
	}
	return by, down
}

// opRaceSignup signs one new address up three times at once, in three
// cases: exactly one signup makes the account.
func opRaceSignup(c *client) bool {
	if len(c.users) >= maxUsers {
		return false
	}
	defer c.begin("race_signup_one_address")()
	email := c.newEmail()
	// One form in three cases of the address, and no username, so that
	// only the address is shared; whichever wins, the model is the same
	// but for the address's case (and a replay draws the same numbers).
	form := c.signupForm(email)
	delete(form.body, "username")
	form.user.username = nil
	forms := make([]signup, 3)
	bodies := make([]any, 3)
	for i, e := range []string{email, caseVariant(email), swapCase(email)} {
		u := *form.user
		u.email, u.profile, u.accepted = e, maps.Clone(form.user.profile), map[string]acceptance{}
		body := maps.Clone(form.body)
		body["email"] = e
		forms[i], bodies[i] = signup{body: body, user: &u, terms: form.terms}, body
	}
	as := c.race(http.MethodPost, "/v1/users/", "", bodies)
	by, down := tally(as)
	if down > 0 {
		c.tainted[canonical(email)] = true
		return true
	}
	if by[http.StatusCreated] != 1 {
		c.fail("3 signups of %s at once (in three cases) got %v; want exactly one 201", email, by)
		c.tainted[canonical(email)] = true
		return true
	}
	for i, a := range as {
		if a.status != http.StatusCreated {
			c.wantField(a, "email")
			continue
		}
		c.finished(a, forms[i])
	}
	return true
}

// opRaceConfirm uses one good confirmation link three times at once.
func opRaceConfirm(c *client) bool {
	u, t := c.goodToken(routeConfirm)
	if u == nil {
		return false
	}
	defer c.begin("race_confirm_one_token")()
	c.touch(u)
	body := map[string]any{"email": t.email, "token": t.secret}
	as, ok := c.raceToken(u, t, "/v1/users/confirm-email/", "confirmations", []any{body, body, body})
	if !ok {
		return true
	}
	for _, a := range as {
		if a.status == http.StatusOK {
			c.wantDetail(a, http.StatusOK, "")
		} else {
			c.wantField(a, "token")
		}
	}
	u.confirmed()
	return true
}

// raceToken posts bodies, each using u's emailed token t, to path at once:
// the token is spent, and exactly one may succeed (single use). ok is false
// when the answers need no more checking: an outage made u's state
// unknown, or the single-use check failed (what names the requests).
func (c *client) raceToken(u *user, t *emailToken, path, what string, bodies []any) (as []*answer, ok bool) {
	as = c.race(http.MethodPost, path, "", bodies)
	t.dead = true
	by, down := tally(as)
	if down > 0 {
		c.lost(u)
		return as, false
	}
	if by[http.StatusOK] != 1 {
		c.fail("%d %s with one token at once got %v; want exactly one 200 (single use)", len(bodies), what, by)
		return as, false
	}
	return as, true
}

// goodToken is a user with an emailed token for route certainly good now.
func (c *client) goodToken(route string) (*user, *emailToken) {
	now := c.d.soon()
	for _, u := range c.users {
		ts := u.tokens(route)
		if len(ts) > 0 && u.emailTokenState(ts[len(ts)-1], now) == yes {
			return u, ts[len(ts)-1]
		}
	}
	return nil, nil
}

// opRaceReset uses one good reset link three times at once, each with its
// own new password: exactly one reset, and its password is the one.
func opRaceReset(c *client) bool {
	u, t := c.goodToken(routeReset)
	if u == nil {
		return false
	}
	defer c.begin("race_reset_one_token")()
	c.touch(u)
	pws := []string{c.newPassword(), c.newPassword(), c.newPassword()}
	bodies := make([]any, len(pws))
	for i, pw := range pws {
		bodies[i] = map[string]any{"email": t.email, "token": t.secret, "new_password": pw, "new_password_confirm": pw}
	}
	as, ok := c.raceToken(u, t, "/v1/users/reset-password/", "resets", bodies)
	if !ok {
		return true
	}
	for i, a := range as {
		if a.status == http.StatusOK {
			c.passwordReset(u, pws[i])
		} else {
			c.wantField(a, "token")
		}
	}
	return true
}

// opRaceRevoke revokes one live refresh token three times at once: the
// oldest of a user with another (so that the user need not log in again).
func opRaceRevoke(c *client) bool {
	var u *user
	var t *refreshToken
	now := c.d.soon()
	for _, x := range c.users {
		var lives []*refreshToken
		for _, rt := range x.refresh {
			if x.refreshState(rt, now) == yes {
				lives = append(lives, rt)
			}
		}
		if len(lives) >= 2 {
			u, t = x, lives[0]
			break
		}
	}
	if u == nil {
		return false
	}
	defer c.begin("race_revoke_one_token")()
	c.touch(u)
	body := map[string]any{"refresh": t.s}
	as := c.race(http.MethodPost, "/v1/token/revoke/", "", []any{body, body, body})
	t.revoked = true
	by, down := tally(as)
	if down == 0 && by[http.StatusOK] != 1 {
		c.fail("3 revocations of one refresh token at once got %v; want exactly one 200", by)
		return true
	}
	for _, a := range as {
		if !a.down && a.status != http.StatusOK {
			c.wantTokenInvalid(a)
		}
	}
	return true
}

// opRaceDelete deletes one user three times at once, with the right
// password: one 204; the others find the token's user gone (403).
func opRaceDelete(c *client) bool {
	now := c.d.soon()
	u, t := c.signedIn(func(u *user) bool { return u.checksLeft(now) >= 3 && countWithin(u.failures, loginWindow, now) == 0 })
	if t == nil {
		return false
	}
	defer c.begin("race_delete_one_user")()
	c.touch(u)
	body := map[string]any{"password": u.password}
	as := c.race(http.MethodDelete, "/v1/users/me/", t.s, []any{body, body, body})
	for _, a := range as {
		u.checked(a.at, a.down)
	}
	by, down := tally(as)
	if down > 0 {
		c.lost(u)
		return true
	}
	if by[http.StatusNoContent] != 1 || by[http.StatusForbidden] != 2 {
		c.fail("3 deletions of one user at once got %v; want one 204 and two 403 (the token's user is gone)", by)
		return true
	}
	for _, a := range as {
		if a.status == http.StatusForbidden {
			c.wantForbidden(a)
		}
	}
	c.deleted(u)
	return true
}

// raceRightLogins is how many logins opRaceRightLogins sends at once.
const raceRightLogins = 3

// opRaceRightLogins logs one account in a few times at once, with its
// password and no failure in the window before: every login succeeds, and
// every refresh token they answer refreshes. Each login records its token
// in the account's record, a write conditional on the tokens the record
// held, which the logins that lose the race compute again.
func opRaceRightLogins(c *client) bool {
	now := c.d.soon()
	u := c.someUser(func(u *user) bool {
		return countWithin(u.failures, loginWindow, now) == 0 && countWithin(u.checks, loginWindow, now)+raceRightLogins <= loginAccountChecks-5
	})
	if u == nil {
		return false
	}
	defer c.begin("race_right_logins")()
	c.touch(u)
	bodies := make([]any, raceRightLogins)
	for i := range bodies {
		bodies[i] = map[string]any{"username": c.loginName(u), "password": u.password}
	}
	var fresh []*refreshToken
	for _, a := range c.race(http.MethodPost, "/v1/token/", "", bodies) {
		if c.loggedIn(u, a) != nil {
			fresh = append(fresh, u.refresh[len(u.refresh)-1])
		}
	}
	for _, t := range fresh {
		c.refreshWith(u, t)
	}
	return true
}

// raceLogins is how many wrong passwords opRaceLogin sends at once.
const raceLogins = 7

// opRaceLogin sends wrong passwords for one account from one source, all at
// once, with no failure in the window before: "capped atomically, whatever
// the parallelism", so exactly 5 get the 401 and the rest 429.
func opRaceLogin(c *client) bool {
	now := c.d.soon()
	u := c.someUser(func(u *user) bool {
		return countWithin(u.failures, loginWindow, now) == 0 && countWithin(u.checks, loginWindow, now)+raceLogins <= loginAccountChecks-5
	})
	if u == nil {
		return false
	}
	defer c.begin("race_wrong_passwords")()
	c.touch(u)
	bodies := make([]any, raceLogins)
	for i := range bodies {
		bodies[i] = map[string]any{"username": u.email, "password": c.newPassword()}
	}
	as := c.race(http.MethodPost, "/v1/token/", "", bodies)
	for _, a := range as {
		u.checked(a.at, true)
	}
	by, down := tally(as)
	if down > 0 {
		return true
	}
	defer c.login(u, u.email) // then the right password, from the same source: a 429 is allowed
	if by[http.StatusUnauthorized] != loginFailureLimit || by[http.StatusTooManyRequests] != raceLogins-loginFailureLimit {
		// The model counted every attempt as a failure: it still holds.
		c.note("%d wrong passwords for %s at once from one source, with no failure in the 15 minutes before, got %v; "+
			"want %d × 401 then the rest 429 (password checks are capped atomically, whatever the parallelism)",
			raceLogins, u.email, by, loginFailureLimit)
		return true
	}
	for _, a := range as {
		if a.status == http.StatusUnauthorized {
			c.wantDetail(a, http.StatusUnauthorized, msgNoAccount)
		} else {
			c.wantThrottled(a)
		}
	}
	return true
}

// opRaceResend asks for the confirmation email three times at once when
// one is owed: exactly one goes out.
func opRaceResend(c *client) bool {
	now := c.d.soon()
	u := c.someUser(func(u *user) bool {
		return u.verified == no && c.mailLog(u.addr(), routeConfirm).owed(now)
	})
	if u == nil {
		return false
	}
	defer c.begin("race_resend_confirm_email")()
	c.touch(u)
	body := map[string]any{"email": u.email}
	as := c.race(http.MethodPost, "/v1/users/"+routeConfirm+"/", "", []any{body, body, body})
	log := c.mailLog(u.addr(), routeConfirm)
	msgs := c.mailTo(u)
	by, down := tally(as)
	for i, a := range as {
		log.record(a.at, false)
		if i == len(as)-1 && len(msgs) > 0 {
			log.record(spanOf(as), true) // sent by one of them
		}
	}
	if down > 0 {
		c.lost(u)
		return true
	}
	if by[http.StatusOK] != len(as) || len(msgs) != 1 {
		c.fail("3 resend-confirm-email for %s at once, with an email owed, got %v and sent %d emails; want all 200 and exactly one email",
			u.email, by, len(msgs))
		return true
	}
	for _, t := range u.confirm {
		t.doubtful = true
	}
	u.confirm = keepLast(append(u.confirm, &emailToken{secret: msgs[0].token, email: msgs[0].email,
		exp: spanOf(as).add(confirmLifetime).seconds()}))
	return true
}

// spanOf is when any of as was answered.
func spanOf(as []*answer) span {
	s := as[0].at
	for _, a := range as[1:] {
		if a.at.lo.Before(s.lo) {
			s.lo = a.at.lo
		}
		if a.at.hi.After(s.hi) {
			s.hi = a.at.hi
		}
	}
	return s
}
