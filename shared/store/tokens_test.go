package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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

	// The first token creates the map: the write that assumes one fails,
	// and its answer tells there is none. The next one is one write.
	for i, r := range []store.RefreshToken{refreshToken(env, "u1", "jti-0", time.Hour), rt} {
		before := env.Requests.Load()
		if err := env.Store.CreateRefreshToken(ctx, r); err != nil {
			t.Fatalf("create: %v", err)
		}
		if n := env.Requests.Load() - before; !env.RequestsMatch(n, int64(2-i)) {
			t.Errorf("create %d took %d requests, want %d", i, n, 2-i)
		}
	}
	before := env.Requests.Load()
	got, err := env.Store.RefreshToken(ctx, "u1", "jti-1")
	want := rt
	want.AccessLifetime = pufinid.DefaultLifetimes.Access // the user's, who has none of their own
	if err != nil || got != want {
		t.Fatalf("read back %+v, %v; want %+v", got, err, want)
	}
	if n := env.Requests.Load() - before; !env.RequestsMatch(n, 1) {
		t.Errorf("read took %d requests, want 1", n)
	}

	if _, err := env.Store.RefreshToken(ctx, "u2", "jti-1"); !apierror.Is(err, apierror.NotFound) {
		t.Errorf("another user's id finds the token: %v", err)
	}
	before = env.Requests.Load()
	if err := env.Store.RevokeRefreshToken(ctx, "u1", "jti-1"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if n := env.Requests.Load() - before; !env.RequestsMatch(n, 1) {
		t.Errorf("revoke took %d requests, want 1", n)
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

// A password change ends every session in its one write, however many
// there are, and only that user's.
func TestChangePasswordRevokesEveryRefreshTokenInOneWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	mustCreateUser(t, env, "u2", "b@example.com", "bob", "h2")
	const n = 30
	for i := range n {
		if err := env.Store.CreateRefreshToken(ctx, refreshToken(env, "u1", fmt.Sprint("a", i), time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.Store.CreateRefreshToken(ctx, refreshToken(env, "u2", "b0", time.Hour)); err != nil {
		t.Fatal(err)
	}
	before := env.Requests.Load()
	if err := env.Store.ChangePassword(ctx, "u1", "h1", "h1b"); err != nil {
		t.Fatalf("change password: %v", err)
	}
	if got := env.Requests.Load() - before; !env.RequestsMatch(got, 1) {
		t.Errorf("change password took %d requests, want 1", got)
	}
	for i := range n {
		if _, err := env.Store.RefreshToken(ctx, "u1", fmt.Sprint("a", i)); !apierror.Is(err, apierror.NotFound) {
			t.Fatalf("token a%d survived: %v", i, err)
		}
		if err := env.Store.RevokeRefreshToken(ctx, "u1", fmt.Sprint("a", i)); !apierror.Is(err, apierror.NotFound) {
			t.Fatalf("token a%d revoked after the change: %v, want not found", i, err)
		}
	}
	if _, err := env.Store.RefreshToken(ctx, "u2", "b0"); err != nil {
		t.Errorf("another user's token was revoked: %v", err)
	}
	if acct, err := env.Store.Account(ctx, "u1"); err != nil || acct.User.PasswordHash != "h1b" {
		t.Errorf("the profile after the change: %+v, %v", acct.User, err)
	}
	// The next session starts a new map.
	if err := env.Store.CreateRefreshToken(ctx, refreshToken(env, "u1", "after", time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.RefreshToken(ctx, "u1", "after"); err != nil {
		t.Errorf("a token recorded after the change: %v", err)
	}
}

// A reset ends every session as a change does, in the transaction that
// uses the emailed token.
func TestResetPasswordRevokesEveryRefreshToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	for i := range 3 {
		if err := env.Store.CreateRefreshToken(ctx, refreshToken(env, "u1", fmt.Sprint("a", i), time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	now := env.Clock.Now()
	if err := env.Store.IssueEmailToken(ctx, "u1", store.PurposeReset, store.EmailToken{Hash: "r", ExpiresAt: now.Add(time.Hour).Unix()}); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.ResetPassword(ctx, "u1", "wrong", "h2", now); !errors.Is(err, store.ErrEmailTokenInvalid) {
		t.Fatalf("reset with a wrong token: %v", err)
	}
	if _, err := env.Store.RefreshToken(ctx, "u1", "a0"); err != nil {
		t.Fatalf("a refused reset revoked a token: %v", err)
	}
	before := env.Requests.Load()
	if err := env.Store.ResetPassword(ctx, "u1", "r", "h2", now); err != nil {
		t.Fatal(err)
	}
	if got := env.Requests.Load() - before; !env.RequestsMatch(got, 1) {
		t.Errorf("reset took %d requests, want 1", got)
	}
	for i := range 3 {
		if _, err := env.Store.RefreshToken(ctx, "u1", fmt.Sprint("a", i)); !apierror.Is(err, apierror.NotFound) {
			t.Fatalf("token a%d survived the reset: %v", i, err)
		}
	}
}

// seedTokens records n tokens for userID, the i-th expiring i seconds
// after base, and returns their jtis in that order.
func seedTokens(t *testing.T, env *apitest.Env, userID, prefix string, n int, base time.Duration) []string {
	t.Helper()
	var jtis []string
	for i := range n {
		rt := refreshToken(env, userID, fmt.Sprintf("%s%03d", prefix, i), base+time.Duration(i)*time.Second)
		if err := env.Store.CreateRefreshToken(context.Background(), rt); err != nil {
			t.Fatal(err)
		}
		jtis = append(jtis, rt.JTI)
	}
	return jtis
}

// live reports which of jtis still refresh.
func live(t *testing.T, env *apitest.Env, userID string, jtis []string) (alive, dead []string) {
	t.Helper()
	for _, j := range jtis {
		switch _, err := env.Store.RefreshToken(context.Background(), userID, j); {
		case err == nil:
			alive = append(alive, j)
		case apierror.Is(err, apierror.NotFound):
			dead = append(dead, j)
		default:
			t.Fatal(err)
		}
	}
	return alive, dead
}

func TestRefreshTokensAreBoundedToTheNewest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	const extra = 7
	jtis := seedTokens(t, env, "u1", "t", store.MaxRefreshTokens+extra, time.Hour)
	alive, dead := live(t, env, "u1", jtis)
	if !slices.Equal(dead, jtis[:extra]) || !slices.Equal(alive, jtis[extra:]) {
		t.Fatalf("dead %v; want the %d that expire first", dead, extra)
	}
	entries, err := env.Inspect.RefreshTokenEntries(ctx, "u1")
	if err != nil || len(entries) != store.MaxRefreshTokens {
		t.Fatalf("the profile holds %d entries (%v), want %d", len(entries), err, store.MaxRefreshTokens)
	}
	// One more is one more request, whatever the map holds.
	before := env.Requests.Load()
	seedTokens(t, env, "u1", "u", 1, 2*time.Hour)
	if n := env.Requests.Load() - before; !env.RequestsMatch(n, 2) {
		t.Errorf("recording a token with a full map took %d requests, want 2 (the blind first write, then the one from its answer)", n)
	}
}

// Dead entries (revoked, expired) go with the next token recorded, and
// count for nothing: 50 live tokens stay live beside them.
func TestDeadEntriesAreRemovedByTheNextToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	short := seedTokens(t, env, "u1", "s", 3, time.Minute)
	revoked := seedTokens(t, env, "u1", "r", 3, time.Hour)
	for _, j := range revoked {
		if err := env.Store.RevokeRefreshToken(ctx, "u1", j); err != nil {
			t.Fatal(err)
		}
	}
	env.Clock.Advance(2 * time.Minute)
	kept := seedTokens(t, env, "u1", "k", store.MaxRefreshTokens, 2*time.Hour)
	entries, err := env.Inspect.RefreshTokenEntries(ctx, "u1")
	if err != nil || len(entries) != store.MaxRefreshTokens {
		t.Fatalf("the profile holds %d entries (%v), want %d", len(entries), err, store.MaxRefreshTokens)
	}
	if alive, _ := live(t, env, "u1", kept); len(alive) != len(kept) {
		t.Fatalf("%d of %d live tokens kept beside dead entries", len(alive), len(kept))
	}
	if alive, _ := live(t, env, "u1", append(short, revoked...)); len(alive) > 0 {
		t.Fatalf("dead tokens refresh: %v", alive)
	}
}

// Parallel logins never take a user past the bound, and keep the newest:
// each write is conditional on the map's size and on the entries it
// removes, and the losers compute theirs again from the answer.
func TestParallelTokensKeepTheBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	old := seedTokens(t, env, "u1", "old", store.MaxRefreshTokens-5, time.Hour)
	const parallel = 20
	var wg sync.WaitGroup
	errs := make([]error, parallel)
	var fresh []string
	for i := range parallel {
		rt := refreshToken(env, "u1", fmt.Sprintf("new%02d", i), 2*time.Hour+time.Duration(i)*time.Second)
		fresh = append(fresh, rt.JTI)
		wg.Go(func() { errs[i] = env.Store.CreateRefreshToken(ctx, rt) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("parallel token %d: %v", i, err)
		}
	}
	entries, err := env.Inspect.RefreshTokenEntries(ctx, "u1")
	if err != nil || len(entries) != store.MaxRefreshTokens {
		t.Fatalf("the profile holds %d entries (%v), want %d", len(entries), err, store.MaxRefreshTokens)
	}
	evicted := len(old) + parallel - store.MaxRefreshTokens
	if alive, dead := live(t, env, "u1", append(old, fresh...)); !slices.Equal(dead, old[:evicted]) || len(alive) != store.MaxRefreshTokens {
		t.Fatalf("dead %v; want the %d oldest", dead, evicted)
	}
}

// Parallel successful logins, each with the map its lookup read, all
// record their token and keep the bound: the transaction's failed
// condition brings the profile back, and the login computes its write
// again from it.
func TestParallelLoginsKeepTheBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	old := seedTokens(t, env, "u1", "old", store.MaxRefreshTokens-3, time.Hour)
	const parallel = 8
	attempts := make([]*store.LoginAttempt, parallel)
	for i := range attempts {
		a, err := env.Store.LoginLookup(ctx, "alice", fmt.Sprintf("192.0.2.%d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Store.Reserve(ctx, a.Check()); err != nil {
			t.Fatal(err)
		}
		attempts[i] = a
	}
	var wg sync.WaitGroup
	errs := make([]error, parallel)
	var fresh []string
	for i, a := range attempts {
		rt := refreshToken(env, "u1", fmt.Sprintf("login%d", i), 2*time.Hour+time.Duration(i)*time.Second)
		fresh = append(fresh, rt.JTI)
		wg.Go(func() { errs[i] = env.Store.LoginSucceeded(ctx, a, rt, "") })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
	}
	entries, err := env.Inspect.RefreshTokenEntries(ctx, "u1")
	if err != nil || len(entries) != store.MaxRefreshTokens {
		t.Fatalf("the profile holds %d entries (%v), want %d", len(entries), err, store.MaxRefreshTokens)
	}
	evicted := len(old) + parallel - store.MaxRefreshTokens
	if alive, dead := live(t, env, "u1", append(old, fresh...)); !slices.Equal(dead, old[:evicted]) || len(alive) != store.MaxRefreshTokens {
		t.Fatalf("dead %v; want the %d oldest", dead, evicted)
	}
}

// Tokens recorded before the map (RTOKEN# items) are refused, and the
// store leaves their items to the TTL.
func TestLegacyRefreshTokenItemsAreRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	exp := env.Clock.Now().Add(time.Hour).Unix()
	if err := env.Inspect.PutRaw(ctx, legacyRefreshToken("u1", "legacy", exp)); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.RefreshToken(ctx, "u1", "legacy"); !apierror.Is(err, apierror.NotFound) {
		t.Fatalf("a legacy token reads: %v, want not found", err)
	}
	if err := env.Store.RevokeRefreshToken(ctx, "u1", "legacy"); !apierror.Is(err, apierror.NotFound) {
		t.Fatalf("a legacy token revokes: %v, want not found", err)
	}
	if !slices.ContainsFunc(mustItems(t, env.Store), func(s string) bool { return strings.Contains(s, "RTOKEN#legacy") }) {
		t.Fatal("the legacy item went: nothing should touch it but the TTL")
	}
}

// legacyRefreshToken is an RTOKEN# item as the store wrote refresh tokens
// before they moved into the profile.
func legacyRefreshToken(userID, jti string, exp int64) map[string]types.AttributeValue {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v int64) types.AttributeValue {
		return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
	}
	return map[string]types.AttributeValue{
		store.AttrPK: s("USER#" + userID), store.AttrSK: s("RTOKEN#" + jti),
		"user_id": s(userID), "jti": s(jti), store.AttrTTL: n(exp), "access_lifetime": n(300),
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
		"create":          env.Store.CreateRefreshToken(ctx, refreshToken(env, "u1", "j", time.Hour)),
		"revoke":          env.Store.RevokeRefreshToken(ctx, "u1", "j"),
		"change password": env.Store.ChangePassword(ctx, "u1", "h", "h2"),
		"reserved":        env.Store.Reserve(ctx, a.Check()),
		"succeeded":       env.Store.LoginSucceeded(ctx, a, refreshToken(env, "u1", "j", time.Hour), ""),
	}
	_, calls["read"] = env.Store.RefreshToken(ctx, "u1", "j")
	_, calls["lookup"] = env.Store.LoginLookup(ctx, "alice", "192.0.2.1")
	for name, err := range calls {
		if !apierror.Is(err, apierror.Unavailable) {
			t.Errorf("%s during an outage: %v, want unavailable", name, err)
		}
	}
}
