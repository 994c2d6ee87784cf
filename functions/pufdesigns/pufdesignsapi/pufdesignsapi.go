// Package pufdesignsapi is the PUF designs group's HTTP handler: the PUF
// designs of the caller's organization as a limit/offset page, and one of
// them by id. Both need an access token; the caller's organization is read
// from their user record, never taken from the request, so another
// organization's designs are neither listed nor found.
package pufdesignsapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/refcache"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/token"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Deps are what the group needs.
type Deps struct {
	// Cache keeps the instance's answers of reference data (nil: none).
	Cache  *refcache.Cache
	Store  *store.Store
	Tokens *token.Issuer
	Log    *slog.Logger
}

// Routes lists the group's whole surface.
func Routes(d Deps) *web.Router {
	r := web.NewRouter()
	r.Handle(http.MethodGet, "/v1/puf-designs", handleList(d))
	r.Handle(http.MethodGet, "/v1/puf-designs/{id}", handleGet(d))
	return r
}

// New returns the group's handler, as its Lambda and the local server run it.
func New(d Deps) http.Handler { return web.Serve(d.Log, Routes(d)) }

func handleList(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		org, err := callerOrganization(r, d)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		// Kept under the caller's organization, never the URL alone: the
		// same URL lists another organization's designs for its users.
		web.Cached(w, r, d.Cache, web.Private, org, func() (any, error) {
			limit, offset := web.PageParams(r)
			designs, count, err := d.Store.PufDesignsPage(r.Context(), org, offset, limit)
			return web.PageOf(r, designs, count), err
		})
	})
}

func handleGet(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Authentication comes first, as in DRF: a caller without a valid
		// token learns nothing about ids, not even which are well formed.
		org, err := callerOrganization(r, d)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		id, ok := pufinid.ParseID(r.PathValue("id"))
		if !ok {
			web.Error(w, r, apierror.NotFoundErr())
			return
		}
		web.Cached(w, r, d.Cache, web.Private, org, func() (any, error) {
			return d.Store.PufDesign(r.Context(), org, id)
		})
	})
}

// callerOrganization authenticates the request and returns the id of the
// caller's organization. A valid token whose user no longer exists (deleted
// since it was issued) is refused like any invalid token.
func callerOrganization(r *http.Request, d Deps) (string, error) {
	claims, err := d.Tokens.Authenticate(r)
	if err != nil {
		return "", err
	}
	return organizationOf(r.Context(), d.Store, claims.UserID())
}

// organizationOf is one GetItem of the user's profile (a key lookup, not
// the Query of the whole profile and acceptances GET /users/me makes).
func organizationOf(ctx context.Context, st *store.Store, userID string) (string, error) {
	org, err := st.UserOrganization(ctx, userID)
	if err != nil {
		return "", token.UserGone(err)
	}
	return org, nil
}
