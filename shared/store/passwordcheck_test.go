package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/ddbfault"
	"github.com/pufinid/pufinid-api/shared/store"
)

// reserve looks login up from ip and reserves its password check, as a
// login does before it looks at the password; a reservation not followed
// by LoginSucceeded stands as a failure.
func reserve(t *testing.T, env *apitest.Env, login, ip string) (*store.LoginAttempt, error) {
	t.Helper()
	ctx := context.Background()
	a, err := env.Store.LoginLookup(ctx, login, ip)
	if err != nil {
		t.Fatal(err)
	}
	return a, env.Store.Reserve(ctx, a.Check())
}

// throttledFor reports the Retry-After of a 429 error, failing on any
// other error.
func throttledFor(t *testing.T, err error) (time.Duration, bool) {
	t.Helper()
	if err == nil {
		return 0, false
	}
	var e *apierror.Error
	if !apierror.Is(err, apierror.Throttled) || !asError(err, &e) {
		t.Fatalf("got %v, want a 429 or nothing", err)
	}
	return e.RetryAfter, true
}

func asError(err error, e **apierror.Error) bool {
	ae, ok := err.(*apierror.Error)
	*e = ae
	return ok
}

func mustReserve(t *testing.T, env *apitest.Env, login, ip string) *store.LoginAttempt {
	t.Helper()
	a, err := reserve(t, env, login, ip)
	if err != nil {
		t.Fatalf("reserve %s from %s: %v", login, ip, err)
	}
	return a
}

func TestFiveFailuresFromOneSourceThrottleOnlyThatSource(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	for range store.SourceFailureLimit {
		before := env.Requests.Load()
		mustReserve(t, env, "alice", "192.0.2.1")
		if n := env.Requests.Load() - before; !env.RequestsMatch(n, 2+3) {
			t.Errorf("lookup and reservation took %d requests, want 2 + 3", n)
		}
		env.Clock.Advance(time.Minute)
	}
	// The window opened at the first failure, 5 minutes ago.
	_, err := reserve(t, env, "A@EXAMPLE.COM", "192.0.2.1")
	if wait, th := throttledFor(t, err); !th || wait != 10*time.Minute {
		t.Fatalf("sixth attempt from the source: throttled %v for %v; want 10m, by email too", th, wait)
	}
	// Another source, the owner's, is not locked out.
	mustReserve(t, env, "alice", "192.0.2.99")
	env.Clock.Advance(10*time.Minute - time.Second)
	if wait, th := throttledFor(t, second(reserve(t, env, "alice", "192.0.2.1"))); !th || wait != time.Second {
		t.Fatalf("a second before the window closes: %v %v", th, wait)
	}
	env.Clock.Advance(time.Second)
	// The closed window (still in the table: TTL is late) restarts at 1.
	for range store.SourceFailureLimit {
		mustReserve(t, env, "alice", "192.0.2.1")
	}
	if _, th := throttledFor(t, second(reserve(t, env, "alice", "192.0.2.1"))); !th {
		t.Fatal("a new window did not cap again")
	}
}

func second[T any](_ T, err error) error { return err }

func TestAccountChecksAreCappedAcrossSourcesWithGrowingBackoff(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	ip := 0
	fromNewSources := func(n int) {
		t.Helper()
		for range n {
			ip++
			mustReserve(t, env, "alice", fmt.Sprintf("192.0.2.%d", ip))
		}
	}
	fromNewSources(store.AccountCheckLimit)
	capped := func() time.Duration {
		t.Helper()
		ip++
		wait, th := throttledFor(t, second(reserve(t, env, "alice", fmt.Sprintf("192.0.2.%d", ip))))
		if !th {
			t.Fatalf("check %d on the account from a new source was not capped", store.AccountCheckLimit+1)
		}
		return wait
	}
	if wait := capped(); wait != 15*time.Minute {
		t.Fatalf("first cap: %v, want the window's 15m", wait)
	}
	// Each window that reaches the cap makes the next one twice as long.
	for _, want := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 4 * time.Hour} {
		env.Clock.Advance(capped())
		fromNewSources(store.AccountCheckLimit)
		if wait := capped(); wait != want {
			t.Fatalf("next cap: %v, want %v", wait, want)
		}
	}
	// A quiet spell of a window's length resets the backoff.
	env.Clock.Advance(capped() + store.MaxCheckWindow)
	fromNewSources(store.AccountCheckLimit)
	if wait := capped(); wait != store.CheckWindow {
		t.Fatalf("after a quiet spell: %v, want %v", wait, store.CheckWindow)
	}
}

func TestUnknownLoginNamesAreCappedLikeAccounts(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	for range store.SourceFailureLimit {
		mustReserve(t, env, "nobody@example.com", "192.0.2.1")
	}
	if _, th := throttledFor(t, second(reserve(t, env, "NOBODY@example.com", "192.0.2.1"))); !th {
		t.Fatal("an unknown login name is never throttled: that tells it has no account")
	}
	mustReserve(t, env, "somebody@example.com", "192.0.2.1")
	mustReserve(t, env, "nobody@example.com", "192.0.2.2")
}

func TestOneSourceIsCappedAcrossAccounts(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	for i := range store.SourceIPFailureLimit {
		mustReserve(t, env, fmt.Sprint("user", i), "192.0.2.7")
	}
	if _, th := throttledFor(t, second(reserve(t, env, "someone-else", "192.0.2.7"))); !th {
		t.Fatal("the source's 51st failure over all accounts was not capped")
	}
	mustReserve(t, env, "someone-else", "192.0.2.8")
}

// The attack of the issue: many password checks on one account at once.
// Each is reserved before any password is looked at, so however many run
// in parallel, at most 5 from one source and at most 20 from many get
// through, also when DynamoDB answers some of them with conflicts and
// throttling (a fault-injecting client).
func TestParallelChecksBuyNothing(t *testing.T) {
	t.Parallel()
	for _, faults := range []string{"", "rate=0.3,seed=5,kinds=conflict+throttle+lost"} {
		for _, tc := range []struct {
			name    string
			sources int
			want    int
		}{
			{"40 at once from one source", 1, store.SourceFailureLimit},
			{"40 at once from 40 sources", 40, store.AccountCheckLimit},
		} {
			t.Run(fmt.Sprintf("%s/faults=%q", tc.name, faults), func(t *testing.T) {
				t.Parallel()
				env := apitest.New(t)
				if faults != "" {
					sp, err := ddbfault.ParseSpec(faults)
					if err != nil {
						t.Fatal(err)
					}
					env = apitest.NewFaulty(t, sp)
				}
				mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
				var (
					wg            sync.WaitGroup
					mu            sync.Mutex
					got, refused  int
					unexpectedErr error
				)
				for i := range 40 {
					wg.Go(func() {
						ctx := context.Background()
						a, err := env.Store.LoginLookup(ctx, "alice", fmt.Sprintf("198.51.100.%d", i%tc.sources))
						if err == nil {
							err = env.Store.Reserve(ctx, a.Check())
						}
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							got++
						case apierror.Is(err, apierror.Throttled):
							refused++
						default:
							unexpectedErr = err
						}
					})
				}
				wg.Wait()
				if unexpectedErr != nil {
					t.Fatal(unexpectedErr)
				}
				if got != tc.want || refused != 40-tc.want {
					t.Fatalf("%d checks reserved, %d refused; want %d and %d", got, refused, tc.want, 40-tc.want)
				}
			})
		}
	}
}

func TestASuccessfulLoginGivesBackItsReservationOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "old-hash")
	for range store.SourceFailureLimit - 1 {
		mustReserve(t, env, "alice", "192.0.2.1")
	}
	a := mustReserve(t, env, "alice", "192.0.2.1")
	before := env.Requests.Load()
	if err := env.Store.LoginSucceeded(ctx, a, refreshToken(env, "u1", "j1", time.Hour), "new-hash"); err != nil {
		t.Fatalf("login succeeded: %v", err)
	}
	if n := env.Requests.Load() - before; !env.RequestsMatch(n, 1) {
		t.Errorf("finishing a login took %d requests, want 1 transaction (with the give-backs)", n)
	}
	if _, err := env.Store.RefreshToken(ctx, "u1", "j1"); err != nil {
		t.Errorf("refresh token not recorded: %v", err)
	}
	acct, err := env.Store.Account(ctx, "u1")
	if err != nil || acct.User.PasswordHash != "new-hash" {
		t.Errorf("rehash not stored: %q %v", acct.User.PasswordHash, err)
	}
	// The right password's reservation was given back, the four failures
	// before it were not: one more failure from the source, then 429.
	mustReserve(t, env, "alice", "192.0.2.1")
	if _, th := throttledFor(t, second(reserve(t, env, "alice", "192.0.2.1"))); !th {
		t.Fatal("a success wiped the source's failures")
	}
	// The account counted all 6 checks, the right one included: 14 more
	// from other sources reach its cap of 20.
	for i := range store.AccountCheckLimit - 6 {
		mustReserve(t, env, "alice", fmt.Sprintf("192.0.2.%d", 100+i))
	}
	if _, th := throttledFor(t, second(reserve(t, env, "alice", "192.0.2.250"))); !th {
		t.Fatal("the right password's check was not counted against the account")
	}
}

// change-password and DELETE reserve their checks the same way, with one
// read of the three counters.
func TestPasswordCheckForAUserSharesTheLoginCaps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	for range store.SourceFailureLimit - 1 {
		mustReserve(t, env, "alice", "192.0.2.1")
	}
	before := env.Requests.Load()
	c, err := env.Store.PasswordCheckFor(ctx, "u1", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if n := env.Requests.Load() - before; !env.RequestsMatch(n, 1) {
		t.Errorf("reading a check took %d requests, want 1", n)
	}
	if err := env.Store.Reserve(ctx, c); err != nil {
		t.Fatalf("fifth check: %v", err)
	}
	if _, th := throttledFor(t, second(reserve(t, env, "alice", "192.0.2.1"))); !th {
		t.Fatal("a login after 4 failed logins and a failed password check was not capped")
	}
	c, err = env.Store.PasswordCheckFor(ctx, "u1", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, th := throttledFor(t, env.Store.Reserve(ctx, c)); !th {
		t.Fatal("a password check after 5 failures from the source was not capped")
	}
	c, err = env.Store.PasswordCheckFor(ctx, "u1", "192.0.2.2")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.Reserve(ctx, c); err != nil {
		t.Fatal(err)
	}
	env.Store.CheckSucceeded(ctx, c) // given back: all 5 failures are still to come
	for range store.SourceFailureLimit {
		mustReserve(t, env, "alice", "192.0.2.2")
	}
	if _, th := throttledFor(t, second(reserve(t, env, "alice", "192.0.2.2"))); !th {
		t.Fatal("a sixth failure was allowed")
	}
}

func TestPasswordChecksDuringAnOutageAre503(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	c, err := env.Store.PasswordCheckFor(ctx, "u1", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	defer env.Outage()()
	if err := env.Store.Reserve(ctx, c); !apierror.Is(err, apierror.Unavailable) {
		t.Errorf("reserve: %v", err)
	}
	if _, err := env.Store.PasswordCheckFor(ctx, "u1", "192.0.2.1"); !apierror.Is(err, apierror.Unavailable) {
		t.Errorf("read: %v", err)
	}
	env.Store.CheckSucceeded(ctx, c) // best effort: the reservation stands as a failure
}

// A login whose source window closed and reopened between its reservation
// and its success still succeeds: there is nothing left to give back.
func TestALoginOutlivingItsSourceWindowSucceeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	a := mustReserve(t, env, "alice", "192.0.2.1")
	env.Clock.Advance(store.CheckWindow)
	mustReserve(t, env, "nobody", "192.0.2.1") // opens the source's next window
	if err := env.Store.LoginSucceeded(ctx, a, refreshToken(env, "u1", "j1", time.Hour), ""); err != nil {
		t.Fatalf("login succeeded: %v", err)
	}
	if _, err := env.Store.RefreshToken(ctx, "u1", "j1"); err != nil {
		t.Errorf("refresh token not recorded: %v", err)
	}
}

// A counter deleted between its read and its reservation (the account was
// deleted by a parallel request, which takes its partition along) is
// opened anew, not retried until the reservation gives up.
func TestACounterThatVanishedIsOpenedAnew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	u := mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	mustReserve(t, env, "alice", "192.0.2.1")
	c, err := env.Store.PasswordCheckFor(ctx, "u1", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.DeleteUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.Reserve(ctx, c); err != nil {
		t.Fatalf("reserve after the counters went: %v", err)
	}
}

// Attempts from ever new sources on an account at its cap are refused
// before any write: they leave no counter of their own behind in the
// account's partition, however many sources there are.
func TestRefusedAttemptsWriteNothing(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	for i := range store.AccountCheckLimit {
		mustReserve(t, env, "alice", fmt.Sprintf("192.0.2.%d", i))
	}
	before := mustRawItems(t, env.Store)
	for i := range 30 {
		a, err := env.Store.LoginLookup(context.Background(), "alice", fmt.Sprintf("198.51.100.%d", i))
		if err != nil {
			t.Fatal(err)
		}
		n := env.Requests.Load()
		if _, th := throttledFor(t, env.Store.Reserve(context.Background(), a.Check())); !th {
			t.Fatal("an attempt on a capped account was not refused")
		}
		if d := env.Requests.Load() - n; d != 0 && env.Faults == nil {
			t.Fatalf("a refused attempt made %d DynamoDB requests", d)
		}
	}
	if after := mustRawItems(t, env.Store); len(after) != len(before) {
		t.Fatalf("refused attempts left %d items", len(after)-len(before))
	}
}
