package usersapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/password"
)

const (
	changePath = "/v1/users/change-password/"
	resetPath  = "/v1/users/reset-password/"
	newPass    = "a brand new passphrase 77"
)

// passwordIs reports whether userID's stored password is pw.
func (w *world) passwordIs(t testing.TB, userID, pw string) bool {
	t.Helper()
	acct, err := w.env.Store.Account(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	ok, _, err := password.Verify(pw, acct.User.PasswordHash)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	w := setup(t)
	u := w.signup(t, signupBody("ada@example.com", map[string]any{"username": "quixotically"}))
	jti := w.refreshToken(t, u.ID)
	refused := []struct {
		name string
		body map[string]any
		want map[string]string
	}{
		{"missing fields", map[string]any{}, map[string]string{"old_password": "This field is required.",
			"new_password": "This field is required.", "new_password_confirm": "This field is required."}},
		{"wrong old password", map[string]any{"old_password": "not it at all", "new_password": newPass, "new_password_confirm": newPass},
			map[string]string{"old_password": "Your old password was entered incorrectly."}},
		{"new passwords differ", map[string]any{"old_password": strongPassword, "new_password": newPass, "new_password_confirm": newPass + "!"},
			map[string]string{"new_password_confirm": "Passwords do not match."}},
		{"new password too short", map[string]any{"old_password": strongPassword, "new_password": "x1!", "new_password_confirm": "x1!"},
			map[string]string{"new_password": "at least 8"}},
		{"new password too common", map[string]any{"old_password": strongPassword, "new_password": "iloveyou", "new_password_confirm": "iloveyou"},
			map[string]string{"new_password": "too common"}},
		{"new password like the username", map[string]any{"old_password": strongPassword, "new_password": "Quixotically", "new_password_confirm": "Quixotically"},
			map[string]string{"new_password": "too similar to the username"}},
		{"every problem at once", map[string]any{"old_password": "nope", "new_password": "12345678901", "new_password_confirm": "1"},
			map[string]string{"old_password": "incorrectly", "new_password": "entirely numeric", "new_password_confirm": "do not match"}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			expectFields(t, fieldErrors(t, w.c.Do(http.MethodPost, changePath, tc.body, apitest.Bearer(u.access))), tc.want)
		})
	}
	if !w.passwordIs(t, u.ID, strongPassword) || !w.refreshTokenLives(t, u.ID, jti) {
		t.Fatal("a refused change changed something")
	}
	for _, tc := range []struct {
		name string
		opts []apitest.Option
	}{{"no token", nil}, {"token of a user that does not exist", []apitest.Option{apitest.Bearer(w.env.AccessToken("8a6e0804-2bd0-4672-b79d-d97027f9071a"))}}} {
		resp := w.c.Do(http.MethodPost, changePath, map[string]any{"old_password": strongPassword, "new_password": newPass, "new_password_confirm": newPass}, tc.opts...)
		if resp.Status != http.StatusForbidden {
			t.Fatalf("%s: %d %s", tc.name, resp.Status, resp.Body)
		}
	}

	resp := w.c.Do(http.MethodPost, changePath, map[string]any{"old_password": strongPassword, "new_password": newPass, "new_password_confirm": newPass}, apitest.Bearer(u.access))
	if resp.Status != http.StatusOK || string(resp.Body) != `{"detail":"Your password has been changed."}` {
		t.Fatalf("change: %d %s", resp.Status, resp.Body)
	}
	if !w.passwordIs(t, u.ID, newPass) {
		t.Fatal("the new password does not check")
	}
	if w.refreshTokenLives(t, u.ID, jti) {
		t.Fatal("a refresh token survived the change")
	}
	// The old password is now the wrong one.
	resp = w.c.Do(http.MethodPost, changePath, map[string]any{"old_password": strongPassword, "new_password": newPass + "2", "new_password_confirm": newPass + "2"}, apitest.Bearer(u.access))
	expectFields(t, fieldErrors(t, resp), map[string]string{"old_password": "incorrectly"})
}

func TestResetPassword(t *testing.T) {
	t.Parallel()
	w := setup(t)
	u := w.signup(t, signupBody("ada@example.com", map[string]any{"username": "quixotically"}))
	jti := w.refreshToken(t, u.ID)
	w.mustSignup(t, "bob@example.com")
	w.c.Do(http.MethodPost, resetMail, map[string]string{"email": "ada@example.com"})
	w.c.Do(http.MethodPost, resetMail, map[string]string{"email": "bob@example.com"})
	email, tok := w.lastLink(t, "ada@example.com", "Reset")
	_, bobTok := w.lastLink(t, "bob@example.com", "Reset")
	if email != "ada@example.com" || len(tok) < 20 {
		t.Fatalf("reset link email %q token %q", email, tok)
	}
	body := func(changes map[string]any) map[string]any {
		b := map[string]any{"email": email, "token": tok, "new_password": newPass, "new_password_confirm": newPass}
		for k, v := range changes {
			b[k] = v
		}
		return b
	}
	refused := []struct {
		name string
		body map[string]any
		want map[string]string
	}{
		{"missing fields", map[string]any{}, map[string]string{"email": "required", "token": "required",
			"new_password": "required", "new_password_confirm": "required"}},
		{"passwords differ", body(map[string]any{"new_password_confirm": "something else 9"}), map[string]string{"new_password_confirm": "do not match"}},
		{"weak password", body(map[string]any{"new_password": "qwertyuiop", "new_password_confirm": "qwertyuiop"}), map[string]string{"new_password": "too common"}},
		{"password like the username", body(map[string]any{"new_password": "quixotically", "new_password_confirm": "quixotically"}),
			map[string]string{"new_password": "too similar to the username"}},
		{"wrong token", body(map[string]any{"token": tok[:len(tok)-1] + "x"}), map[string]string{"token": "invalid"}},
		{"another user's token", body(map[string]any{"token": bobTok}), map[string]string{"token": "invalid"}},
		{"an address without an account", body(map[string]any{"email": "nobody@example.com"}), map[string]string{"token": "invalid"}},
		{"malformed email", body(map[string]any{"email": "ada"}), map[string]string{"email": "valid email"}},
		{"bad token and passwords differ", body(map[string]any{"token": bobTok, "new_password_confirm": "x"}),
			map[string]string{"token": "invalid", "new_password_confirm": "do not match"}},
		{"the confirmation token is not a reset token", body(map[string]any{"token": func() string {
			_, c := w.lastLink(t, "ada@example.com", "Confirm")
			return c
		}()}), map[string]string{"token": "invalid"}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			expectFields(t, fieldErrors(t, w.c.Do(http.MethodPost, resetPath, tc.body)), tc.want)
		})
	}
	if !w.passwordIs(t, u.ID, strongPassword) || !w.refreshTokenLives(t, u.ID, jti) {
		t.Fatal("a refused reset changed something")
	}

	// None of the refusals used the token up.
	resp := w.c.Do(http.MethodPost, resetPath, body(map[string]any{"email": "ADA@example.com"}))
	if resp.Status != http.StatusOK {
		t.Fatalf("reset: %d %s", resp.Status, resp.Body)
	}
	if !w.passwordIs(t, u.ID, newPass) || w.refreshTokenLives(t, u.ID, jti) {
		t.Fatal("after the reset: new password not set, or a refresh token survived")
	}
	if got := w.me(t, u.access); !got.IsVerified {
		t.Fatal("a reset link proves the address, but is_verified is false")
	}
	resp = w.c.Do(http.MethodPost, resetPath, body(map[string]any{"new_password": newPass + "2", "new_password_confirm": newPass + "2"}))
	expectFields(t, fieldErrors(t, resp), map[string]string{"token": "invalid"})
}

func TestResetTokensExpireAfterAnHour(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.mustSignup(t, "ada@example.com")
	w.c.Do(http.MethodPost, resetMail, map[string]string{"email": "ada@example.com"})
	email, tok := w.lastLink(t, "ada@example.com", "Reset")
	w.env.Clock.Advance(time.Hour)
	resp := w.c.Do(http.MethodPost, resetPath, map[string]any{"email": email, "token": tok, "new_password": newPass, "new_password_confirm": newPass})
	expectFields(t, fieldErrors(t, resp), map[string]string{"token": "invalid"})
}

func TestParallelResetsWithOneTokenSucceedOnce(t *testing.T) {
	t.Parallel()
	contended(t, func(t *testing.T, w *world) {
		u := w.mustSignup(t, "ada@example.com")
		w.c.Do(http.MethodPost, resetMail, map[string]string{"email": "ada@example.com"})
		email, tok := w.lastLink(t, "ada@example.com", "Reset")
		statuses := make([]int, 4)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Go(func() {
				pw := newPass + string(rune('a'+i))
				statuses[i] = w.c.Do(http.MethodPost, resetPath, map[string]any{"email": email, "token": tok, "new_password": pw, "new_password_confirm": pw}).Status
			})
		}
		wg.Wait()
		winners := 0
		for i, s := range statuses {
			if s == http.StatusOK {
				winners++
				if !w.passwordIs(t, u.ID, newPass+string(rune('a'+i))) {
					t.Error("the stored password is not the winner's")
				}
			} else if s != http.StatusBadRequest {
				t.Errorf("status %d", s)
			}
		}
		if winners != 1 {
			t.Fatalf("%d parallel resets with one token succeeded: %v", winners, statuses)
		}
	})
}
