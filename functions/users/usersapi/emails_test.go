package usersapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/functions/users/usersapi"
	"github.com/pufinid/pufinid-api/shared/dev/outbox"
	"github.com/pufinid/pufinid-api/shared/mailer"
	"github.com/pufinid/pufinid-api/shared/mailer/sesmail"
)

const (
	confirmPath = "/v1/users/confirm-email/"
	resendPath  = "/v1/users/resend-confirm-email/"
	resetMail   = "/v1/users/send-reset-password-email/"
)

func TestConfirmEmail(t *testing.T) {
	t.Parallel()
	w := setup(t)
	ada := w.mustSignup(t, "ada@example.com")
	w.mustSignup(t, "bob@example.com")
	_, adaTok := w.lastLink(t, "ada@example.com", "Confirm")
	_, bobTok := w.lastLink(t, "bob@example.com", "Confirm")
	badToken := `{"token":["This link is invalid, has expired or was already used."]}`
	steps := []struct {
		name   string
		body   map[string]any
		status int
		want   string
	}{
		{"missing fields", map[string]any{}, 400, `{"email":["This field is required."],"token":["This field is required."]}`},
		{"malformed email", map[string]any{"email": "ada", "token": adaTok}, 400, `{"email":["Enter a valid email address."]}`},
		{"wrong token", map[string]any{"email": "ada@example.com", "token": strings.Repeat("A", 43)}, 400, badToken},
		{"short token", map[string]any{"email": "ada@example.com", "token": "abc"}, 400, badToken},
		{"another user's token", map[string]any{"email": "ada@example.com", "token": bobTok}, 400, badToken},
		{"an address without an account", map[string]any{"email": "nobody@example.com", "token": adaTok}, 400, badToken},
		{"the right token, the address in another case", map[string]any{"email": "ADA@example.com", "token": adaTok}, 200, `{"detail":"Your email address is confirmed."}`},
		{"used once already", map[string]any{"email": "ada@example.com", "token": adaTok}, 400, badToken},
	}
	for _, s := range steps {
		resp := w.c.Do(http.MethodPost, confirmPath, s.body)
		if resp.Status != s.status || string(resp.Body) != s.want {
			t.Fatalf("%s: %d %s; want %d %s", s.name, resp.Status, resp.Body, s.status, s.want)
		}
	}
	if !w.me(t, ada.access).IsVerified {
		t.Fatal("not verified")
	}
}

func TestConfirmationTokensExpireAndAreReplaced(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.mustSignup(t, "ada@example.com")
	_, first := w.lastLink(t, "ada@example.com", "Confirm")
	w.env.Clock.Advance(time.Hour)
	if resp := w.c.Do(http.MethodPost, resendPath, map[string]string{"email": "ada@example.com"}); resp.Status != 200 {
		t.Fatalf("resend: %d %s", resp.Status, resp.Body)
	}
	_, second := w.lastLink(t, "ada@example.com", "Confirm")
	if first == second {
		t.Fatal("resend sent the same token")
	}
	confirm := func(tok string) int {
		return w.c.Do(http.MethodPost, confirmPath, map[string]string{"email": "ada@example.com", "token": tok}).Status
	}
	if s := confirm(first); s != 400 {
		t.Fatalf("the replaced token answered %d", s)
	}
	w.env.Clock.Advance(72 * time.Hour)
	if s := confirm(second); s != 400 {
		t.Fatalf("a token 72 h old answered %d", s)
	}
	w.env.Clock.Advance(time.Hour) // past the minute between emails
	w.c.Do(http.MethodPost, resendPath, map[string]string{"email": "ada@example.com"})
	_, third := w.lastLink(t, "ada@example.com", "Confirm")
	w.env.Clock.Advance(72*time.Hour - time.Second)
	if s := confirm(third); s != 200 {
		t.Fatalf("a token just under 72 h old answered %d", s)
	}
}

func TestParallelConfirmationsWithOneTokenSucceedOnce(t *testing.T) {
	t.Parallel()
	contended(t, func(t *testing.T, w *world) {
		w.mustSignup(t, "ada@example.com")
		email, tok := w.lastLink(t, "ada@example.com", "Confirm")
		statuses := make([]int, 10)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Go(func() {
				statuses[i] = w.c.Do(http.MethodPost, confirmPath, map[string]string{"email": email, "token": tok}).Status
			})
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			switch s {
			case 200:
				ok++
			case 400:
			default:
				t.Errorf("status %d", s)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of 10 parallel confirmations succeeded, want 1: %v", ok, statuses)
		}
	})
}

// sendRoutes are the two email-sending routes.
var sendRoutes = []struct {
	name, path, subject, detail string
}{
	{"resend-confirm-email", resendPath, "Confirm", "If this address belongs to an account that is not confirmed yet, a confirmation email is on its way."},
	{"send-reset-password-email", resetMail, "Reset", "If this address belongs to an account, an email with a link to reset the password is on its way."},
}

func TestEmailRoutesAnswerTheSameForEveryAddress(t *testing.T) {
	t.Parallel()
	for _, route := range sendRoutes {
		t.Run(route.name, func(t *testing.T) {
			t.Parallel() // each route's world is its own
			w := setup(t)
			w.mustSignup(t, "ada@example.com")
			verified := w.mustSignup(t, "vera@example.com")
			_, tok := w.lastLink(t, "vera@example.com", "Confirm")
			w.c.Do(http.MethodPost, confirmPath, map[string]string{"email": "vera@example.com", "token": tok})
			if !w.me(t, verified.access).IsVerified {
				t.Fatal("set-up: vera not verified")
			}
			want := `{"detail":"` + route.detail + `"}`
			wantSent := map[string]int{"ada@example.com": 1, "nobody@example.com": 0, "vera@example.com": 0}
			if route.subject == "Reset" {
				wantSent["vera@example.com"] = 1 // a verified user can reset
			}
			requests := map[string]int64{}
			for _, addr := range []string{"ada@example.com", "nobody@example.com", "vera@example.com"} {
				before, mails := w.env.Requests.Load(), len(w.outbox.Messages())
				resp := w.c.Do(http.MethodPost, route.path, map[string]string{"email": addr})
				if resp.Status != 200 || string(resp.Body) != want {
					t.Fatalf("%s: %d %s", addr, resp.Status, resp.Body)
				}
				requests[addr] = w.env.Requests.Load() - before
				if got := len(w.outbox.Messages()) - mails; got != wantSent[addr] {
					t.Errorf("%s: %d emails sent, want %d", addr, got, wantSent[addr])
				}
			}
			// (Injected faults add requests at random, so the counts are only
			// compared without them.)
			if w.env.Faults == nil && (requests["ada@example.com"] != requests["nobody@example.com"] || requests["vera@example.com"] != requests["nobody@example.com"]) {
				t.Fatalf("DynamoDB requests differ by address: %v", requests)
			}
			// Throttled, too, the same for all.
			for _, addr := range []string{"ada@example.com", "nobody@example.com"} {
				before, mails := w.env.Requests.Load(), len(w.outbox.Messages())
				resp := w.c.Do(http.MethodPost, route.path, map[string]string{"email": addr})
				if resp.Status != 200 || string(resp.Body) != want || len(w.outbox.Messages()) != mails {
					t.Fatalf("%s again: %d %s, %d sent", addr, resp.Status, resp.Body, len(w.outbox.Messages())-mails)
				}
				requests[addr+" again"] = w.env.Requests.Load() - before
			}
			if w.env.Faults == nil && requests["ada@example.com again"] != requests["nobody@example.com again"] {
				t.Fatalf("DynamoDB requests of throttled calls differ: %v", requests)
			}
			for _, bad := range []map[string]any{{}, {"email": "ada"}, {"email": 7}, {"email": nil}} {
				if resp := w.c.Do(http.MethodPost, route.path, bad); resp.Status != 400 || !strings.Contains(string(resp.Body), `"email"`) {
					t.Errorf("body %v: %d %s", bad, resp.Status, resp.Body)
				}
			}
		})
	}
}

func TestEmailRoutesAreLimitedPerAddress(t *testing.T) {
	t.Parallel()
	for _, route := range sendRoutes {
		t.Run(route.name, func(t *testing.T) {
			t.Parallel() // each route's world is its own
			w := setup(t)
			w.mustSignup(t, "ada@example.com")
			count := func() int { return len(w.outbox.Messages()) }
			post := func() {
				t.Helper()
				if resp := w.c.Do(http.MethodPost, route.path, map[string]string{"email": "Ada@Example.com"}); resp.Status != 200 {
					t.Fatalf("%d %s", resp.Status, resp.Body)
				}
			}
			start := count() // the signup email, which does not count
			post()
			if count() != start+1 {
				t.Fatal("the first request right after signup sent nothing")
			}
			post()
			w.env.Clock.Advance(59 * time.Second)
			post()
			if count() != start+1 {
				t.Fatalf("%d emails within a minute", count()-start)
			}
			for range 20 {
				w.env.Clock.Advance(61 * time.Second)
				post()
			}
			if count() != start+10 {
				t.Fatalf("%d emails in a day, want 10", count()-start)
			}
			w.env.Clock.Advance(24 * time.Hour)
			post()
			if count() != start+11 {
				t.Fatal("no email the next day")
			}
			// The newest link is the one that works.
			if route.subject == "Confirm" {
				email, tok := w.lastLink(t, "ada@example.com", "Confirm") // the stored address
				if resp := w.c.Do(http.MethodPost, confirmPath, map[string]string{"email": email, "token": tok}); resp.Status != 200 {
					t.Fatalf("newest link: %d %s", resp.Status, resp.Body)
				}
			}
		})
	}
}

// slowMailer delays every send, as SES's round trip does.
type slowMailer struct {
	mailer.Mailer
	delay time.Duration
}

func (m slowMailer) Send(ctx context.Context, msg mailer.Message) error {
	time.Sleep(m.delay)
	return m.Mailer.Send(ctx, msg)
}

func TestRequestsThatSendNothingTakeAsLongAsSending(t *testing.T) {
	t.Parallel()
	const delay = 40 * time.Millisecond
	outbox := outbox.New(discardLog)
	w := setup(t, withMailer(slowMailer{outbox, delay}))
	for _, addr := range []string{"a@example.com", "b@example.com"} {
		w.mustSignup(t, addr)
	}
	timed := func(addr string) time.Duration {
		start := time.Now()
		if resp := w.c.Do(http.MethodPost, resetMail, map[string]string{"email": addr}); resp.Status != 200 {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		return time.Since(start)
	}
	for _, addr := range []string{"a@example.com", "b@example.com"} {
		if d := timed(addr); d < delay {
			t.Fatalf("a request that sent took %v, less than the send", d)
		}
	}
	// The estimate is now about delay: an unknown address waits as long.
	if d := timed("nobody@example.com"); d < delay*3/4 {
		t.Fatalf("a request for an unknown address took %v, a send takes %v", d, delay)
	}
}

func TestSignupWhenSESFailsKeepsTheAccount(t *testing.T) {
	t.Parallel()
	// sesmail reads only the getenv it is given (no AWS_* of the process):
	// a refused connection, retried as in Lambda, then the 503.
	ses, err := sesmail.Open(context.Background(), func(k string) string {
		return map[string]string{sesmail.EnvFromAddress: "no-reply@pufinid.test", sesmail.EnvEndpoint: "http://127.0.0.1:1"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	w := setup(t, withMailer(ses), withLog(jsonLog(logs)))
	u := w.mustSignup(t, "ada@example.com")
	if !strings.Contains(logs.String(), "confirmation email not sent") {
		t.Fatalf("the failure was not logged: %s", logs)
	}
	if resp := w.c.Do(http.MethodPost, resendPath, map[string]string{"email": "ada@example.com"}); resp.Status != http.StatusServiceUnavailable ||
		string(resp.Body) != `{"detail":"Service temporarily unavailable."}` {
		t.Fatalf("resend while SES is down: %d %s", resp.Status, resp.Body)
	}
	// SES is back (the outbox stands in): resend works, after the minute
	// the failed attempt used.
	d := w.deps
	d.Mailer = w.outbox
	c := w.env.Client(usersapi.New(d), usersapi.Routes(d).Routes())
	w.env.Clock.Advance(time.Minute)
	if resp := c.Do(http.MethodPost, resendPath, map[string]string{"email": "ada@example.com"}); resp.Status != 200 {
		t.Fatalf("resend: %d %s", resp.Status, resp.Body)
	}
	email, tok := w.lastLink(t, "ada@example.com", "Confirm")
	if resp := c.Do(http.MethodPost, confirmPath, map[string]string{"email": email, "token": tok}); resp.Status != 200 {
		t.Fatalf("confirm: %d %s", resp.Status, resp.Body)
	}
	if !w.me(t, u.access).IsVerified {
		t.Fatal("not verified")
	}
}

// The attack: ask for a link with another spelling of a victim's address,
// one that looks the account up, hoping the link goes where the request
// says. It goes only to the address the account stores.
func TestLinksGoOnlyToTheStoredAddress(t *testing.T) {
	t.Parallel()
	for _, route := range sendRoutes {
		t.Run(route.name, func(t *testing.T) {
			t.Parallel() // each route's world is its own
			w := setup(t)
			w.mustSignup(t, "alice@example.com")
			before := len(w.outbox.Messages())
			if resp := w.c.Do(http.MethodPost, route.path, map[string]string{"email": "ALICE@EXAMPLE.COM"}); resp.Status != 200 {
				t.Fatalf("%d %s", resp.Status, resp.Body)
			}
			msgs := w.outbox.Messages()[before:]
			if len(msgs) != 1 {
				t.Fatalf("%d emails sent, want 1", len(msgs))
			}
			if to := msgs[0].Destination.ToAddresses; len(to) != 1 || to[0] != "alice@example.com" {
				t.Fatalf("the link went to %v, want only the stored alice@example.com", to)
			}
			if !strings.Contains(msgs[0].Body.Text, "email=alice%40example.com") {
				t.Fatalf("the link names another address: %s", msgs[0].Body.Text)
			}
		})
	}
}
