package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/fixtures"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
)

// emptyShapes is reference data holding every empty object and list the
// fixture format allows: an organization theme {}, a FAQ topic without
// questions, an apps profile whose base, group and QR-code overlays have
// empty config and actions.
func emptyShapes(t *testing.T) pufinid.Reference {
	t.Helper()
	ref, err := fixtures.Parse(strings.NewReader(`{
	  "organizations": [{"id": "a499459d-d34e-4d7e-9836-8effc6707572", "name": "Demo", "code": null, "theme": {}},
	                    {"id": "91271ecf-f367-4f23-9695-e19fc4488f2c", "name": "Nested", "code": "N", "theme": {"logo": {}, "colors": []}}],
	  "terms": [{"slug": "privacy", "name": "Privacy", "version_number": 1, "text": "t", "info": "", "date_active": "2019-08-24T14:15:22Z"}],
	  "faq_topics": [{"id": 1, "name": "Empty", "sort_order": 0, "questions": []},
	                 {"id": 2, "name": "Full", "sort_order": 1, "questions": [{"id": 1, "question": "q", "answer": "a", "sort_order": 0}]}],
	  "puf_designs": [{"id": "611e6db9-c158-4124-923f-1af4fe5867f4", "name": "Dot", "description": "d", "puf_design_type": "dot",
	                   "organization": "a499459d-d34e-4d7e-9836-8effc6707572", "puf_design_icon_url": "https://static.example/dot.png", "auto_capture_enabled": false}],
	  "apps_profiles": [{"client_id": "app", "config": {}, "actions": {},
	                     "groups": {"g": {"config": {}, "actions": {}}, "h": {"config": {"a": {}, "b": []}, "actions": {}}},
	                     "codes": {"c": {"config": {}, "actions": {}}}}]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// A transaction DynamoDB cancels changes nothing. The embedded store
// (minidyn v0.8.2) undoes one by restoring a copy of the whole table, a copy
// that loses every empty map and list's type, after which every Query of
// the table fails: so the store must never write one. This test writes
// every kind of item the store and the fixture loader make, cancels every
// kind of transaction the store makes, and checks after each that every
// item reads back as it was and that the reads still work.
func TestCancelledTransactionsChangeNoItem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	now := env.Clock.Now()
	mustSave(t, env.Store, emptyShapes(t))

	demo, err := env.Store.OrganizationByCode(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	u := pufinid.User{ID: "u1", Email: "ada@example.com", Username: new("ada"), PasswordHash: "h1",
		OrganizationID: demo.ID, Theme: demo.Theme, CreatedAt: now}
	acc := []pufinid.Acceptance{{Slug: "privacy", VersionNumber: 1, AcceptedAt: now}}
	if err := env.Store.CreateUser(ctx, u, acc, store.WithEmailToken(store.PurposeConfirm, emailToken("c", now.Add(time.Hour)))); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.IssueEmailToken(ctx, u.ID, store.PurposeReset, emailToken("r", now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.CreateRefreshToken(ctx, refreshToken(env, u.ID, "jti-1", time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.AllowEmail(ctx, u.Email, store.PurposeReset, now); err != nil {
		t.Fatal(err)
	}
	failed, err := env.Store.LoginLookup(ctx, "ada", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.Reserve(ctx, failed.Check()); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		// cancel runs a transaction DynamoDB cancels and checks its answer.
		cancel func(t *testing.T)
		// changes, if set, tells the items the call may change once it has
		// retried after the cancellation (the login failure counters).
		changes func(item string) bool
	}{
		{"signup with a taken email", func(t *testing.T) {
			dup := u
			dup.ID, dup.Username = "u2", nil
			err := env.Store.CreateUser(ctx, dup, acc, store.WithEmailToken(store.PurposeConfirm, emailToken("x", now.Add(time.Hour))))
			if !apierror.Is(err, apierror.Invalid) {
				t.Fatalf("got %v, want a field error", err)
			}
		}, nil},
		{"accepting a term for a missing user", func(t *testing.T) {
			if err := env.Store.AcceptTerm(ctx, "nobody", acc[0]); !apierror.Is(err, apierror.NotFound) {
				t.Fatalf("got %v, want not found", err)
			}
		}, nil},
		{"issuing an email token to a missing user", func(t *testing.T) {
			if err := env.Store.IssueEmailToken(ctx, "nobody", store.PurposeReset, emailToken("x", now.Add(time.Hour))); !errors.Is(err, store.ErrNotIssued) {
				t.Fatalf("got %v, want ErrNotIssued (nothing written)", err)
			}
		}, nil},
		{"confirming with a wrong token", func(t *testing.T) {
			if err := env.Store.ConfirmEmail(ctx, u.ID, "wrong", now); !errors.Is(err, store.ErrEmailTokenInvalid) {
				t.Fatalf("got %v", err)
			}
		}, nil},
		{"resetting with a wrong token", func(t *testing.T) {
			if err := env.Store.ResetPassword(ctx, u.ID, "wrong", "h2", now); !errors.Is(err, store.ErrEmailTokenInvalid) {
				t.Fatalf("got %v", err)
			}
		}, nil},
		{"recording a refresh token for a missing user", func(t *testing.T) {
			if err := env.Store.CreateRefreshToken(ctx, refreshToken(env, "nobody", "jti-x", time.Hour)); !apierror.Is(err, apierror.NotFound) {
				t.Fatalf("got %v, want not found", err)
			}
		}, nil},
		{"a login that succeeded after the password changed", func(t *testing.T) {
			stale := *failed
			stale.User.PasswordHash = "an older hash"
			if err := env.Store.LoginSucceeded(ctx, &stale, refreshToken(env, u.ID, "jti-y", time.Hour), ""); !errors.Is(err, store.ErrLoginStale) {
				t.Fatalf("got %v", err)
			}
		}, nil},
		{"deleting a user whose password changed", func(t *testing.T) {
			stale := u
			stale.PasswordHash = "an older hash"
			if err := env.Store.DeleteUser(ctx, stale); !errors.Is(err, store.ErrUserChanged) {
				t.Fatalf("got %v", err)
			}
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := mustRawItems(t, env.Store)
			tc.cancel(t)
			after := mustRawItems(t, env.Store)
			if tc.changes != nil {
				before = slices.DeleteFunc(before, tc.changes)
				after = slices.DeleteFunc(after, tc.changes)
			}
			if !slices.Equal(before, after) {
				t.Fatalf("items changed:\nbefore\n%s\nafter\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
			}
			mustReadEverything(t, env.Store, u.ID)
		})
	}
}

func mustRawItems(t *testing.T, st *store.Store) []string {
	t.Helper()
	items, err := st.RawItems(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if strings.Contains(it, `{"?":null}`) {
			t.Fatalf("an attribute lost its type: %s", it)
		}
	}
	return items
}

// mustReadEverything runs every kind of read the store makes: Queries of
// the reference partitions and of the user's, key lookups and batch reads.
func mustReadEverything(t *testing.T, st *store.Store, userID string) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Account(ctx, userID); err != nil {
		t.Fatalf("account: %v", err)
	}
	if terms, err := st.Terms(ctx); err != nil || len(terms) != 1 {
		t.Fatalf("terms: %v, %v", terms, err)
	}
	topics, err := st.FAQTopics(ctx)
	if err != nil || len(topics) != 2 || topics[0].Questions == nil {
		t.Fatalf("FAQ topics: %+v, %v", topics, err)
	}
	if ds, err := st.PufDesigns(ctx, "a499459d-d34e-4d7e-9836-8effc6707572"); err != nil || len(ds) != 1 {
		t.Fatalf("PUF designs: %v, %v", ds, err)
	}
	p, err := st.AppProfile(ctx, "app", "h", "c")
	if err != nil {
		t.Fatalf("apps profile: %v", err)
	}
	if b, _ := json.Marshal(p); string(b) != `{"config":{"a":{},"b":[]},"actions":{}}` {
		t.Fatalf("apps profile: %s", b)
	}
	o, err := st.OrganizationByCode(ctx, new("N"))
	if err != nil || string(o.Theme) != `{"logo":{},"colors":[]}` {
		t.Fatalf("organization: %s, %v", o.Theme, err)
	}
	if _, _, err := st.UserAndEmailToken(ctx, userID, store.PurposeReset); err != nil {
		t.Fatalf("user and email token: %v", err)
	}
}
