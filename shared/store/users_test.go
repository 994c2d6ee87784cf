package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
)

// userItems are the items that mention id (its partition and its claims).
func userItems(items []string, id string) []string {
	var out []string
	for _, it := range items {
		if strings.Contains(it, id) {
			out = append(out, it)
		}
	}
	return out
}

func emailToken(hash string, expires time.Time) store.EmailToken {
	return store.EmailToken{Hash: hash, ExpiresAt: expires.Unix()}
}

func TestDeleteUserRemovesEverythingOfTheUserAndNothingElse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                   string
		tokens, legacy, accept int
		// requests is what the delete costs, 0 to leave it unchecked.
		requests int64
	}{
		{"3 refresh tokens", 3, 0, 1, 2},
		{"130 refresh tokens (50 kept)", 130, 0, 1, 2},
		// Items of refresh tokens from before the map: the delete does not
		// read them, and leaves them to their TTL (refused meanwhile).
		{"130 legacy refresh token items", 3, 130, 1, 2},
		// Past one transaction's 100 items: the excess goes just before.
		{"130 term acceptances", 3, 0, 130, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // a table of its own
			ctx := context.Background()
			env := apitest.New(t)
			now := env.Clock.Now()
			u := pufinid.User{ID: "doomed", Email: "Doomed@Example.com", Username: new("doomed"), PasswordHash: "h1"}
			acc := []pufinid.Acceptance{{Slug: "privacy", VersionNumber: 1, AcceptedAt: now}}
			if err := env.Store.CreateUser(ctx, u, acc, store.WithEmailToken(store.PurposeConfirm, emailToken("c", now.Add(time.Hour)))); err != nil {
				t.Fatal(err)
			}
			for i := 1; i < tc.accept; i++ {
				if err := env.Store.AcceptTerm(ctx, u.ID, pufinid.Acceptance{Slug: fmt.Sprintf("t%03d", i), VersionNumber: 1, AcceptedAt: now}); err != nil {
					t.Fatal(err)
				}
			}
			if err := env.Store.IssueEmailToken(ctx, u.ID, store.PurposeReset, emailToken("r", now.Add(time.Hour))); err != nil {
				t.Fatal(err)
			}
			for i := range tc.tokens {
				if err := env.Store.CreateRefreshToken(ctx, refreshToken(env, u.ID, fmt.Sprint("jti-", i), time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			var legacy []string
			for i := range tc.legacy {
				it := legacyRefreshToken(u.ID, fmt.Sprint("old-", i), now.Add(time.Hour).Unix())
				if err := env.Inspect.PutRaw(ctx, it); err != nil {
					t.Fatal(err)
				}
			}
			mustCreateUser(t, env, "bystander", "by@example.com", "bystander", "h2")
			if err := env.Store.CreateRefreshToken(ctx, refreshToken(env, "bystander", "jti-b", time.Hour)); err != nil {
				t.Fatal(err)
			}
			before := mustItems(t, env.Store)
			for _, it := range userItems(before, "doomed") {
				if strings.Contains(it, "RTOKEN#") {
					legacy = append(legacy, it)
				}
			}
			// profile, claims, acceptances, email tokens: refresh tokens are
			// in the profile
			if n := len(userItems(before, "doomed")); n != 1+2+tc.accept+2+tc.legacy {
				t.Fatalf("set-up wrote %d items of the user", n)
			}

			start := env.Requests.Load()
			if err := env.Store.DeleteUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if n := env.Requests.Load() - start; tc.requests > 0 && !env.RequestsMatch(n, tc.requests) {
				t.Errorf("the delete took %d requests, want %d", n, tc.requests)
			}
			after := mustItems(t, env.Store)
			if left := userItems(after, "doomed"); !slices.Equal(left, legacy) {
				t.Fatalf("items of the deleted user remain: %v", left)
			}
			others := slices.DeleteFunc(slices.Clone(before), func(s string) bool {
				return strings.Contains(s, "doomed") && !strings.Contains(s, "RTOKEN#")
			})
			if !slices.Equal(after, others) {
				t.Fatalf("other items changed:\nbefore %v\nafter  %v", others, after)
			}
			if _, found, _ := env.Store.EmailOwner(ctx, "doomed@example.com"); found {
				t.Fatal("email claim left behind")
			}
			if _, err := env.Store.RefreshToken(ctx, u.ID, "jti-0"); !apierror.Is(err, apierror.NotFound) {
				t.Fatalf("a refresh token of the deleted user: %v, want not found", err)
			}
		})
	}
}

func TestDeleteUserIsConditionalOnThePasswordChecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	u := mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	before := mustItems(t, env.Store)
	stale := u
	stale.PasswordHash = "h0"
	if err := env.Store.DeleteUser(ctx, stale); !errors.Is(err, store.ErrUserChanged) {
		t.Fatalf("delete with a stale hash: %v, want ErrUserChanged", err)
	}
	if after := mustItems(t, env.Store); !slices.Equal(before, after) {
		t.Fatalf("a refused delete changed the table:\n%v\n%v", before, after)
	}
	if err := env.Store.DeleteUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.DeleteUser(ctx, u); !errors.Is(err, store.ErrUserChanged) {
		t.Fatalf("second delete: %v, want ErrUserChanged", err)
	}
}

func TestUpdateProfileOfAMissingUserWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	err := env.Store.UpdateProfile(ctx, "ghost", map[string]*string{"phone": new("123")})
	if !apierror.Is(err, apierror.NotFound) {
		t.Fatalf("update of a missing user: %v, want 404", err)
	}
	if items := mustItems(t, env.Store); len(items) != 0 {
		t.Fatalf("table holds %v", items)
	}
}

func TestEmailTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	now := env.Clock.Now()
	later := now.Add(time.Hour)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")

	type step struct {
		name string
		run  func() error
		want error
	}
	issue := func(p store.EmailPurpose, user, hash string, wantIssued bool) func() error {
		return func() error {
			err := env.Store.IssueEmailToken(ctx, user, p, emailToken(hash, later))
			issued := err == nil
			if errors.Is(err, store.ErrNotIssued) {
				err = nil
			}
			if err == nil && issued != wantIssued {
				return fmt.Errorf("issued %v, want %v", issued, wantIssued)
			}
			return err
		}
	}
	confirm := func(hash string, at time.Time) func() error {
		return func() error { return env.Store.ConfirmEmail(ctx, "u1", hash, at) }
	}
	steps := []step{
		{"no token yet", confirm("one", now), store.ErrEmailTokenInvalid},
		{"issue for an unknown user writes nothing", issue(store.PurposeConfirm, "ghost", "x", false), nil},
		{"issue", issue(store.PurposeConfirm, "u1", "one", true), nil},
		{"a newer token replaces it", issue(store.PurposeConfirm, "u1", "two", true), nil},
		{"the older one is dead", confirm("one", now), store.ErrEmailTokenInvalid},
		{"expired by the clock, whatever TTL did", confirm("two", later), store.ErrEmailTokenInvalid},
		{"the right one works", confirm("two", now), nil},
		{"once", confirm("two", now), store.ErrEmailTokenInvalid},
		{"no confirmation token for a verified user", issue(store.PurposeConfirm, "u1", "three", false), nil},
		{"a reset token for a verified user", issue(store.PurposeReset, "u1", "r", true), nil},
		{"reset with a wrong hash", func() error { return env.Store.ResetPassword(ctx, "u1", "x", "h2", now) }, store.ErrEmailTokenInvalid},
		{"reset", func() error { return env.Store.ResetPassword(ctx, "u1", "r", "h2", now) }, nil},
		{"reset once", func() error { return env.Store.ResetPassword(ctx, "u1", "r", "h3", now) }, store.ErrEmailTokenInvalid},
	}
	for _, s := range steps {
		if err := s.run(); !errors.Is(err, s.want) && !(err == nil && s.want == nil) {
			t.Fatalf("%s: %v, want %v", s.name, err, s.want)
		}
	}
	u, tok, err := env.Store.UserAndEmailToken(ctx, "u1", store.PurposeReset)
	if err != nil || !u.IsVerified || u.PasswordHash != "h2" || tok.Hash != "" {
		t.Fatalf("after the steps: %+v %+v %v", u, tok, err)
	}
	if items := userItems(mustItems(t, env.Store), "ghost"); len(items) > 0 {
		t.Fatalf("issuing for an unknown user wrote %v", items)
	}
}

func TestParallelUsesOfOneEmailTokenSucceedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	now := env.Clock.Now()
	u := mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	if err := env.Store.IssueEmailToken(ctx, u.ID, store.PurposeConfirm, emailToken("t", now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]error, 10)
	for i := range results {
		wg.Go(func() { results[i] = env.Store.ConfirmEmail(ctx, u.ID, "t", now) })
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrEmailTokenInvalid):
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of 10 parallel uses succeeded, want 1", ok)
	}
}

func TestAllowEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	start := env.Clock.Now()
	at := func(d time.Duration) time.Time { return start.Add(d) }
	allow := func(addr string, p store.EmailPurpose, when time.Time) bool {
		t.Helper()
		ok, err := env.Store.AllowEmail(ctx, addr, p, when)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	steps := []struct {
		name string
		addr string
		p    store.EmailPurpose
		when time.Duration
		want bool
	}{
		{"first email", "a@example.com", store.PurposeConfirm, 0, true},
		{"again at once", "a@example.com", store.PurposeConfirm, time.Second, false},
		{"the address in another case is the same address", "A@EXAMPLE.COM", store.PurposeConfirm, 59 * time.Second, false},
		{"the other route has its own budget", "a@example.com", store.PurposeReset, time.Second, true},
		{"another address has its own budget", "b@example.com", store.PurposeConfirm, time.Second, true},
		{"after a minute", "a@example.com", store.PurposeConfirm, time.Minute, true},
	}
	for _, s := range steps {
		if got := allow(s.addr, s.p, at(s.when)); got != s.want {
			t.Fatalf("%s: allowed %v, want %v", s.name, got, s.want)
		}
	}
	// Emails 3..10 of the window, one a minute; the 11th is refused even
	// much later in the window; the next window opens a day after the first.
	for i := 2; i < 10; i++ {
		if !allow("a@example.com", store.PurposeConfirm, at(time.Duration(i)*time.Minute)) {
			t.Fatalf("email %d of the window refused", i+1)
		}
	}
	if allow("a@example.com", store.PurposeConfirm, at(12*time.Hour)) {
		t.Fatal("an 11th email in one day was allowed")
	}
	if allow("a@example.com", store.PurposeConfirm, at(24*time.Hour-time.Second)) {
		t.Fatal("allowed before the window ended")
	}
	if !allow("a@example.com", store.PurposeConfirm, at(24*time.Hour)) {
		t.Fatal("refused after the window ended")
	}
	if allow("a@example.com", store.PurposeConfirm, at(24*time.Hour+time.Second)) {
		t.Fatal("the new window skipped the minute between emails")
	}
	if items := mustItems(t, env.Store); slices.ContainsFunc(items, func(s string) bool { return strings.Contains(strings.ToLower(s), "example.com") }) {
		t.Fatalf("throttle items hold the address: %v", items)
	}
}

func TestParallelEmailsToOneAddressAllowOne(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"fresh address", "window in progress"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // a table of its own
			ctx := context.Background()
			env := apitest.New(t)
			now := env.Clock.Now()
			if name == "window in progress" {
				if ok, err := env.Store.AllowEmail(ctx, "a@example.com", store.PurposeReset, now.Add(-time.Hour)); !ok || err != nil {
					t.Fatal(ok, err)
				}
			}
			var wg sync.WaitGroup
			allowed := make([]bool, 10)
			for i := range allowed {
				wg.Go(func() {
					ok, err := env.Store.AllowEmail(ctx, "a@example.com", store.PurposeReset, now)
					if err != nil {
						t.Error(err)
					}
					allowed[i] = ok
				})
			}
			wg.Wait()
			if n := len(slices.DeleteFunc(allowed, func(b bool) bool { return !b })); n != 1 {
				t.Fatalf("%d of 10 parallel requests allowed, want 1", n)
			}
		})
	}
}

func TestEmailWritesUnderOutageAre503(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	defer env.Outage()()
	now := env.Clock.Now()
	calls := map[string]func() error{
		"allow": func() error {
			_, err := env.Store.AllowEmail(ctx, "a@example.com", store.PurposeReset, now)
			return err
		},
		"issue": func() error {
			return env.Store.IssueEmailToken(ctx, "u1", store.PurposeReset, emailToken("x", now))
		},
		"confirm": func() error { return env.Store.ConfirmEmail(ctx, "u1", "x", now) },
		"delete":  func() error { return env.Store.DeleteUser(ctx, pufinid.User{ID: "u1", Email: "a@example.com"}) },
		"update": func() error {
			return env.Store.UpdateProfile(ctx, "u1", map[string]*string{"age": nil})
		},
		"lookup": func() error { _, _, err := env.Store.EmailOwner(ctx, "a@example.com"); return err },
	}
	for name, call := range calls {
		if err := call(); !apierror.Is(err, apierror.Unavailable) {
			t.Errorf("%s under outage: %v, want Unavailable", name, err)
		}
	}
}
