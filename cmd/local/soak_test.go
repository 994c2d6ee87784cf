package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/ddbfault"
	"github.com/pufinid/pufinid-api/shared/dev/fixtures"
	"github.com/pufinid/pufinid-api/shared/dev/soak"
)

// The soak test's settings. The defaults are the brief run of `make test`;
// `make soak` passes longer ones (see README.md, "Soak test").
var (
	soakSeed        = flag.Int64("soak.seed", 0, "soak: seed of every client's sequence (0: a new one, printed)")
	soakDuration    = flag.Duration("soak.duration", 20*time.Second, "soak: how long to run (0: until -soak.requests)")
	soakRequests    = flag.Int("soak.requests", 0, "soak: stop after this many API requests (0: until -soak.duration)")
	soakClients     = flag.Int("soak.clients", 8, "soak: simulated clients running at once")
	soakClock       = flag.String("soak.clock", "fake", "soak: the server's clock: fake (moved by the test, so expiry is exercised) or real")
	soakOpenAPI     = flag.Bool("soak.openapi", true, "soak: also validate every answer against docs/openapi.yaml")
	soakMaxFailures = flag.Int("soak.max-failures", 10, "soak: stop after this many failures")
	soakServerLog   = flag.Bool("soak.server-log", false, "soak: copy the server's log to stderr")
	// Operations whose failures are known, unbuilt parts of the contract:
	// reported, not failing. None today.
	soakKnownGaps = flag.String("soak.known-gaps", "", "soak: comma-separated operations whose failures are known gaps, logged but not failing")
)

// faultsOn reports whether spec (PUFINID_DYNAMODB_FAULTS, which run's
// openStore reads itself) injects anything, so that a 503 may happen.
func faultsOn(spec string) bool {
	if spec == "" {
		return false
	}
	sp, err := ddbfault.ParseSpec(spec)
	return err != nil || sp.Rate > 0
}

// steppedClock is the server's clock in the soak: it stands still between the
// test's moves, so the model knows the server's time to the second. It
// starts at the wall clock's second and never falls behind the wall clock
// at a move, so that a real DynamoDB's TTL (on the wall clock) never
// deletes an item before the server's clock has expired it.
type steppedClock struct {
	mu sync.Mutex
	t  time.Time
}

func newSteppedClock() *steppedClock { return &steppedClock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *steppedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *steppedClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	if wall := time.Now().UTC().Truncate(time.Second); c.t.Before(wall) {
		c.t = wall
	}
}

// TestSoak runs the soak (package shared/dev/soak) against the whole local
// server, started as `make run` starts it, with the environment passed
// through: the embedded store, or DYNAMODB_ENDPOINT's, with or without
// PUFINID_DYNAMODB_FAULTS.
func TestSoak(t *testing.T) {
	seed := *soakSeed
	if seed == 0 {
		seed = time.Now().UnixNano() % 1e12
	}
	faults := faultsOn(os.Getenv(ddbfault.EnvSpec))
	cfg := soak.Config{
		Seed: seed, Clients: *soakClients, Requests: *soakRequests, Duration: *soakDuration,
		Faults: faults, MaxFailures: *soakMaxFailures, Logf: t.Logf,
		// Each client its own source address, as the throttles see them.
		LoopbackSources: runtime.GOOS == "linux",
	}
	var now func() time.Time
	switch *soakClock {
	case "fake":
		clock := newSteppedClock()
		now, cfg.Now, cfg.Advance = clock.Now, clock.Now, clock.Advance
	case "real":
	default:
		t.Fatalf("-soak.clock=%q: want fake or real", *soakClock)
	}
	ref, err := fixtures.Demo()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Reference = ref
	if *soakOpenAPI {
		apitest.Spec(t) // loaded here, where a broken document can stop the test
		cfg.Check = func(x soak.Exchange) error { return checkOpenAPI(t, x) }
	}
	t.Logf("soak: seed %d, %d clients, %v clock, faults %v, store %s", seed, cfg.Clients, *soakClock, faults,
		cmp.Or(os.Getenv("DYNAMODB_ENDPOINT"), "embedded"))

	var serverLog io.Writer = io.Discard
	if *soakServerLog {
		serverLog = os.Stderr
	}
	cfg.BaseURL = startSoakServer(t, serverLog, now)
	rep, err := soak.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.Summary())
	gaps := strings.Split(*soakKnownGaps, ",")
	for _, f := range rep.Failures {
		if slices.Contains(gaps, f.Op) {
			t.Logf("KNOWN GAP (not yet built, see -soak.known-gaps): %v", f)
			continue
		}
		t.Errorf("%v", f)
	}
	if rep.Requests == 0 {
		t.Error("the soak sent no request")
	}
	if t.Failed() {
		t.Errorf("soak failed with seed %d; replay it with\n  %s", seed, replayCommand(seed, faults))
	}
}

// replayCommand is the command that runs the soak again with seed and this
// run's settings.
func replayCommand(seed int64, faults bool) string {
	var env []string
	for _, k := range []string{"DYNAMODB_ENDPOINT", "TABLE_NAME", ddbfault.EnvSpec} {
		if v := os.Getenv(k); v != "" && (k != ddbfault.EnvSpec || faults) {
			env = append(env, k+"="+shellQuote(v))
		}
	}
	args := []string{fmt.Sprintf("-soak.seed=%d", seed), fmt.Sprintf("-soak.clients=%d", *soakClients),
		fmt.Sprintf("-soak.duration=%v", *soakDuration), fmt.Sprintf("-soak.clock=%s", *soakClock)}
	if *soakRequests > 0 {
		args = append(args, fmt.Sprintf("-soak.requests=%d", *soakRequests))
	}
	if !*soakOpenAPI {
		args = append(args, "-soak.openapi=false")
	}
	return strings.TrimSpace(strings.Join(env, " ") + " go test ./cmd/local -run '^TestSoak$' -count=1 -v -args " + strings.Join(args, " "))
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// startSoakServer runs the server as main does, with the process's
// environment, on a free port, until the test ends; now, if not nil, is its
// clock.
func startSoakServer(t *testing.T, log io.Writer, now func() time.Time) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"local", "-port", "0"}, os.Getenv, log, func(u string) { urls <- u }, now)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run returned %v after shutdown", err)
		}
	})
	select {
	case u := <-urls:
		return u
	case err := <-done:
		t.Fatalf("run returned before listening: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("server did not start within 2 minutes")
	}
	return ""
}

// checkOpenAPI validates one soak answer against docs/openapi.yaml, with
// apitest's check, whose complaints it collects instead of failing t (the
// soak names the operation and the client's history).
func checkOpenAPI(t *testing.T, x soak.Exchange) error {
	tb := &collectTB{TB: t}
	apitest.CheckOpenAPI(tb, x.Method, x.Path, x.RequestHeader, &apitest.Response{Status: x.Status, Header: x.Header, Body: x.Body})
	if len(tb.msgs) > 0 {
		return errors.New(strings.Join(tb.msgs, "; "))
	}
	return nil
}

// collectTB keeps what a check reports, from any goroutine, without failing
// the test itself.
type collectTB struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (c *collectTB) Helper() {}

func (c *collectTB) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, fmt.Sprintf(format, args...))
}

func (c *collectTB) Fatalf(format string, args ...any) { c.Errorf(format, args...) }
