package soak

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// maxUsers and maxGhosts bound what one client keeps: more users would
// only spread its operations thinner.
const (
	maxUsers  = 4
	maxGhosts = 4
)

// someUser is a random live user, or nil.
func (c *client) someUser(ok func(*user) bool) *user { return c.pickUser(c.users, ok) }

// someGhost is a random deleted user, or nil.
func (c *client) someGhost(ok func(*user) bool) *user { return c.pickUser(c.ghosts, ok) }

// pickUser is a random one of us that ok accepts (nil accepts all), or nil.
func (c *client) pickUser(us []*user, ok func(*user) bool) *user {
	var fit []*user
	for _, u := range us {
		if ok == nil || ok(u) {
			fit = append(fit, u)
		}
	}
	if len(fit) == 0 {
		return nil
	}
	return fit[c.rng.IntN(len(fit))]
}

// signedIn is a random live user that ok accepts with a live access token
// (logging in or refreshing first if need be); nil, nil when there is none.
func (c *client) signedIn(ok func(*user) bool) (*user, *accessToken) {
	u := c.someUser(ok)
	if u == nil {
		return nil, nil
	}
	t := c.liveToken(u)
	if t == nil {
		return nil, nil
	}
	return u, t
}

// signup is a signup form and the user the model expects it to make.
type signup struct {
	body  map[string]any
	user  *user
	terms []string // terms_accepted as sent (nil: absent)
}

// signupForm fills a valid form for email.
func (c *client) signupForm(email string) signup {
	ref := c.d.ref
	u := &user{email: email, first: c.pick(firstNames), last: c.pick(lastNames), password: c.newPassword(),
		profile: map[string]*string{}, org: ref.demo, verified: no, accepted: map[string]acceptance{}}
	body := map[string]any{"first_name": u.first, "last_name": u.last, "email": email,
		"password": u.password, "password_confirm": u.password}
	if c.chance(0.6) {
		name := c.newUsername()
		u.username = &name
		body["username"] = name
	}
	for _, f := range profileFields {
		if c.chance(0.4) {
			v := c.pick(optValues[f])
			u.profile[f] = &v
			body[f] = v
		}
	}
	// The organization: a code, or the Demo one by an absent, null or
	// empty code.
	codes := slices.Sorted(maps.Keys(ref.byCode))
	switch n := c.rng.IntN(8); {
	case n < 2 && len(codes) > 0:
		code := c.pick(codes)
		u.org = ref.byCode[code]
		body["organization_code"] = code
	case n == 2:
		body["organization_code"] = nil
	case n == 3:
		body["organization_code"] = ""
	}
	var terms []string
	current, _ := ref.current(c.d.soon())
	switch n := c.rng.IntN(5); {
	case n == 0:
		terms = []string{"*"}
	case n == 1:
		terms = []string{}
	case n == 2:
		for _, slug := range slices.Sorted(maps.Keys(current)) {
			if c.chance(0.5) {
				terms = append(terms, slug)
			}
		}
		if terms == nil {
			terms = []string{}
		}
	}
	if terms != nil {
		body["terms_accepted"] = terms
	}
	return signup{body: body, user: u, terms: terms}
}

// finished handles a signup's answer: on 201, checks the body and the
// confirmation email, and adds the user to the model.
func (c *client) finished(a *answer, s signup) *user {
	u := s.user
	if a.down {
		c.tainted[u.addr()] = true // the account may or may not exist
		return nil
	}
	if !c.wantStatus(a, http.StatusCreated) {
		c.tainted[u.addr()] = true
		return nil
	}
	c.wantNoStore(a)
	id, _ := a.obj["id"].(string)
	if _, ok := pufinid.ParseID(id); !ok {
		c.fail("%s: id %q is not a UUID", a, id)
		return nil
	}
	u.id = id
	current, _ := c.d.ref.current(a.at)
	for slug, t := range current {
		if slices.Contains(s.terms, "*") || slices.Contains(s.terms, slug) {
			u.accepted[slug] = acceptance{version: t.VersionNumber, first: a.at, last: a.at}
		}
	}
	c.users = append(c.users, u)
	c.touch(u)
	if p := u.bodyProblem(a.obj, c.d.ref, a.at); p != "" {
		c.fail("%s: its %s", a, p)
	}
	// "A confirmation email goes out with a link carrying email and token."
	msgs := c.mailTo(u)
	if len(msgs) != 1 {
		c.fail("signup of %s sent %d emails to the address, want 1 (the confirmation)", u.email, len(msgs))
	}
	for _, m := range msgs {
		u.confirm = keepLast(append(u.confirm, &emailToken{secret: m.token, email: m.email, exp: a.at.add(confirmLifetime).seconds()}))
	}
	return u
}

func opSignup(c *client) bool {
	if len(c.users) >= maxUsers {
		return false
	}
	defer c.begin("signup")()
	s := c.signupForm(c.signupEmail())
	c.finished(c.call(http.MethodPost, "/v1/users/", s.body, ""), s)
	return true
}

// opSignupDuplicateEmail signs up again with a live user's address in
// another case: the address is taken, compared case-insensitively.
func opSignupDuplicateEmail(c *client) bool {
	u := c.someUser(nil)
	if u == nil {
		return false
	}
	defer c.begin("signup_duplicate_email")()
	c.touch(u)
	variant := caseVariant(u.email)
	if c.chance(0.5) {
		variant = swapCase(u.email)
	}
	s := c.signupForm(variant)
	a := c.call(http.MethodPost, "/v1/users/", s.body, "")
	if a.down {
		return true
	}
	c.wantField(a, "email")
	c.noMail(u.addr())
	return true
}

// opSignupDuplicateUsername takes a live user's username in another case.
func opSignupDuplicateUsername(c *client) bool {
	u := c.someUser(func(u *user) bool { return u.username != nil })
	if u == nil {
		return false
	}
	defer c.begin("signup_duplicate_username")()
	c.touch(u)
	s := c.signupForm(c.newEmail())
	s.body["username"] = caseVariant(*u.username)
	a := c.call(http.MethodPost, "/v1/users/", s.body, "")
	if a.down {
		c.tainted[s.user.addr()] = true
		return true
	}
	if c.wantField(a, "username") {
		c.free = append(c.free, s.user.email) // a refused signup takes nothing
	}
	c.noMail(s.user.addr())
	return true
}

// signupBreaks are signups the contract refuses, each with the field it
// names ("" for any: passwords that differ may be named on either field).
var signupBreaks = []struct {
	name, field string
	required    bool // the field is missing: "This field is required."
	apply       func(c *client, body map[string]any)
}{
	{"passwords differ", "", false, func(c *client, b map[string]any) { b["password_confirm"] = c.newPassword() }},
	{"numeric password", "password", false, func(c *client, b map[string]any) {
		b["password"], b["password_confirm"] = "80512379614", "80512379614"
	}},
	{"common password", "password", false, func(c *client, b map[string]any) {
		b["password"], b["password_confirm"] = "password1", "password1"
	}},
	{"short password", "password", false, func(c *client, b map[string]any) {
		b["password"], b["password_confirm"] = "Ab1-xyz", "Ab1-xyz"
	}},
	{"password is the username", "password", false, func(c *client, b map[string]any) {
		name := "Quentin" + c.randString(6)
		b["username"], b["password"], b["password_confirm"] = name, name, name
	}},
	{"name too short", "first_name", false, func(c *client, b map[string]any) { b["first_name"] = "A" }},
	{"no last name", "last_name", true, func(c *client, b map[string]any) { delete(b, "last_name") }},
	{"no password", "password", true, func(c *client, b map[string]any) { delete(b, "password") }},
	{"unknown term", "terms_accepted", false, func(c *client, b map[string]any) { b["terms_accepted"] = []string{"no-such-term"} }},
	{"unknown organization", "organization_code", false, func(c *client, b map[string]any) {
		b["organization_code"] = "NO-SUCH-" + c.randString(5)
	}},
	{"optional field too long", "phone", false, func(c *client, b map[string]any) { b["phone"] = strings.Repeat("7", 21) }},
	{"malformed email", "email", false, func(c *client, b map[string]any) { b["email"] = "not-an-email" }},
}

func opSignupInvalid(c *client) bool {
	br := signupBreaks[c.rng.IntN(len(signupBreaks))]
	defer c.begin("signup_invalid")()
	s := c.signupForm(c.newEmail())
	br.apply(c, s.body)
	a := c.call(http.MethodPost, "/v1/users/", s.body, "")
	if a.down {
		c.tainted[s.user.addr()] = true
		return true
	}
	switch {
	case br.field == "":
		c.wantFieldErrors(a)
	case c.wantField(a, br.field) && br.required:
		if l, _ := stringList(a.obj[br.field]); !slices.Contains(l, msgRequired) {
			c.fail("%s (%s); want %q among its messages", a, br.name, msgRequired)
		}
	}
	if !c.failed {
		c.free = append(c.free, s.user.email)
	}
	c.noMail(s.user.addr())
	return true
}

// authed handles the part of an answer that depends on t, an access token
// of u, on a route that needs one: a token past its lifetime, or of a
// deleted user, gets 403. It reports whether the request got past
// authentication, so that the route's own answer is to be checked.
func (c *client) authed(a *answer, u *user, t *accessToken) bool {
	if a.down {
		return false
	}
	st := live(t.exp, a.at)
	if u.deleted {
		st = no
	}
	switch {
	case st == no:
		c.wantForbidden(a)
		return false
	case st == maybe && a.status == http.StatusForbidden:
		c.wantForbidden(a)
		return false
	}
	return true
}

// userPath is u's path: /v1/users/me/ or, sometimes, by its own id.
func (c *client) userPath(u *user) string {
	if c.chance(0.3) {
		return "/v1/users/" + u.id + "/"
	}
	return "/v1/users/me/"
}

// tokenFor is an access token for u: mostly one certainly live (logging in
// or refreshing first if needed), sometimes any u has, expired or not.
func (c *client) tokenFor(u *user) *accessToken {
	if !u.deleted && (len(u.access) == 0 || c.chance(0.85)) {
		return c.liveToken(u)
	}
	if len(u.access) == 0 {
		return nil
	}
	return u.access[c.rng.IntN(len(u.access))]
}

// liveOrGhost picks a live user (or, sometimes, a deleted one) with a token.
func (c *client) liveOrGhost() (*user, *accessToken) {
	u := c.someUser(nil)
	if g := c.someGhost(func(g *user) bool { return len(g.access) > 0 }); g != nil && (u == nil || c.chance(0.1)) {
		u = g
	}
	if u == nil {
		return nil, nil
	}
	t := c.tokenFor(u)
	if t == nil {
		return nil, nil
	}
	return u, t
}

func opGetUser(c *client) bool {
	u, t := c.liveOrGhost()
	if u == nil {
		return false
	}
	defer c.begin("user_get")()
	c.touch(u)
	c.getUser(u, t)
	return true
}

// getUser checks GET of u's body against the model.
func (c *client) getUser(u *user, t *accessToken) {
	a := c.call(http.MethodGet, c.userPath(u), nil, t.s)
	if !c.authed(a, u, t) || !c.wantStatus(a, http.StatusOK) {
		return
	}
	c.wantNoStore(a)
	if p := u.bodyProblem(a.obj, c.d.ref, a.at); p != "" {
		c.fail("%s: its %s", a, p)
	}
}

// update is a PUT or PATCH body and what it sets.
func (c *client) update(full bool) (body map[string]any, set map[string]*string) {
	body, set = map[string]any{}, map[string]*string{}
	fields := append([]string{"first_name", "last_name"}, profileFields...)
	for _, f := range fields {
		if !full && !c.chance(0.35) {
			continue
		}
		var v *string
		switch {
		case f == "first_name":
			v = ptr(c.pick(firstNames))
		case f == "last_name":
			v = ptr(c.pick(lastNames))
		case !full || c.chance(0.7): // PATCH takes no nulls
			v = ptr(c.pick(optValues[f]))
		}
		set[f] = v
		body[f] = strOrNil(v)
	}
	if len(body) == 0 {
		v := c.pick(optValues["country"])
		set["country"], body["country"] = &v, v
	}
	// Read-only fields are ignored.
	if c.chance(0.3) {
		body["email"] = c.newEmail()
		body["id"] = c.randomUUID()
		body["is_verified"] = true
	}
	return body, set
}

func ptr(s string) *string { return &s }

func (u *user) apply(set map[string]*string) {
	for f, v := range set {
		switch f {
		case "first_name":
			u.first = *v
		case "last_name":
			u.last = *v
		default:
			u.profile[f] = v
		}
	}
}

func opUpdateUser(c *client) bool {
	u := c.someUser(nil)
	if u == nil {
		return false
	}
	full := c.chance(0.4)
	t := c.tokenFor(u)
	if t == nil {
		return false
	}
	name := "user_patch"
	method := http.MethodPatch
	if full {
		name, method = "user_put", http.MethodPut
	}
	defer c.begin(name)()
	c.touch(u)
	body, set := c.update(full)
	a := c.call(method, c.userPath(u), body, t.s)
	if a.down {
		c.lost(u)
		return true
	}
	if !c.authed(a, u, t) || !c.wantStatus(a, http.StatusOK) {
		return true
	}
	u.apply(set)
	c.wantNoStore(a)
	if p := u.bodyProblem(a.obj, c.d.ref, a.at); p != "" {
		c.fail("%s: its %s", a, p)
	}
	return true
}

// updateBreaks are updates the contract refuses, with the field named.
var updateBreaks = []struct {
	name, method, field string
	required            bool
	apply               func(c *client, body map[string]any)
}{
	{"PUT without a field", http.MethodPut, "", true, nil}, // the field: one picked at random
	{"PATCH a name too short", http.MethodPatch, "first_name", false, func(c *client, b map[string]any) { b["first_name"] = "A" }},
	{"PATCH a null", http.MethodPatch, "phone", false, func(c *client, b map[string]any) { b["phone"] = nil }},
	{"PUT a field too long", http.MethodPut, "country", false, func(c *client, b map[string]any) { b["country"] = strings.Repeat("x", 21) }},
}

func opUpdateUserInvalid(c *client) bool {
	u, t := c.signedIn(nil)
	if t == nil {
		return false
	}
	defer c.begin("user_update_invalid")()
	c.touch(u)
	br := updateBreaks[c.rng.IntN(len(updateBreaks))]
	body, _ := c.update(br.method == http.MethodPut)
	field := br.field
	if br.apply != nil {
		br.apply(c, body)
	} else {
		field = c.pick(append([]string{"first_name", "last_name"}, profileFields...))
		delete(body, field)
	}
	a := c.call(br.method, c.userPath(u), body, t.s)
	if !c.authed(a, u, t) || !c.wantField(a, field) {
		return true
	}
	if l, _ := stringList(a.obj[field]); br.required && !slices.Contains(l, msgRequired) {
		c.fail("%s (%s); want %q among its messages", a, br.name, msgRequired)
	}
	return true
}

// opOtherUser sends GET, PUT, PATCH or DELETE for another user's id (one
// of the client's, a deleted one or an id nobody has): 404, and the other
// user is unchanged (later operations on it check that).
func opOtherUser(c *client) bool {
	u, t := c.signedIn(nil)
	if t == nil {
		return false
	}
	defer c.begin("user_other_id")()
	c.touch(u)
	other, otherPassword := c.randomUUID(), c.newPassword()
	if o := c.someUser(func(o *user) bool { return o != u }); o != nil && c.chance(0.6) {
		other, otherPassword = o.id, o.password
		c.touch(o)
	} else if g := c.someGhost(nil); g != nil && c.chance(0.5) {
		other = g.id
	}
	method := c.pick([]string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete})
	var body any
	switch method {
	case http.MethodPut, http.MethodPatch:
		body, _ = c.update(method == http.MethodPut)
	case http.MethodDelete:
		body = map[string]any{"password": otherPassword}
	}
	a := c.call(method, "/v1/users/"+other+"/", body, t.s)
	if !c.authed(a, u, t) {
		return true
	}
	c.wantNotFound(a)
	if strings.Contains(string(a.body), "@") {
		c.fail("%s: a 404 for another user's id shows an address", a)
	}
	return true
}

// opUserNoToken: the user routes need a token.
func opUserNoToken(c *client) bool {
	defer c.begin("user_no_token")()
	method := c.pick([]string{http.MethodGet, http.MethodPatch, http.MethodDelete})
	var body any
	if method != http.MethodGet {
		body = map[string]any{"password": c.newPassword(), "first_name": "Eve"}
	}
	bearer := ""
	if c.chance(0.5) {
		bearer = "not-a-token." + c.randString(20)
	}
	c.wantForbidden(c.call(method, "/v1/users/me/", body, bearer))
	return true
}

func opDeleteWrongPassword(c *client) bool {
	u, t := c.signedIn(func(u *user) bool { return c.mayFail(u) })
	if t == nil {
		return false
	}
	defer c.begin("user_delete_wrong_password")()
	c.touch(u)
	if c.chance(0.25) { // no password at all: refused before any check
		a := c.call(http.MethodDelete, c.userPath(u), map[string]any{"passwd": u.password}, t.s)
		if c.authed(a, u, t) && c.wantField(a, "password") {
			if l, _ := stringList(a.obj["password"]); !slices.Contains(l, msgRequired) {
				c.fail("%s; want %q among its messages", a, msgRequired)
			}
		}
		return true
	}
	a := c.call(http.MethodDelete, c.userPath(u), map[string]any{"password": c.wrongPassword(u)}, t.s)
	if c.authed(a, u, t) && c.passwordCheck(a, u, http.StatusBadRequest, true) {
		c.wantField(a, "password")
	}
	return true
}

func opDeleteUser(c *client) bool {
	u, t := c.signedIn(func(u *user) bool { return u.checksLeft(c.d.soon()) > 0 })
	if t == nil {
		return false
	}
	defer c.begin("user_delete")()
	c.touch(u)
	a := c.call(http.MethodDelete, c.userPath(u), map[string]any{"password": u.password}, t.s)
	if a.down {
		c.lost(u)
		return true
	}
	if !c.authed(a, u, t) || !c.passwordCheck(a, u, http.StatusNoContent, false) {
		return true
	}
	if !c.wantStatus(a, http.StatusNoContent) {
		return true
	}
	c.deleted(u)
	// "An access token still within its lifetime gets 403."
	if b := c.call(http.MethodGet, "/v1/users/me/", nil, t.s); !b.down {
		c.wantForbidden(b)
	}
	return true
}

// deleted records that u is gone: its data, login and refresh tokens, and
// its address may sign up again.
func (c *client) deleted(u *user) {
	u.deleted = true
	u.revokeAll()
	c.users = removeUser(c.users, u)
	c.ghosts = append(c.ghosts, u)
	if len(c.ghosts) > maxGhosts {
		c.ghosts = c.ghosts[1:]
	}
	c.free = append(c.free, u.email)
}
