package usersapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/store"
)

// suppress records what SES's feedback function records for addr.
func (w *world) suppress(t testing.TB, addr, reason string) {
	t.Helper()
	if _, err := w.env.Store.Suppress(t.Context(), store.Feedback{Address: addr, Reason: reason, Detail: "General",
		At: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), FeedbackID: "fb-" + addr}); err != nil {
		t.Fatal(err)
	}
}

// An address SES reported as bouncing or complaining gets no more email
// from either email route, and the answer, its DynamoDB work and the
// emails sent to others are what an address with no account gets: the
// suppression tells nobody whether the address has an account.
func TestSuppressedAddressesGetNoEmailAndTheAnswerDoesNotTell(t *testing.T) {
	t.Parallel()
	for _, route := range sendRoutes {
		t.Run(route.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			w.mustSignup(t, "ada@example.com")
			w.mustSignup(t, "bounced@example.com")
			w.mustSignup(t, "Complained@Example.com")
			w.suppress(t, "bounced@example.com", store.SuppressedBounce)
			// Another spelling of the same address: the canonical form is
			// what is suppressed.
			w.suppress(t, "complained@example.com", store.SuppressedComplaint)
			want := `{"detail":"` + route.detail + `"}`
			requests := map[string]int64{}
			for _, c := range []struct {
				addr string
				sent int
			}{
				{"ada@example.com", 1},
				{"nobody@example.com", 0},
				{"bounced@example.com", 0},
				{"Complained@Example.com", 0},
			} {
				before, mails := w.env.Requests.Load(), len(w.outbox.Messages())
				resp := w.c.Do(http.MethodPost, route.path, map[string]string{"email": c.addr})
				if resp.Status != 200 || string(resp.Body) != want {
					t.Fatalf("%s: %d %s, want 200 %s", c.addr, resp.Status, resp.Body, want)
				}
				requests[c.addr] = w.env.Requests.Load() - before
				if got := len(w.outbox.Messages()) - mails; got != c.sent {
					t.Errorf("%s: %d emails sent, want %d", c.addr, got, c.sent)
				}
			}
			if w.env.Faults == nil {
				for _, n := range requests {
					if n != requests["nobody@example.com"] {
						t.Errorf("DynamoDB requests differ by address: %v", requests)
						break
					}
				}
			}
		})
	}
}

// A new account on an address suppressed earlier (an account deleted,
// the address signed up again) is created, but its confirmation is not
// sent: one read more than a signup otherwise makes.
func TestSignupOnASuppressedAddressSendsNoConfirmation(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.suppress(t, "gone@example.com", store.SuppressedBounce)
	// A first signup reads the terms into the instance's copy, so the two
	// compared below meet the same instance.
	if resp := w.c.Do(http.MethodPost, "/v1/users/", signupBody("first@example.com", nil)); resp.Status != 201 {
		t.Fatalf("signup: %d %s", resp.Status, resp.Body)
	}
	before := w.env.Requests.Load()
	resp := w.c.Do(http.MethodPost, "/v1/users/", signupBody("gone@example.com", nil))
	if resp.Status != 201 {
		t.Fatalf("signup: %d %s", resp.Status, resp.Body)
	}
	suppressed := w.env.Requests.Load() - before
	if n := w.sent("gone@example.com"); n != 0 {
		t.Errorf("%d emails sent to a suppressed address", n)
	}
	before = w.env.Requests.Load()
	if resp := w.c.Do(http.MethodPost, "/v1/users/", signupBody("fresh@example.com", nil)); resp.Status != 201 {
		t.Fatalf("signup: %d %s", resp.Status, resp.Body)
	}
	if n := w.sent("fresh@example.com"); n != 1 {
		t.Errorf("%d confirmations sent to a fresh address, want 1", n)
	}
	if fresh := w.env.Requests.Load() - before; w.env.Faults == nil && fresh != suppressed {
		t.Errorf("signup made %d DynamoDB requests for a suppressed address, %d for another", suppressed, fresh)
	}
}
