package usersapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/functions/users/usersapi"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/ddbfault"
	"github.com/pufinid/pufinid-api/shared/dev/outbox"
	"github.com/pufinid/pufinid-api/shared/mailer"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/token"
)

// The harness clock starts at 2026-06-01 12:00 UTC: privacy v2 and tos v1
// are current, privacy v3 and beta are in the future.
var (
	demoTheme = json.RawMessage(`{"primary":"#123456"}`)
	acmeTheme = json.RawMessage(`{"primary_color":"#ff0000","logo_url":"https://static.example/acme.png"}`)
	reference = pufinid.Reference{
		Organizations: []pufinid.Organization{
			{ID: "0b7c1d2e-0000-4000-8000-000000000001", Name: "Demo", Theme: demoTheme,
				AccessTokenLifetime: 300, RefreshTokenLifetime: 86400},
			{ID: "0b7c1d2e-0000-4000-8000-000000000002", Name: "Acme", Code: new("ACME"), Theme: acmeTheme,
				AccessTokenLifetime: 600, RefreshTokenLifetime: 3600},
		},
		Terms: []pufinid.Term{
			{Slug: "privacy", Name: "Privacy", VersionNumber: 1, DateActive: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
			{Slug: "privacy", Name: "Privacy", VersionNumber: 2, DateActive: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
			{Slug: "privacy", Name: "Privacy", VersionNumber: 3, DateActive: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)},
			{Slug: "tos", Name: "Terms of service", VersionNumber: 1, DateActive: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
			{Slug: "beta", Name: "Beta programme", VersionNumber: 1, DateActive: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		},
	}
	links = usersapi.Links{
		ConfirmEmail:  "https://app.pufinid.test/confirm-email?email={email}&token={token}",
		ResetPassword: "https://app.pufinid.test/reset-password?email={email}&token={token}",
	}
)

const strongPassword = "correct horse battery staple 42"

// world is one test's API: the users group over a fresh table, with the
// local outbox as its mailer.
type world struct {
	env    *apitest.Env
	c      *apitest.Client
	outbox *outbox.Outbox
	deps   usersapi.Deps
}

type option func(*usersapi.Deps)

func withMailer(m mailer.Mailer) option { return func(d *usersapi.Deps) { d.Mailer = m } }

func withLog(l *slog.Logger) option { return func(d *usersapi.Deps) { d.Log = l } }

func setup(t testing.TB, opts ...option) *world {
	t.Helper()
	return setupOn(t, apitest.New(t), opts...)
}

// setupOn is setup on env.
func setupOn(t testing.TB, env *apitest.Env, opts ...option) *world {
	t.Helper()
	env.Load(reference)
	outbox := outbox.New(discardLog)
	d := usersapi.Deps{Store: env.Store, Tokens: env.Tokens, Mailer: outbox, Links: links, Now: env.Clock.Now, Log: env.Log}
	for _, o := range opts {
		o(&d)
	}
	return &world{env: env, c: env.Client(usersapi.New(d), usersapi.Routes(d).Routes()), outbox: outbox, deps: d}
}

// signupBody is a valid signup for email; changes are applied on top (a nil
// value removes the field).
func signupBody(email string, changes map[string]any) map[string]any {
	b := map[string]any{
		"first_name": "Ada", "last_name": "Lovelace", "email": email,
		"password": strongPassword, "password_confirm": strongPassword,
	}
	for k, v := range changes {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

// user is a signed-up user with an access token.
type user struct {
	usersapi.User
	access string
}

func (w *world) signup(t testing.TB, body map[string]any) user {
	t.Helper()
	resp := w.c.Do(http.MethodPost, "/v1/users/", body)
	if resp.Status != http.StatusCreated {
		t.Fatalf("signup: %d %s", resp.Status, resp.Body)
	}
	var u usersapi.User
	resp.JSON(t, &u)
	return user{User: u, access: w.env.AccessToken(u.ID)}
}

// mustSignup signs email up with the strong password.
func (w *world) mustSignup(t testing.TB, email string) user {
	t.Helper()
	return w.signup(t, signupBody(email, nil))
}

// lastLink returns the email and token of the link in the newest email to
// addr whose subject contains subject.
func (w *world) lastLink(t testing.TB, addr, subject string) (email, tok string) {
	t.Helper()
	msgs := w.outbox.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if !slices.Contains(m.Destination.ToAddresses, addr) || !strings.Contains(m.Subject, subject) {
			continue
		}
		u, err := url.Parse(outbox.FirstURL(m.Body.Text))
		if err != nil {
			t.Fatalf("link in %q: %v", m.Body.Text, err)
		}
		return u.Query().Get("email"), u.Query().Get("token")
	}
	t.Fatalf("no email to %s about %q in %d messages", addr, subject, len(msgs))
	return "", ""
}

// sent counts the emails sent to addr.
func (w *world) sent(addr string) int {
	n := 0
	for _, m := range w.outbox.Messages() {
		if slices.Contains(m.Destination.ToAddresses, addr) {
			n++
		}
	}
	return n
}

// refreshToken records a refresh token for userID as a login does and
// returns its jti.
func (w *world) refreshToken(t testing.TB, userID string) string {
	t.Helper()
	_, c, err := w.env.Tokens.Mint(context.Background(), token.Refresh, userID, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rt := store.RefreshToken{UserID: userID, JTI: c.ID, ExpiresAt: c.ExpiresAt.Time, AccessLifetime: 5 * time.Minute}
	if err := w.env.Store.CreateRefreshToken(context.Background(), rt); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// refreshTokenLives reports whether the refresh token jti still works.
func (w *world) refreshTokenLives(t testing.TB, userID, jti string) bool {
	t.Helper()
	_, err := w.env.Store.RefreshToken(context.Background(), userID, jti)
	return err == nil
}

// me reads the caller's body.
func (w *world) me(t testing.TB, access string) usersapi.User {
	t.Helper()
	resp := w.c.Do(http.MethodGet, "/v1/users/me/", nil, apitest.Bearer(access))
	if resp.Status != http.StatusOK {
		t.Fatalf("GET me: %d %s", resp.Status, resp.Body)
	}
	var u usersapi.User
	resp.JSON(t, &u)
	return u
}

// fieldErrors decodes a 400 field error body; it fails the test for any
// other answer.
func fieldErrors(t testing.TB, resp *apitest.Response) map[string][]string {
	t.Helper()
	if resp.Status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", resp.Status, resp.Body)
	}
	var errs map[string][]string
	resp.JSON(t, &errs)
	return errs
}

// expectFields checks that errs has messages for exactly the fields of want,
// each containing want's text.
func expectFields(t testing.TB, errs map[string][]string, want map[string]string) {
	t.Helper()
	for f, text := range want {
		if !slices.ContainsFunc(errs[f], func(m string) bool { return strings.Contains(m, text) }) {
			t.Errorf("field %s: messages %q, want one containing %q", f, errs[f], text)
		}
	}
	for f := range errs {
		if _, ok := want[f]; !ok {
			t.Errorf("unexpected error on %s: %q", f, errs[f])
		}
	}
}

var discardLog = slog.New(slog.DiscardHandler)

// jsonLog logs everything, as JSON, to w.
func jsonLog(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// deref is *p, or "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// contended runs a race test twice: on the embedded store as it is, whose
// one global lock serializes every transaction, and with DynamoDB's own
// answers to contention injected (30% of attempts cancelled by a
// TransactionConflict or throttled), which the store must absorb and still
// give the contract's answers.
func contended(t *testing.T, test func(t *testing.T, w *world)) {
	t.Run("embedded store", func(t *testing.T) {
		t.Parallel() // each run has a world of its own
		test(t, setup(t))
	})
	t.Run("with DynamoDB's conflicts and throttling", func(t *testing.T) {
		t.Parallel()
		sp := ddbfault.Spec{Rate: 0.3, MaxPerCall: 2, Seed: 7, Kinds: []ddbfault.Kind{ddbfault.Conflict, ddbfault.Throttling}}
		w := setupOn(t, apitest.NewFaulty(t, sp))
		test(t, w)
		if st := w.env.Faults.Stats(); st.Total() == 0 {
			t.Fatalf("no fault injected: %+v", st)
		}
	})
}
