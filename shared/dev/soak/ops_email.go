package soak

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// mail is one email of the outbox, with its link's email and token.
type mail struct {
	id, to, subject string
	email, token    string
}

var firstURL = regexp.MustCompile(`https?://[^\s"<>]+`)

// outbox takes the emails sent to addr (any case) from GET /_aws/ses,
// deleting each once read, so that every email is seen once and the
// outbox does not grow over a long run.
func (c *client) outbox(addr string) []mail {
	var got struct {
		Messages []struct {
			ID          string `json:"Id"`
			Destination struct {
				ToAddresses []string
			}
			Subject string
			Body    struct {
				Text string `json:"text_part"`
			}
		} `json:"messages"`
	}
	body, err := c.outboxDo(http.MethodGet, "/_aws/ses?email="+url.QueryEscape(addr))
	if err == nil {
		err = json.Unmarshal(body, &got)
	}
	if err != nil {
		c.fail("read the outbox (GET /_aws/ses): %v", err)
		return nil
	}
	var out []mail
	for _, m := range got.Messages {
		if _, err := c.outboxDo(http.MethodDelete, "/_aws/ses?id="+url.QueryEscape(m.ID)); err != nil {
			c.fail("delete a read email (DELETE /_aws/ses?id=): %v", err)
		}
		e := mail{id: m.ID, to: strings.Join(m.Destination.ToAddresses, ", "), subject: m.Subject}
		if link, err := url.Parse(firstURL.FindString(m.Body.Text)); err == nil {
			e.email, e.token = link.Query().Get("email"), link.Query().Get("token")
		}
		out = append(out, e)
	}
	return out
}

func (c *client) outboxDo(method, path string) ([]byte, error) {
	c.d.outbox.Add(1)
	req, err := http.NewRequest(method, c.d.cfg.BaseURL+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode/100 != 2 {
		err = fmt.Errorf("%d %s", resp.StatusCode, clip(b, 200))
	}
	return b, err
}

// mailTo takes the emails sent to u's address and checks each: "an email
// is only ever sent to the address stored on the account", with a link
// carrying the address and a token of at least 20 characters.
func (c *client) mailTo(u *user) []mail {
	msgs := c.outbox(u.addr())
	for _, m := range msgs {
		if m.to != u.email {
			c.note("an email (%q) went to %q; the account's stored address is %q", m.subject, m.to, u.email)
		}
		if canonical(m.email) != u.addr() || len(m.token) < 20 {
			c.fail("an email (%q) to %s has no link carrying its address and a token of 20 characters or more (email %q, token %q)",
				m.subject, m.to, m.email, m.token)
		}
	}
	return msgs
}

// noMail checks that nothing was sent to addr.
func (c *client) noMail(addr string) {
	for _, m := range c.outbox(addr) {
		c.fail("an email (%q) went to %s, where none was due", m.subject, m.to)
	}
}

// The two email-sending routes.
const (
	routeConfirm = "resend-confirm-email"
	routeReset   = "send-reset-password-email"
)

func (c *client) mailLog(addr, route string) *mailLog {
	k := addr + " " + route
	if c.mail[k] == nil {
		c.mail[k] = &mailLog{}
	}
	return c.mail[k]
}

// sendEmail asks route to email addr (as email: the address in some case),
// which is u's (nil: no account has it), and checks what went out against
// the address's budget: at most one email per 60 s and 10 a day, and one
// owed when no earlier request can have spent the budget.
func (c *client) sendEmail(route string, u *user, addr, email string) {
	log := c.mailLog(addr, route)
	a := c.call(http.MethodPost, "/v1/users/"+route+"/", map[string]any{"email": email}, "")
	if a.down {
		// The budget may be spent and a token replaced; no email goes out
		// without a 200, but any that did is taken as sent.
		log.record(a.at, len(c.outbox(addr)) > 0)
		if u != nil {
			for _, t := range u.tokens(route) {
				t.doubtful = true
			}
		}
		return
	}
	if !c.wantDetail(a, http.StatusOK, "") {
		return
	}
	if first, ok := c.d.sameSendBody(route, a.body); !ok {
		c.fail("%s, another address got %s: the answer tells addresses apart", a, first)
	}
	var msgs []mail
	if u == nil || u.deleted {
		msgs = c.outbox(addr)
		for _, m := range msgs {
			c.fail("%s sent an email (%q) to %s, which has no account", a.req, m.subject, m.to)
		}
	} else {
		msgs = c.mailTo(u)
	}
	forbidden := log.forbidden(a.at)
	owed := !forbidden && log.owed(a.at) && u != nil && !u.deleted && (route == routeReset || u.verified == no)
	switch sent := len(msgs) > 0; {
	case len(msgs) > 1:
		c.fail("%s sent %d emails for one request", a.req, len(msgs))
	case sent && forbidden:
		c.fail("%s sent an email to %s less than 60 s after the last one (or past 10 in 24 h)", a.req, addr)
	case !sent && owed:
		c.fail("%s sent nothing to %s, though no request for the address in the last 60 s, nor 10 in the last 24 h, can have spent its budget",
			a.req, addr)
	}
	log.record(a.at, len(msgs) > 0)
	if len(msgs) == 0 || u == nil || u.deleted {
		return
	}
	life := confirmLifetime
	if route == routeReset {
		life = resetLifetime
	}
	// Whether a newer link ends the older ones the contract does not say.
	for _, t := range u.tokens(route) {
		t.doubtful = true
	}
	t := &emailToken{secret: msgs[0].token, email: msgs[0].email, exp: a.at.add(life).seconds()}
	if route == routeReset {
		u.reset = keepLast(append(u.reset, t))
	} else {
		u.confirm = keepLast(append(u.confirm, t))
	}
}

func (u *user) tokens(route string) []*emailToken {
	if route == routeReset {
		return u.reset
	}
	return u.confirm
}

// addressCase is u's address as a client may type it: as stored, or in
// another case (the same address in canonical form).
func (c *client) addressCase(email string) string {
	switch c.rng.IntN(5) {
	case 0:
		return caseVariant(email)
	case 1:
		return swapCase(email)
	}
	return email
}

func opSendEmail(route string) func(*client) bool {
	return func(c *client) bool {
		u := c.someUser(nil)
		if u == nil {
			return false
		}
		defer c.begin(strings.ReplaceAll(route, "-", "_"))()
		c.touch(u)
		c.sendEmail(route, u, u.addr(), c.addressCase(u.email))
		return true
	}
}

// opSendEmailNoAccount asks for an email to an address with no account:
// a new one, or a deleted user's. The answer is the same; nothing is sent.
func opSendEmailNoAccount(route string) func(*client) bool {
	return func(c *client) bool {
		defer c.begin(strings.ReplaceAll(route, "-", "_") + "_no_account")()
		email := c.newEmail()
		if g := c.someGhost(func(g *user) bool { return !c.hasAccount(g.email) && !c.tainted[g.addr()] }); g != nil && c.chance(0.5) {
			email = g.email
			c.touch(g)
		} else {
			// An address used once: its budget is of no later interest.
			defer delete(c.mail, canonical(email)+" "+route)
		}
		c.sendEmail(route, nil, canonical(email), c.addressCase(email))
		return true
	}
}

func opSendEmailMalformed(c *client) bool {
	defer c.begin("send_email_malformed_address")()
	route := c.pick([]string{routeConfirm, routeReset})
	bad := c.pick([]string{"not-an-email", "two@@example.com", "ada@localhost", "Ada <ada@example.com>"})
	if a := c.call(http.MethodPost, "/v1/users/"+route+"/", map[string]any{"email": bad}, ""); !a.down {
		c.wantField(a, "email")
	}
	return true
}

// someEmailToken picks a user (sometimes a deleted one) with a token for
// route, and one of them: mostly the newest, else any (used, expired,
// superseded).
func (c *client) someEmailToken(route string) (*user, *emailToken) {
	has := func(u *user) bool { return len(u.tokens(route)) > 0 }
	u := c.someUser(has)
	if g := c.someGhost(has); g != nil && (u == nil || c.chance(0.1)) {
		u = g
	}
	if u == nil {
		return nil, nil
	}
	ts := u.tokens(route)
	if c.chance(0.7) {
		return u, ts[len(ts)-1]
	}
	return u, ts[c.rng.IntN(len(ts))]
}

func opConfirmEmail(c *client) bool {
	u, t := c.someEmailToken(routeConfirm)
	if u == nil {
		return false
	}
	defer c.begin("confirm_email")()
	c.touch(u)
	c.confirmWith(u, t)
	return true
}

func (c *client) confirmWith(u *user, t *emailToken) {
	a := c.call(http.MethodPost, "/v1/users/confirm-email/", map[string]any{"email": t.email, "token": t.secret}, "")
	if a.down {
		t.doubtful = true // may be used now
		if u.verified == no {
			u.verified = maybe
		}
		return
	}
	st := u.emailTokenState(t, a.at)
	t.dead = true // used, or refused: either way it never works again
	if st == no || st == maybe && a.status == http.StatusBadRequest {
		c.wantField(a, "token")
		return
	}
	if c.wantDetail(a, http.StatusOK, "") {
		u.confirmed()
	}
}

// confirmed records a used confirmation link: the address is confirmed,
// and whether another unused link still works the contract does not say.
func (u *user) confirmed() {
	u.verified = yes
	for _, t := range u.confirm {
		t.doubtful = true
	}
}

// opEmailTokenWrong uses a token nobody was sent, for a live user's address.
func opEmailTokenWrong(c *client) bool {
	u := c.someUser(nil)
	if u == nil {
		return false
	}
	defer c.begin("email_token_wrong")()
	c.touch(u)
	var a *answer
	if c.chance(0.5) {
		a = c.call(http.MethodPost, "/v1/users/confirm-email/", map[string]any{"email": u.email, "token": c.randomToken()}, "")
	} else {
		pw := c.newPassword()
		a = c.call(http.MethodPost, "/v1/users/reset-password/", map[string]any{"email": u.email, "token": c.randomToken(),
			"new_password": pw, "new_password_confirm": pw}, "")
	}
	if !a.down {
		c.wantField(a, "token")
	}
	return true
}

func opResetPassword(c *client) bool {
	u, t := c.someEmailToken(routeReset)
	if u == nil {
		return false
	}
	defer c.begin("reset_password")()
	c.touch(u)
	c.resetWith(u, t)
	return true
}

func (c *client) resetWith(u *user, t *emailToken) {
	pw := c.newPassword()
	before := u.newestLiveRefresh(c.d.soon())
	a := c.call(http.MethodPost, "/v1/users/reset-password/", map[string]any{"email": t.email, "token": t.secret,
		"new_password": pw, "new_password_confirm": pw}, "")
	if a.down {
		c.lost(u) // the password may have changed
		return
	}
	st := u.emailTokenState(t, a.at)
	t.dead = true
	if st == no || st == maybe && a.status == http.StatusBadRequest {
		c.wantField(a, "token")
		return
	}
	if !c.wantDetail(a, http.StatusOK, "") {
		return
	}
	c.passwordReset(u, pw)
	// "After a reset or a change, the user's refresh tokens are revoked."
	if before != nil {
		c.refreshWith(u, before)
	}
}

// passwordReset records a reset: a new password, and an address that may
// or may not count as confirmed now (the contract does not say).
func (c *client) passwordReset(u *user, pw string) {
	u.passwordChanged(pw)
	if u.verified == no {
		u.verified = maybe
	}
}

// resetBreaks are resets refused for a reason other than the token; the
// contract says they do not use the token up.
var resetBreaks = []struct {
	name, field string // field: what the answer must name when the token is good
	pw, confirm func(c *client) string
}{
	{"passwords differ", "", func(c *client) string { return c.newPassword() }, func(c *client) string { return c.newPassword() }},
	{"numeric password", "new_password", func(*client) string { return "80512379614" }, func(*client) string { return "80512379614" }},
	{"common password", "new_password", func(*client) string { return "qwertyuiop" }, func(*client) string { return "qwertyuiop" }},
}

func opResetPasswordInvalid(c *client) bool {
	u, t := c.someEmailToken(routeReset)
	if u == nil {
		return false
	}
	defer c.begin("reset_password_refused")()
	c.touch(u)
	br := resetBreaks[c.rng.IntN(len(resetBreaks))]
	a := c.call(http.MethodPost, "/v1/users/reset-password/", map[string]any{"email": t.email, "token": t.secret,
		"new_password": br.pw(c), "new_password_confirm": br.confirm(c)}, "")
	if a.down {
		c.lost(u)
		return true
	}
	if !c.wantFieldErrors(a) {
		return true
	}
	if u.emailTokenState(t, a.at) == yes {
		if _, named := a.obj["token"]; named {
			c.fail("%s (%s): it names the token, which is good", a, br.name)
		}
		if br.field != "" && !isMessages(a.obj[br.field]) {
			c.fail("%s (%s); want %q among its fields", a, br.name, br.field)
		}
	}
	return true
}

func opChangePassword(c *client) bool {
	u, t := c.signedIn(func(u *user) bool { return u.checksLeft(c.d.soon()) > 0 })
	if t == nil {
		return false
	}
	defer c.begin("change_password")()
	c.touch(u)
	before := u.newestLiveRefresh(c.d.soon())
	pw := c.newPassword()
	a := c.call(http.MethodPost, "/v1/users/change-password/", map[string]any{"old_password": u.password,
		"new_password": pw, "new_password_confirm": pw}, t.s)
	if a.down {
		c.lost(u)
		return true
	}
	if !c.authed(a, u, t) || !c.passwordCheck(a, u, http.StatusOK, false) || !c.wantDetail(a, http.StatusOK, "") {
		return true
	}
	u.passwordChanged(pw)
	if before != nil {
		c.refreshWith(u, before) // revoked by the change
	}
	return true
}

// opChangePasswordRefused: a wrong old password (a failed check), or a
// new one the rules refuse (a good check). The password stays.
func opChangePasswordRefused(c *client) bool {
	u, t := c.signedIn(c.mayFail)
	if t == nil {
		return false
	}
	defer c.begin("change_password_refused")()
	c.touch(u)
	wrongOld := c.chance(0.5)
	old, pw, confirm, field := u.password, "80512379614", "80512379614", "new_password"
	switch {
	case wrongOld:
		old, pw, field = c.wrongPassword(u), c.newPassword(), "old_password"
		confirm = pw
	case c.chance(0.5):
		pw, confirm, field = c.newPassword(), c.newPassword(), ""
	}
	a := c.call(http.MethodPost, "/v1/users/change-password/", map[string]any{"old_password": old,
		"new_password": pw, "new_password_confirm": confirm}, t.s)
	if !c.authed(a, u, t) || !c.passwordCheck(a, u, http.StatusBadRequest, wrongOld) {
		return true
	}
	if field == "" {
		if c.wantFieldErrors(a) && a.obj["old_password"] != nil {
			c.fail("%s: it says the old password is wrong, and it is not", a)
		}
		return true
	}
	c.wantField(a, field)
	return true
}

func opChangePasswordNoToken(c *client) bool {
	defer c.begin("change_password_no_token")()
	pw := c.newPassword()
	a := c.call(http.MethodPost, "/v1/users/change-password/", map[string]any{"old_password": c.newPassword(),
		"new_password": pw, "new_password_confirm": pw}, "")
	if !a.down {
		c.wantForbidden(a)
	}
	return true
}
