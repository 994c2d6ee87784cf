package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/emailaddr"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
)

// oldAccount creates a user as the store did before the canonical form:
// its email claim keyed by strings.ToLower of the address, with or without
// the address in it (the oldest claims had only the user id).
func oldAccount(t *testing.T, env *apitest.Env, id, email string, claimHasEmail bool) {
	t.Helper()
	ctx := context.Background()
	u := pufinid.User{ID: id, Email: email, PasswordHash: "h-" + id, CreatedAt: env.Clock.Now()}
	if err := env.Store.CreateUser(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	if err := env.Inspect.DeleteRaw(ctx, "EMAIL#"+canonicalForTest(t, email), "CLAIM"); err != nil {
		t.Fatal(err)
	}
	legacy := map[string]types.AttributeValue{store.AttrPK: s("EMAIL#" + strings.ToLower(email)), store.AttrSK: s("CLAIM"), "user_id": s(id)}
	if claimHasEmail {
		legacy["email"] = s(email)
	}
	if err := env.Inspect.PutRaw(ctx, legacy); err != nil {
		t.Fatal(err)
	}
}

func canonicalForTest(t *testing.T, email string) string {
	t.Helper()
	c, err := emailaddr.Canonical(email)
	if err != nil {
		return emailaddr.Legacy(email) // where the store keys an address today's rules refuse
	}
	return c
}

func owner(t *testing.T, env *apitest.Env, email string) string {
	t.Helper()
	o, found, err := env.Store.EmailOwner(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		return ""
	}
	return o.UserID
}

func TestAccountsFromBeforeTheCanonicalFormAreFound(t *testing.T) {
	t.Parallel()
	for _, withEmail := range []bool{true, false} {
		env := apitest.New(t)
		oldAccount(t, env, "u1", "ＢＯＢ@example.com", withEmail) // fullwidth: ToLower keeps it fullwidth
		mustCreateUser(t, env, "u2", "alice@example.com", "alice", "h2")
		// As typed before, the account is found (by its legacy key) ...
		if got := owner(t, env, "ｂｏｂ@example.com"); got != "u1" {
			t.Fatalf("claim with email %v: legacy spelling found %q", withEmail, got)
		}
		a, err := env.Store.LoginLookup(context.Background(), "ＢＯＢ@EXAMPLE.COM", "192.0.2.1")
		if err != nil || !a.Found || a.User.ID != "u1" {
			t.Fatalf("login by the legacy spelling: %+v %v", a, err)
		}
		// ... and a legacy key that is another address's never is: the old
		// lowercase folded "İ" into "i", so "alİce" lands on alice's key.
		if got := owner(t, env, "alİce@example.com"); got != "" {
			t.Fatalf("a look-alike found %q's account by its legacy key", got)
		}
		if a, err := env.Store.LoginLookup(context.Background(), "alİce@example.com", "192.0.2.1"); err != nil || a.Found {
			t.Fatalf("login by a look-alike found %+v %v", a, err)
		}
		// After the migration, every spelling finds it and signups of one
		// are refused.
		m, err := env.Store.MigrateEmailClaims(context.Background())
		if err != nil || m.Moved != 1 || len(m.Conflicts) != 0 {
			t.Fatalf("migration: %v %v", m, err)
		}
		for _, spelling := range []string{"bob@example.com", "BOB@example.com", "ｂｏｂ@example.com"} {
			if got := owner(t, env, spelling); got != "u1" {
				t.Fatalf("after the migration, %q found %q", spelling, got)
			}
		}
		dup := pufinid.User{ID: "u3", Email: "bob@example.com", PasswordHash: "h3"}
		if err := env.Store.CreateUser(context.Background(), dup, nil); !apierror.Is(err, apierror.Invalid) {
			t.Fatalf("signup of another spelling after the migration: %v", err)
		}
		if m, err := env.Store.MigrateEmailClaims(context.Background()); err != nil || m.Moved != 0 {
			t.Fatalf("second migration: %v %v", m, err)
		}
		// Deleting the account frees every spelling.
		acct, err := env.Store.Account(context.Background(), "u1")
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Store.DeleteUser(context.Background(), acct.User); err != nil {
			t.Fatal(err)
		}
		if got := owner(t, env, "bob@example.com"); got != "" {
			t.Fatalf("after delete: %q", got)
		}
	}
}

// An old account not yet migrated still holds its address against a new
// signup of the same spelling, and deleting it removes its legacy claim.
func TestUnmigratedAccountsKeepTheirAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	oldAccount(t, env, "u1", "ＢＯＢ@example.com", true)
	dup := pufinid.User{ID: "u3", Email: "ＢＯＢ@example.com", PasswordHash: "h3"}
	if err := env.Store.CreateUser(ctx, dup, nil); !apierror.Is(err, apierror.Invalid) {
		t.Fatalf("signup with the old account's spelling: %v", err)
	}
	acct, err := env.Store.Account(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.DeleteUser(ctx, acct.User); err != nil {
		t.Fatalf("delete an unmigrated account: %v", err)
	}
	if got := owner(t, env, "ｂｏｂ@example.com"); got != "" {
		t.Fatalf("after delete: %q", got)
	}
	if err := env.Store.CreateUser(ctx, dup, nil); err != nil {
		t.Fatalf("the address signs up again: %v", err)
	}
}

// A claim made before the canonical form for "alİce@example.com" sits at
// "EMAIL#alice@example.com" (strings.ToLower folded "İ" into "i"): the
// canonical key of another address. Neither lookup nor login of
// alice@example.com may reach that account; the migration moves the claim
// away, and alice@example.com can then sign up.
func TestALegacyClaimOnAnotherAddressesCanonicalKeyIsNotTheirs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, withEmail := range []bool{true, false} {
		env := apitest.New(t)
		oldAccount(t, env, "u1", "alİce@example.com", withEmail)
		if got := owner(t, env, "alice@example.com"); got != "" {
			t.Fatalf("claim with email %v: alice@example.com found %q", withEmail, got)
		}
		if a, err := env.Store.LoginLookup(ctx, "alice@example.com", "192.0.2.1"); err != nil || a.Found {
			t.Fatalf("login as alice@example.com found %+v %v", a, err)
		}
		if got := owner(t, env, "alİce@example.com"); got != "u1" {
			t.Fatalf("the account's own spelling found %q", got)
		}
		if m, err := env.Store.MigrateEmailClaims(ctx); err != nil || m.Moved != 1 {
			t.Fatalf("migration: %v %v", m, err)
		}
		if err := env.Store.CreateUser(ctx, pufinid.User{ID: "u2", Email: "alice@example.com", PasswordHash: "h"}, nil); err != nil {
			t.Fatalf("alice@example.com signs up after the migration: %v", err)
		}
		if got := owner(t, env, "alİce@example.com"); got != "u1" {
			t.Fatalf("after the migration the old account's spelling found %q", got)
		}
	}
}

// An account made under looser rules (an address today's refuse) is still
// found by its own address.
func TestAnAddressTodaysRulesRefuseStillFindsItsAccount(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	oldAccount(t, env, "u1", "Bob@My_Host.com", true)
	if a, err := env.Store.LoginLookup(context.Background(), "bob@my_host.com", "192.0.2.1"); err != nil || !a.Found {
		t.Fatalf("login of an old address: %+v %v", a, err)
	}
}
