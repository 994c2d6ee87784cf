package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
)

// readRecorder records, for every read the store sends, whether it asked
// for a strongly consistent answer.
type readRecorder struct {
	mu    sync.Mutex
	reads []string // "GetItem strong", "Query eventual"...
}

func (r *readRecorder) install(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("RecordConsistency",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			var op string
			var consistent *bool
			switch p := in.Parameters.(type) {
			case *dynamodb.GetItemInput:
				op, consistent = "GetItem", p.ConsistentRead
			case *dynamodb.QueryInput:
				op, consistent = "Query", p.ConsistentRead
			case *dynamodb.BatchGetItemInput:
				op = "BatchGetItem"
				for _, ka := range p.RequestItems {
					consistent = ka.ConsistentRead
				}
			}
			if op != "" {
				r.mu.Lock()
				if aws.ToBool(consistent) {
					r.reads = append(r.reads, op+" strong")
				} else {
					r.reads = append(r.reads, op+" eventual")
				}
				r.mu.Unlock()
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

func (r *readRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reads
	r.reads = nil
	return out
}

// Every read that decides a security question (is this refresh token
// revoked, is this email token still unused, which account owns this
// login or address, is this login throttled, what does the user hold) is
// strongly consistent: an eventually consistent one may miss a revoke, a
// use or a failure acknowledged a moment before. Reference data, which
// only the fixture loader writes, is read eventually consistent.
func TestSecurityReadsAreStronglyConsistent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	rec := &readRecorder{}
	st, err := store.Open(ctx, store.Options{Table: env.Store.Table(), Endpoint: env.DB.URL, Now: env.Clock.Now,
		APIOptions: []func(*middleware.Stack) error{rec.install}})
	if err != nil {
		t.Fatal(err)
	}
	now := env.Clock.Now()
	u := pufinid.User{ID: "u1", Email: "ada@example.com", Username: new("ada"), PasswordHash: "h1"}
	if err := st.CreateUser(ctx, u, nil, store.WithEmailToken(store.PurposeConfirm, emailToken("c", now.Add(time.Hour)))); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateRefreshToken(ctx, refreshToken(env, u.ID, "j1", time.Hour)); err != nil {
		t.Fatal(err)
	}
	strongOps := []struct {
		name string
		run  func() error
	}{
		{"refresh token still valid (refresh, verify)", func() error { _, err := st.RefreshToken(ctx, u.ID, "j1"); return err }},
		{"login lookup and its throttles", func() error { _, err := st.LoginLookup(ctx, "ada", "192.0.2.1"); return err }},
		{"login lookup of an unknown name", func() error { _, err := st.LoginLookup(ctx, "nobody@example.com", "192.0.2.1"); return err }},
		{"account of an email address", func() error { _, _, err := st.EmailOwner(ctx, u.Email); return err }},
		{"user and email token (confirm, reset)", func() error {
			_, _, err := st.UserAndEmailToken(ctx, u.ID, store.PurposeConfirm)
			return err
		}},
		{"account (GET me, password checks)", func() error { _, err := st.Account(ctx, u.ID); return err }},
		{"email budget refused", func() error {
			if _, err := st.AllowEmail(ctx, u.Email, store.PurposeReset, now); err != nil {
				return err
			}
			_, err := st.AllowEmail(ctx, u.Email, store.PurposeReset, now)
			return err
		}},
		{"delete a user", func() error { return st.DeleteUser(ctx, u) }},
		// The rotation's testSecret checks the set its setSecret has just
		// written: a stale read would fail a new stack's first rotation.
		{"the public key set as published", func() error {
			if err := st.PublishPublicKeys(ctx, []byte(`{"keys":[]}`)); err != nil {
				return err
			}
			_, _, err := st.PublishedPublicKeys(ctx)
			return err
		}},
	}
	for _, op := range strongOps {
		rec.take()
		if err := op.run(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		reads := rec.take()
		if len(reads) == 0 {
			t.Errorf("%s: no read recorded", op.name)
		}
		for _, r := range reads {
			if r[len(r)-len("strong"):] != "strong" {
				t.Errorf("%s: %s read", op.name, r)
			}
		}
	}
}
