package apitest_test

import (
	"context"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
)

func refreshToken(env *apitest.Env, jti string) store.RefreshToken {
	return store.RefreshToken{UserID: "u1", JTI: jti, ExpiresAt: env.Clock.Now().Add(time.Hour), AccessLifetime: 5 * time.Minute}
}

func mustUser(t *testing.T, env *apitest.Env) {
	t.Helper()
	if err := env.Inspect.CreateUser(context.Background(), pufinid.User{ID: "u1", Email: "ada@example.com", PasswordHash: "h"}, nil); err != nil {
		t.Fatal(err)
	}
}

// A connection the embedded store drops (a transport error, which a busy
// machine gives now and then) costs a test nothing: the harness's store
// client retries it as a deployed function's client does, and counts the
// call once, so that the tests' request counts hold.
func TestDroppedConnectionsAreRetriedAndCountedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustUser(t, env)
	// The user's map of refresh tokens exists, so recording one is one
	// write.
	if err := env.Store.CreateRefreshToken(ctx, refreshToken(env, "j0")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		run  func() error
	}{
		{"a conditional write", func() error { return env.Store.CreateRefreshToken(ctx, refreshToken(env, "j1")) }},
		{"a strongly consistent read", func() error { _, err := env.Store.RefreshToken(ctx, "u1", "j1"); return err }},
	}
	for _, tc := range cases {
		before := env.Requests.Load()
		env.DropConnections(2)
		if err := tc.run(); err != nil {
			t.Fatalf("%s after 2 dropped connections: %v", tc.name, err)
		}
		if left := env.DB.PendingDrops(env.Store.Table()); left != 0 {
			t.Fatalf("%s: %d of 2 connections not dropped: the test tested nothing", tc.name, left)
		}
		if n := env.Requests.Load() - before; !env.RequestsMatch(n, 1) {
			t.Errorf("%s: %d DynamoDB requests counted, want 1 (attempts are not requests)", tc.name, n)
		}
	}
}

// A connection dropped at every attempt is the store's 503 once the
// attempts run out, and writes nothing.
func TestConnectionsDroppedAtEveryAttemptAre503AndWriteNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustUser(t, env)
	const drops = 1000
	env.DropConnections(drops)
	err := env.Store.CreateRefreshToken(ctx, refreshToken(env, "j1"))
	attempts := drops - env.DB.PendingDrops(env.Store.Table())
	env.DropConnections(0)
	if !apierror.Is(err, apierror.Unavailable) {
		t.Fatalf("write over dropped connections: %v, want unavailable", err)
	}
	if attempts < 2 {
		t.Errorf("%d attempt(s) before the 503: a dropped connection was not retried", attempts)
	}
	if _, err := env.Inspect.RefreshToken(ctx, "u1", "j1"); !apierror.Is(err, apierror.NotFound) {
		t.Errorf("the refresh token after a failed write: %v, want none", err)
	}
}

// Drops are per table: other tests, on the same embedded store, keep
// their connections.
func TestDroppedConnectionsTouchOnlyTheirTable(t *testing.T) {
	t.Parallel()
	env, other := apitest.New(t), apitest.New(t)
	mustUser(t, other)
	env.DropConnections(5)
	defer env.DropConnections(0)
	if _, err := other.Store.Account(context.Background(), "u1"); err != nil {
		t.Fatalf("a read of another table: %v", err)
	}
	if left := env.DB.PendingDrops(env.Store.Table()); left != 5 {
		t.Fatalf("%d drops left, want 5: another table's request was dropped", left)
	}
}
