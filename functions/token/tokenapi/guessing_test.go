package tokenapi_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/functions/token/tokenapi"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/ddbfault"
	"github.com/pufinid/pufinid-api/shared/store"
)

// onEachStore runs an attack test on the embedded store as it is, whose
// global lock serializes every write, and with DynamoDB's own answers to
// contention injected (a third of the attempts cancelled by conflicts or
// throttled), which real DynamoDB gives parallel writers of one item.
func onEachStore(t *testing.T, test func(t *testing.T, env *apitest.Env, c *apitest.Client)) {
	for _, tc := range []struct {
		name string
		env  func(t *testing.T) *apitest.Env
	}{
		{"embedded store", func(t *testing.T) *apitest.Env { return apitest.New(t) }},
		{"with DynamoDB's conflicts and throttling", func(t *testing.T) *apitest.Env {
			return apitest.NewFaulty(t, ddbfault.Spec{Rate: 0.3, MaxPerCall: 2, Seed: 9,
				Kinds: []ddbfault.Kind{ddbfault.Conflict, ddbfault.Throttling, ddbfault.LostAnswer}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := tc.env(t)
			d := tokenapi.Deps{Store: env.Store, Tokens: env.Tokens, Log: env.Log}
			test(t, env, env.Client(tokenapi.New(d), tokenapi.Routes(d).Routes()))
		})
	}
}

// guess sends the bodies at once, body i from source(i), and counts the
// answers by status; any other status fails the test.
func guess(t *testing.T, c *apitest.Client, bodies []map[string]string, source func(i int) string) map[int]int {
	t.Helper()
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		got = map[int]int{}
	)
	for i, b := range bodies {
		wg.Go(func() {
			resp := c.Do(http.MethodPost, "/v1/token/", b, apitest.From(source(i)))
			mu.Lock()
			defer mu.Unlock()
			got[resp.Status]++
		})
	}
	wg.Wait()
	for status := range got {
		if status != 200 && status != 401 && status != 429 {
			t.Fatalf("answers %v: a %d among them", got, status)
		}
	}
	return got
}

func wrongGuesses(login string, n int) []map[string]string {
	bodies := make([]map[string]string, n)
	for i := range bodies {
		bodies[i] = map[string]string{"username": login, "password": fmt.Sprintf("guess number %d", i)}
	}
	return bodies
}

// The attack of 40 parallel logins on one account: every password check is
// reserved before it is made, so from one source exactly 5 wrong passwords
// are checked (401) and the other 35 are refused unchecked (429); the
// owner, from another source, still logs in.
func TestFortyParallelGuessesFromOneSourceCheckFive(t *testing.T) {
	t.Parallel()
	onEachStore(t, func(t *testing.T, env *apitest.Env, c *apitest.Client) {
		mustUser(t, env, "alice")
		got := guess(t, c, wrongGuesses("alice", 40), func(int) string { return "203.0.113.9" })
		if got[401] != store.SourceFailureLimit || got[429] != 40-store.SourceFailureLimit {
			t.Fatalf("40 parallel wrong passwords from one source: %v; want %d × 401, the rest 429", got, store.SourceFailureLimit)
		}
		resp := c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": "alice", "password": pw}, apitest.From("198.51.100.20"))
		if resp.Status != 200 {
			t.Fatalf("the owner from another source: %d %s; an attacker must not lock the owner out", resp.Status, resp.Body)
		}
		resp = c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": "alice", "password": pw}, apitest.From("203.0.113.9"))
		if resp.Status != 429 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("the right password from the guessing source: %d, want 429 with Retry-After", resp.Status)
		}
	})
}

// The case: 39 wrong passwords and the right one, all at once from
// one source: at most 5 wrong ones are checked (the right one's
// reservation is given back, the failures are not).
func TestFortyParallelGuessesWithTheRightOneAmongThem(t *testing.T) {
	t.Parallel()
	onEachStore(t, func(t *testing.T, env *apitest.Env, c *apitest.Client) {
		mustUser(t, env, "alice")
		bodies := wrongGuesses("alice", 39)
		bodies = append(bodies[:20], append([]map[string]string{{"username": "alice", "password": pw}}, bodies[20:]...)...)
		got := guess(t, c, bodies, func(int) string { return "203.0.113.9" })
		// Five slots: the right password may take one (and give it back
		// when done, possibly after the others were refused).
		if got[401] > store.SourceFailureLimit || got[401] < store.SourceFailureLimit-1 || got[200] > 1 || got[401]+got[200]+got[429] != 40 {
			t.Fatalf("answers %v; want at most %d wrong passwords checked, at most one login", got, store.SourceFailureLimit)
		}
		t.Logf("passwords checked out of 40 parallel attempts from one source: %d (%v)", got[401]+got[200], got)
	})
}

// From 40 sources at once, each under its own cap, the account's cap of 20
// checks holds: 20 are checked, 20 refused; then everyone waits, the owner
// included (the contract's account-wide cap), for the window.
func TestFortyParallelGuessesFromFortySourcesCheckTwenty(t *testing.T) {
	t.Parallel()
	onEachStore(t, func(t *testing.T, env *apitest.Env, c *apitest.Client) {
		mustUser(t, env, "alice")
		got := guess(t, c, wrongGuesses("alice", 40), func(i int) string { return fmt.Sprintf("203.0.113.%d", i) })
		if got[401] != store.AccountCheckLimit || got[429] != 40-store.AccountCheckLimit {
			t.Fatalf("40 parallel wrong passwords from 40 sources: %v; want %d × 401, the rest 429", got, store.AccountCheckLimit)
		}
		t.Logf("passwords checked out of 40 parallel attempts from 40 sources: %d (%v)", got[401], got)
		resp := c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": "alice", "password": pw}, apitest.From("198.51.100.20"))
		if resp.Status != 429 || resp.Header.Get("Retry-After") != "900" {
			t.Fatalf("after 20 checks: %d %q, want 429 for the window", resp.Status, resp.Header.Get("Retry-After"))
		}
		env.Clock.Advance(store.CheckWindow)
		mustLogin(t, c, "alice")
	})
}

// Lockout abuse: a source that fails on one account only locks itself
// out of that account, whichever account it targets next, and a correct
// login from a source many users share (a NAT) is never counted against
// it.
func TestFailuresLockOutOnlyTheirSource(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	mustUser(t, env, "bob")
	attacker := apitest.From("203.0.113.9")
	for range store.SourceFailureLimit {
		c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": "alice", "password": "wrong"}, attacker)
	}
	if resp := c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": "bob", "password": pw}, attacker); resp.Status != 200 {
		t.Fatalf("bob from the source that failed on alice: %d", resp.Status)
	}
	nat := apitest.From("198.51.100.1")
	for i := range store.SourceIPFailureLimit + 10 {
		if resp := c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": []string{"alice", "bob"}[i%2], "password": pw}, nat); resp.Status != 200 {
			t.Fatalf("correct login %d from a shared source: %d", i, resp.Status)
		}
		env.Clock.Advance(time.Minute) // stay under the accounts' caps of checks
	}
}

// Every spelling of an address logs in to its account, and a look-alike
// that is another address logs in to nothing (the same 401 as a wrong
// password).
func TestLoginBySpellingsOfTheAddress(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	for _, tc := range []struct {
		login string
		want  int
	}{
		{"ALICE@EXAMPLE.COM", 200},
		{"ａｌｉｃｅ@example.com", 200},
		{"ＡＬＩＣＥ@Example.Com", 200},
		{"alİce@example.com", 401},
		{"alıce@example.com", 401},
		{"alice@examplе.com", 401}, // Cyrillic е in the domain: not an address here
	} {
		resp := c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": tc.login, "password": pw}, apitest.From("198.51.100.30"))
		if resp.Status != tc.want {
			t.Errorf("login %q: %d %s, want %d", tc.login, resp.Status, resp.Body, tc.want)
		}
	}
}

// The source address is the one API Gateway reports, never a header: an
// attacker who sends a new X-Forwarded-For (or X-Real-IP, Forwarded) with
// every guess is still one source.
func TestForwardedHeadersDoNotMakeNewSources(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	for i := range store.SourceFailureLimit + 3 {
		ip := fmt.Sprintf("203.0.113.%d", i)
		resp := c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": "alice", "password": "wrong"},
			apitest.From("198.51.100.77"), apitest.Header("X-Forwarded-For", ip), apitest.Header("X-Real-IP", ip),
			apitest.Header("Forwarded", "for="+ip))
		want := 401
		if i >= store.SourceFailureLimit {
			want = 429
		}
		if resp.Status != want {
			t.Fatalf("guess %d with forwarded headers for %s: %d, want %d", i+1, ip, resp.Status, want)
		}
	}
}
