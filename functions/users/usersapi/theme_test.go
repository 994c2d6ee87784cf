package usersapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/outbox"
	"github.com/pufinid/pufinid-api/shared/store"
)

// lastMessage is the newest email to addr.
func (w *world) lastMessage(t *testing.T, addr string) outbox.Stored {
	t.Helper()
	msgs := w.outbox.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Destination.ToAddresses[0] == addr {
			return msgs[i]
		}
	}
	t.Fatalf("no email to %s", addr)
	return outbox.Stored{}
}

// Every email an account gets wears its organization: the name in the
// subject and text, the logo and primary colour in the HTML (the demo
// test fixture's Acme), at signup, on resend and on reset; and the
// resend and reset read no more for it than the claim that finds the
// account, except for a claim written before claims carried it.
func TestEmailsWearTheAccountsOrganization(t *testing.T) {
	t.Parallel()
	w := setup(t)
	const addr = "lee@example.com"
	u := w.signup(t, signupBody(addr, map[string]any{"organization_code": "ACME"}))
	check := func(t *testing.T, what string) {
		t.Helper()
		m := w.lastMessage(t, addr)
		if !strings.Contains(m.Subject, "Acme") || !strings.Contains(m.Body.Text, "Acme") {
			t.Errorf("%s: subject %q or text does not name Acme", what, m.Subject)
		}
		for _, want := range []string{"#ff0000", `src="https://static.example/acme.png"`, `alt="Acme"`} {
			if !strings.Contains(m.Body.HTML, want) {
				t.Errorf("%s: the HTML part lacks %s", what, want)
			}
		}
	}
	check(t, "signup")

	send := func(t *testing.T, path string) int64 {
		t.Helper()
		before := w.env.Requests.Load()
		if resp := w.c.Do(http.MethodPost, path, map[string]string{"email": addr}); resp.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.Status, resp.Body)
		}
		return w.env.Requests.Load() - before
	}
	resend := send(t, "/v1/users/resend-confirm-email/")
	check(t, "resend")
	w.env.Clock.Advance(61e9) // past the per-address minute
	send(t, "/v1/users/send-reset-password-email/")
	check(t, "reset")
	// The address's budget item exists from here on: the next reset's
	// requests are every later one's.
	w.env.Clock.Advance(61e9)
	reset := send(t, "/v1/users/send-reset-password-email/")

	// A claim as the store wrote it before claims carried the organization.
	w.env.PutItems(map[string]any{store.AttrPK: "EMAIL#" + addr, store.AttrSK: "CLAIM", "user_id": u.ID, "email": addr})
	w.env.Clock.Advance(61e9)
	legacy := send(t, "/v1/users/send-reset-password-email/")
	check(t, "reset through a claim from before")
	// (Injected faults add requests at random, so the counts are only
	// compared without them.)
	if w.env.Faults == nil && legacy != reset+1 {
		t.Errorf("reset made %d DynamoDB requests, %d through an old claim: want exactly one more (its profile)", reset, legacy)
	}
	t.Logf("DynamoDB requests: resend %d (the first of its route), reset %d, reset through an old claim %d", resend, reset, legacy)
}
