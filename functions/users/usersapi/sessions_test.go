package usersapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
)

// Ending every session of a user (change-password, reset-password,
// DELETE) makes the same DynamoDB requests whatever their number of
// refresh tokens: one live, a full bound of them, or the bound and 80
// items of tokens from before the bound.
func TestEndingEverySessionCostsTheSameWhateverTheTokens(t *testing.T) {
	t.Parallel()
	counts := []int{1, 130}
	routes := []struct {
		name string
		call func(t *testing.T, w *world, u user) *apitest.Response
	}{
		{"change-password", func(t *testing.T, w *world, u user) *apitest.Response {
			return w.c.Do(http.MethodPost, changePath, map[string]string{"old_password": strongPassword,
				"new_password": newPass, "new_password_confirm": newPass}, apitest.Bearer(u.access))
		}},
		{"reset-password", func(t *testing.T, w *world, u user) *apitest.Response {
			email, tok := w.lastLink(t, u.Email, "Reset")
			return w.c.Do(http.MethodPost, resetPath, map[string]string{"email": email, "token": tok,
				"new_password": newPass, "new_password_confirm": newPass})
		}},
		{"DELETE", func(t *testing.T, w *world, u user) *apitest.Response {
			return w.c.Do(http.MethodDelete, "/v1/users/me/", map[string]string{"password": strongPassword}, apitest.Bearer(u.access))
		}},
	}
	for _, r := range routes {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			var requests []int64
			for i, n := range counts {
				u := w.mustSignup(t, fmt.Sprintf("ada%d@example.com", i))
				seedRefreshTokens(t, w, u.ID, n)
				w.env.Clock.Advance(2 * time.Minute) // past the minute between emails
				if r.name == "reset-password" {
					// Its email is sent before the requests are counted.
					w.c.Do(http.MethodPost, resetMail, map[string]string{"email": u.Email})
					w.env.Clock.Advance(2 * time.Minute)
				}
				before := w.env.Requests.Load()
				if resp := r.call(t, w, u); resp.Status >= 300 {
					t.Fatalf("%d tokens: %d %s", n, resp.Status, resp.Body)
				}
				requests = append(requests, w.env.Requests.Load()-before)
				if w.refreshTokenLives(t, u.ID, "kept-00") {
					t.Errorf("%d tokens: a refresh token survived", n)
				}
			}
			if w.env.Faults == nil && requests[0] != requests[1] {
				t.Errorf("requests with %v tokens: %v; want the same", counts, requests)
			}
			t.Logf("%s: %v DynamoDB requests with %v refresh tokens", r.name, requests, counts)
		})
	}
}

// The profile item holds the user's refresh tokens (their ids and
// expiries); the user body shows nothing of them.
func TestTheUserBodyShowsNoRefreshToken(t *testing.T) {
	t.Parallel()
	w := setup(t)
	u := w.mustSignup(t, "ada@example.com")
	jti := w.refreshToken(t, u.ID)
	resp := w.c.Do(http.MethodGet, "/v1/users/me/", nil, apitest.Bearer(u.access))
	if resp.Status != http.StatusOK || strings.Contains(string(resp.Body), jti) || strings.Contains(string(resp.Body), "refresh") {
		t.Fatalf("GET me with a refresh token: %d %s", resp.Status, resp.Body)
	}
}
