// Package pufdesignsapi is the PUF designs group's HTTP handler: the PUF
// designs of the caller's organization as a limit/offset page, and one of
// them by id. Both need an access token; the caller's organization is read
// from their user record, never taken from the request, so another
// organization's designs are neither listed nor found. Tokens minted with
// the organization's id (token.Claims.Organization) let the designs be read
// alongside that record, not after it: the answer still waits for the
// record, and follows it.
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
		serveForCaller(w, r, d, func(org string) (any, error) {
			limit, offset := web.PageParams(r)
			designs, count, err := d.Store.PufDesignsPage(r.Context(), org, offset, limit)
			return web.PageOf(r, designs, count), err
		})
	})
}

func handleGet(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := pufinid.ParseID(r.PathValue("id"))
		serveForCaller(w, r, d, func(org string) (any, error) {
			// Refused only once the caller is known, as in DRF: a caller
			// without a valid token learns nothing about ids, not even
			// which are well formed.
			if !ok {
				return nil, apierror.NotFoundErr()
			}
			return d.Store.PufDesign(r.Context(), org, id)
		})
	})
}

// serveForCaller authenticates the request and answers read's answer for
// the caller's organization, kept in the instance's cache under that
// organization, never the URL alone (the same URL lists another
// organization's designs for its users). A valid token whose user no longer
// exists (deleted since it was issued) is refused like any invalid token.
func serveForCaller(w http.ResponseWriter, r *http.Request, d Deps, read func(org string) (any, error)) {
	claims, err := d.Tokens.Authenticate(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	e, err := answerFor(r, d, claims, read)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.WriteCached(w, r, d.Cache, web.Private, e)
}

// answerFor is read's answer for the organization of the caller's record.
// When the token names the organization, the answer is read (or found in
// the cache) while the record is, one round trip instead of two; it is
// used only once the record exists and names that organization. A user's
// organization is fixed at signup, so the two always agree; were they ever
// not to, the record's organization is read again and answered.
func answerFor(r *http.Request, d Deps, claims token.Claims, read func(org string) (any, error)) (refcache.Entry, error) {
	answer := func(org string) (refcache.Entry, error) {
		return web.CachedAnswer(r, d.Cache, org, func() (any, error) { return read(org) })
	}
	if claims.Organization == "" {
		org, err := organizationOf(r.Context(), d.Store, claims.UserID())
		if err != nil {
			return refcache.Entry{}, err
		}
		return answer(org)
	}
	type result struct {
		e   refcache.Entry
		err error
	}
	early := make(chan result, 1)
	go func() {
		e, err := answer(claims.Organization)
		early <- result{e, err}
	}()
	org, err := organizationOf(r.Context(), d.Store, claims.UserID())
	res := <-early
	switch {
	case err != nil:
		return refcache.Entry{}, err
	case org != claims.Organization:
		return answer(org)
	}
	return res.e, res.err
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
