package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
)

// Every write whose condition fails answers the store's sentinel for it,
// and those the contract answers the same on every route are that answer
// too (a 404, a 400 on the fields).
func TestFailedConditionsAreSentinels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	now := env.Clock.Now()
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	tests := []struct {
		name string
		run  func() error
		want error
		code apierror.Code // "" when the handler decides the answer
	}{
		{"signup with a taken email", func() error {
			return env.Store.CreateUser(ctx, pufinid.User{ID: "u2", Email: "a@example.com"}, nil)
		}, store.ErrTaken, apierror.Invalid},
		{"accepting a term for nobody", func() error {
			return env.Store.AcceptTerm(ctx, "nobody", pufinid.Acceptance{Slug: "tos", VersionNumber: 1})
		}, store.ErrNotFound, apierror.NotFound},
		{"updating nobody's profile", func() error {
			return env.Store.UpdateProfile(ctx, "nobody", map[string]*string{"phone": new("1")})
		}, store.ErrNotFound, apierror.NotFound},
		{"a refresh token for nobody", func() error {
			return env.Store.CreateRefreshToken(ctx, refreshToken(env, "nobody", "jti-1", time.Hour))
		}, store.ErrNotFound, apierror.NotFound},
		{"revoking an unknown refresh token", func() error {
			return env.Store.RevokeRefreshToken(ctx, "u1", "jti-unknown")
		}, store.ErrNotFound, apierror.NotFound},
		{"an email token for nobody", func() error {
			return env.Store.IssueEmailToken(ctx, "nobody", store.PurposeReset, emailToken("x", now.Add(time.Hour)))
		}, store.ErrNotIssued, ""},
		{"changing a password from a stale hash", func() error {
			return env.Store.ChangePassword(ctx, "u1", "stale", "h2")
		}, store.ErrUserChanged, ""},
		{"confirming without a token", func() error {
			return env.Store.ConfirmEmail(ctx, "u1", "x", now)
		}, store.ErrEmailTokenInvalid, ""},
	}
	for _, tt := range tests {
		err := tt.run()
		if !errors.Is(err, tt.want) || apierror.CodeOf(err) != tt.code {
			t.Errorf("%s: got %v (code %q), want %v (code %q)", tt.name, err, apierror.CodeOf(err), tt.want, tt.code)
		}
	}
}
