package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
)

func mustCreateUser(t *testing.T, env *apitest.Env, id, email, username, hash string) pufinid.User {
	t.Helper()
	u := pufinid.User{ID: id, Email: email, Username: &username, PasswordHash: hash, CreatedAt: env.Clock.Now()}
	if err := env.Store.CreateUser(context.Background(), u, nil); err != nil {
		t.Fatalf("create user %s: %v", id, err)
	}
	return u
}

func refreshToken(env *apitest.Env, userID, jti string, life time.Duration) store.RefreshToken {
	return store.RefreshToken{UserID: userID, JTI: jti, ExpiresAt: env.Clock.Now().Add(life).Truncate(time.Second).UTC(),
		AccessLifetime: 60 * time.Second}
}

func TestRefreshTokenLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	rt := refreshToken(env, "u1", "jti-1", time.Hour)

	before := env.Requests.Load()
	if err := env.Store.CreateRefreshToken(ctx, rt); err != nil {
		t.Fatalf("create: %v", err)
	}
	if n := env.Requests.Load() - before; !env.RequestsMatch(n, 1) {
		t.Errorf("create took %d requests, want 1", n)
	}
	before = env.Requests.Load()
	got, err := env.Store.RefreshToken(ctx, "u1", "jti-1")
	if err != nil || got != rt {
		t.Fatalf("read back %+v, %v; want %+v", got, err, rt)
	}
	if n := env.Requests.Load() - before; !env.RequestsMatch(n, 1) {
		t.Errorf("read took %d requests, want 1", n)
	}

	if _, err := env.Store.RefreshToken(ctx, "u2", "jti-1"); !apierror.Is(err, apierror.NotFound) {
		t.Errorf("another user's id finds the token: %v", err)
	}
	if err := env.Store.RevokeRefreshToken(ctx, "u1", "jti-1"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if _, err := env.Store.RefreshToken(ctx, "u1", "jti-1"); !apierror.Is(err, apierror.NotFound) {
		t.Errorf("revoked token still reads: %v", err)
	}
	if err := env.Store.RevokeRefreshToken(ctx, "u1", "jti-1"); !apierror.Is(err, apierror.NotFound) {
		t.Errorf("second revoke: %v, want not found", err)
	}
}

func TestRefreshTokenForMissingUserIsNotRecorded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	if err := env.Store.CreateRefreshToken(ctx, refreshToken(env, "ghost", "j", time.Hour)); !apierror.Is(err, apierror.NotFound) {
		t.Fatalf("create for missing user: %v, want not found", err)
	}
	if _, err := env.Store.RefreshToken(ctx, "ghost", "j"); !apierror.Is(err, apierror.NotFound) {
		t.Fatalf("token of a missing user was recorded: %v", err)
	}
}

func TestExpiredRefreshTokenIsRefusedBeforeTTLDeletesIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	if err := env.Store.CreateRefreshToken(ctx, refreshToken(env, "u1", "j", time.Minute)); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(59 * time.Second)
	if _, err := env.Store.RefreshToken(ctx, "u1", "j"); err != nil {
		t.Fatalf("token read a second before expiry: %v", err)
	}
	env.Clock.Advance(time.Second)
	if _, err := env.Store.RefreshToken(ctx, "u1", "j"); !apierror.Is(err, apierror.NotFound) {
		t.Fatalf("expired token (item still in the table) reads: %v", err)
	}
}

func TestRevokeAllRefreshTokensTouchesOnlyThatUsersTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	mustCreateUser(t, env, "u2", "b@example.com", "bob", "h2")
	const n = 30 // more than one BatchWriteItem of 25
	for i := range n {
		if err := env.Store.CreateRefreshToken(ctx, refreshToken(env, "u1", fmt.Sprint("a", i), time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.Store.CreateRefreshToken(ctx, refreshToken(env, "u2", "b0", time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.RevokeAllRefreshTokens(ctx, "u1"); err != nil {
		t.Fatalf("revoke all: %v", err)
	}
	for i := range n {
		if _, err := env.Store.RefreshToken(ctx, "u1", fmt.Sprint("a", i)); !apierror.Is(err, apierror.NotFound) {
			t.Fatalf("token a%d survived: %v", i, err)
		}
	}
	if _, err := env.Store.RefreshToken(ctx, "u2", "b0"); err != nil {
		t.Errorf("another user's token was revoked: %v", err)
	}
	if _, err := env.Store.Account(ctx, "u1"); err != nil {
		t.Errorf("the profile went with the tokens: %v", err)
	}
	if err := env.Store.RevokeAllRefreshTokens(ctx, "nobody"); err != nil {
		t.Errorf("revoke all of a user without tokens: %v", err)
	}
}

func TestLoginLookup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "Alice@Example.com", "Alice", "h1")
	tests := []struct {
		name, login string
		found       bool
	}{
		{"username", "Alice", true},
		{"username in another case", "aLICE", true},
		{"email", "Alice@Example.com", true},
		{"email in another case", "alice@example.COM", true},
		{"unknown username", "bob", false},
		{"unknown email", "bob@example.com", false},
		{"username written as an email does not match", "alice@", false},
		{"overlong login", string(make([]byte, 300)), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := env.Requests.Load()
			a, err := env.Store.LoginLookup(ctx, tc.login, "192.0.2.1")
			if err != nil {
				t.Fatal(err)
			}
			if a.Found != tc.found || (tc.found && a.User.ID != "u1") {
				t.Errorf("found %v user %q; want %v", a.Found, a.User.ID, tc.found)
			}
			if n := env.Requests.Load() - before; !env.RequestsMatch(n, 2) {
				t.Errorf("lookup took %d requests, want 2 whether found or not", n)
			}
		})
	}
}

func TestLoginRacingAPasswordChangeRecordsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "old-hash")
	a, err := env.Store.LoginLookup(ctx, "alice", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.ChangePassword(ctx, "u1", "old-hash", "changed-hash"); err != nil {
		t.Fatal(err)
	}
	err = env.Store.LoginSucceeded(ctx, a, refreshToken(env, "u1", "j1", time.Hour), "rehash-of-old")
	if !errors.Is(err, store.ErrLoginStale) {
		t.Fatalf("login after a password change: %v, want ErrLoginStale", err)
	}
	if _, err := env.Store.RefreshToken(ctx, "u1", "j1"); !apierror.Is(err, apierror.NotFound) {
		t.Errorf("a refresh token was recorded for the old password: %v", err)
	}
	acct, _ := env.Store.Account(ctx, "u1")
	if acct.User.PasswordHash != "changed-hash" {
		t.Errorf("the rehash overwrote the new password: %q", acct.User.PasswordHash)
	}
}

func TestTokenStoreOutageIs503(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h")
	a, err := env.Store.LoginLookup(ctx, "alice", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	defer env.Outage()()
	calls := map[string]error{
		"create":     env.Store.CreateRefreshToken(ctx, refreshToken(env, "u1", "j", time.Hour)),
		"revoke":     env.Store.RevokeRefreshToken(ctx, "u1", "j"),
		"revoke all": env.Store.RevokeAllRefreshTokens(ctx, "u1"),
		"reserved":   env.Store.Reserve(ctx, a.Check()),
		"succeeded":  env.Store.LoginSucceeded(ctx, a, refreshToken(env, "u1", "j", time.Hour), ""),
	}
	_, calls["read"] = env.Store.RefreshToken(ctx, "u1", "j")
	_, calls["lookup"] = env.Store.LoginLookup(ctx, "alice", "192.0.2.1")
	for name, err := range calls {
		if !apierror.Is(err, apierror.Unavailable) {
			t.Errorf("%s during an outage: %v, want unavailable", name, err)
		}
	}
}
