package usersapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
)

func TestOutageIs503AndChangesNothing(t *testing.T) {
	t.Parallel()
	w := setup(t)
	u := w.signup(t, signupBody("ada@example.com", map[string]any{"username": "ada"}))
	_, confirmTok := w.lastLink(t, "ada@example.com", "Confirm")
	w.c.Do(http.MethodPost, resetMail, map[string]string{"email": "ada@example.com"})
	_, resetTok := w.lastLink(t, "ada@example.com", "Reset")
	jti := w.refreshToken(t, u.ID)
	mails := len(w.outbox.Messages())
	w.env.Clock.Advance(2 * time.Minute) // past the minute between emails

	calls := []struct {
		method, path string
		body         any
		auth         bool
	}{
		{http.MethodPost, "/v1/users/", signupBody("new@example.com", nil), false},
		{http.MethodGet, "/v1/users/me/", nil, true},
		{http.MethodPut, "/v1/users/me/", map[string]any{"first_name": "Eve", "last_name": "Evil", "phone": nil, "postcode": nil,
			"country": nil, "gender": nil, "age": nil}, true},
		{http.MethodPatch, "/v1/users/me/", map[string]any{"first_name": "Eve"}, true},
		{http.MethodPatch, "/v1/users/me/", map[string]any{"first_name": nil}, true}, // refused body: the refusal's read fails too
		{http.MethodDelete, "/v1/users/me/", map[string]any{"password": strongPassword}, true},
		{http.MethodPost, confirmPath, map[string]any{"email": "ada@example.com", "token": confirmTok}, false},
		{http.MethodPost, resendPath, map[string]any{"email": "ada@example.com"}, false},
		{http.MethodPost, resetMail, map[string]any{"email": "ada@example.com"}, false},
		{http.MethodPost, resetMail, map[string]any{"email": "nobody@example.com"}, false},
		{http.MethodPost, changePath, map[string]any{"old_password": strongPassword, "new_password": newPass, "new_password_confirm": newPass}, true},
		{http.MethodPost, resetPath, map[string]any{"email": "ada@example.com", "token": resetTok, "new_password": newPass, "new_password_confirm": newPass}, false},
	}
	func() {
		defer w.env.Outage()()
		for _, c := range calls {
			var opts []apitest.Option
			if c.auth {
				opts = append(opts, apitest.Bearer(u.access))
			}
			resp := w.c.Do(c.method, c.path, c.body, opts...)
			if resp.Status != http.StatusServiceUnavailable || string(resp.Body) != `{"detail":"Service temporarily unavailable."}` {
				t.Errorf("%s %s during an outage: %d %s", c.method, c.path, resp.Status, resp.Body)
			}
		}
	}()

	// Nothing was written, half or whole.
	if n := len(w.outbox.Messages()); n != mails {
		t.Errorf("%d emails sent during the outage", n-mails)
	}
	got := w.me(t, u.access)
	if deref(got.FirstName) != "Ada" || got.IsVerified {
		t.Errorf("the user changed: %s", describe(got))
	}
	if !w.passwordIs(t, u.ID, strongPassword) || !w.refreshTokenLives(t, u.ID, jti) {
		t.Error("the password changed or a refresh token went")
	}
	w.mustSignup(t, "new@example.com")
	if resp := w.c.Do(http.MethodPost, resetPath, map[string]any{"email": "ada@example.com", "token": resetTok,
		"new_password": newPass, "new_password_confirm": newPass}); resp.Status != 200 {
		t.Errorf("the reset token does not work after the outage: %d %s", resp.Status, resp.Body)
	}
	if resp := w.c.Do(http.MethodPost, confirmPath, map[string]any{"email": "ada@example.com", "token": confirmTok}); resp.Status != 200 {
		t.Errorf("the confirmation token does not work after the outage: %d %s", resp.Status, resp.Body)
	}
}

func TestLogsHoldNoPasswordTokenOrHash(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	w := setup(t, withLog(jsonLog(logs)))
	const pw = "Unusual-Passphrase-4242"
	body := signupBody("ada@example.com", map[string]any{"password": pw, "password_confirm": pw})
	u := w.signup(t, body)
	_, confirmTok := w.lastLink(t, "ada@example.com", "Confirm")
	bearer := apitest.Bearer(u.access)
	steps := []struct {
		method, path string
		body         any
		auth         bool
	}{
		{http.MethodPost, "/v1/users/", signupBody("ada@example.com", map[string]any{"password": pw, "password_confirm": pw}), false},
		{http.MethodPost, "/v1/users/", signupBody("eve@example.com", map[string]any{"password": pw, "password_confirm": pw + "x"}), false},
		{http.MethodPost, confirmPath, map[string]any{"email": "ada@example.com", "token": confirmTok + "x"}, false},
		{http.MethodPost, confirmPath, map[string]any{"email": "ada@example.com", "token": confirmTok}, false},
		{http.MethodGet, "/v1/users/me/", nil, true},
		{http.MethodPatch, "/v1/users/me/", map[string]any{"age": "36"}, true},
		{http.MethodPost, changePath, map[string]any{"old_password": pw + "x", "new_password": newPass, "new_password_confirm": newPass}, true},
		{http.MethodPost, changePath, map[string]any{"old_password": pw, "new_password": newPass, "new_password_confirm": newPass}, true},
		{http.MethodPost, resetMail, map[string]any{"email": "ada@example.com"}, false},
		{http.MethodPost, resetMail, map[string]any{"email": "nobody@example.com"}, false},
	}
	run := func(method, path string, body any, auth bool) {
		t.Helper()
		var opts []apitest.Option
		if auth {
			opts = append(opts, bearer)
		}
		if resp := w.c.Do(method, path, body, opts...); resp.Status >= 500 {
			t.Fatalf("%s %s: %d %s", method, path, resp.Status, resp.Body)
		}
	}
	for _, s := range steps {
		run(s.method, s.path, s.body, s.auth)
	}
	_, resetTok := w.lastLink(t, "ada@example.com", "Reset")
	const finalPw = "Yet-Another-Passphrase-99"
	run(http.MethodPost, resetPath, map[string]any{"email": "ada@example.com", "token": resetTok, "new_password": finalPw, "new_password_confirm": finalPw}, false)
	run(http.MethodDelete, "/v1/users/me/", map[string]any{"password": "wrong " + finalPw}, true)
	func() {
		defer w.env.Outage()()
		w.c.Do(http.MethodPost, changePath, map[string]any{"old_password": finalPw, "new_password": newPass, "new_password_confirm": newPass}, bearer)
	}()
	run(http.MethodDelete, "/v1/users/me/", map[string]any{"password": finalPw}, true)

	out := logs.String()
	if !strings.Contains(out, `"apigw_request_id"`) || !strings.Contains(out, "user signed up") || !strings.Contains(out, "dependency unavailable") {
		t.Fatalf("the flow was not logged as expected:\n%s", out)
	}
	secrets := map[string]string{
		"signup password": pw, "new password": newPass, "reset password": finalPw,
		"confirmation token": confirmTok, "reset token": resetTok, "access token": u.access,
		"argon2 hash prefix": "$argon2id$", "argon2 name": "argon2id",
	}
	for _, tok := range []string{confirmTok, resetTok} {
		sum := sha256.Sum256([]byte(tok))
		secrets["the stored hash of "+tok[:6]] = hex.EncodeToString(sum[:])
	}
	for name, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the log holds the %s", name)
		}
	}
}
