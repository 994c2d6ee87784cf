// Package termsapi is the terms group's HTTP handler: the current terms
// (for a signed-in caller, the ones they still have to accept), one term by
// slug, and accepting a term's current version.
//
// Only the newest version of a slug whose date_active has passed is current
// (pufinid.CurrentTerms); an acceptance counts only for the version accepted
// or a later one, so publishing a new version asks every user again.
package termsapi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

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
	Now    func() time.Time // decides which versions are current; time.Now if nil
	Log    *slog.Logger
}

// Routes lists the group's whole surface.
func Routes(d Deps) *web.Router {
	if d.Now == nil {
		d.Now = time.Now
	}
	r := web.NewRouter()
	r.Handle(http.MethodGet, "/v1/terms", handleList(d))
	r.Handle(http.MethodGet, "/v1/terms/{slug}", handleGet(d))
	r.Handle(http.MethodPost, "/v1/terms/{slug}/accept", handleAccept(d))
	return r
}

// New returns the group's handler, as its Lambda and the local server run it.
func New(d Deps) http.Handler { return web.Serve(d.Log, Routes(d)) }

// TermWithAcceptance is a term with when the caller accepted its current
// version; AcceptedAt is nil (JSON null) when they have not.
type TermWithAcceptance struct {
	pufinid.Term
	AcceptedAt *time.Time `json:"accepted_at"`
}

// handleList answers a plain array. Anonymous callers get every current
// term; a signed-in caller gets those they have not accepted. With
// include_all the answer is every current term with accepted_at, which for
// an anonymous caller is always null.
func handleList(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A token is optional here, but one that is sent must be valid: a
		// client that believes it is signed in must not silently get the
		// anonymous answer, from here or from a cache that kept it.
		web.AddVary(w.Header(), "Authorization")
		claims, signedIn, err := d.Tokens.Optional(r)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		all := includeAll(web.QueryValue(r, "include_all"))
		if !signedIn {
			// The same for every anonymous caller: kept by the instance.
			web.Cached(w, r, d.Cache, web.Public, "", func() (any, error) {
				current, err := currentTerms(r.Context(), d)
				if err != nil || !all {
					return current, err
				}
				out := make([]TermWithAcceptance, len(current))
				for i, t := range current {
					out[i] = withAcceptance(t, pufinid.Account{})
				}
				return out, nil
			})
			return
		}
		acct, current, err := accountAndTerms(r.Context(), d, claims.UserID())
		if err != nil {
			web.Error(w, r, err)
			return
		}
		switch {
		case all:
			out := make([]TermWithAcceptance, len(current))
			for i, t := range current {
				out[i] = withAcceptance(t, acct)
			}
			web.JSON(w, r, http.StatusOK, out)
		default:
			out := []pufinid.Term{}
			for _, t := range current {
				if _, ok := acct.AcceptedAt(t); !ok {
					out = append(out, t)
				}
			}
			web.JSON(w, r, http.StatusOK, out)
		}
	})
}

// handleGet answers the current version of one slug. It needs no token and
// reads none, like the FAQ routes.
func handleGet(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.Cached(w, r, d.Cache, web.Public, "", func() (any, error) {
			return currentVersion(r.Context(), d, r.PathValue("slug"))
		})
	})
}

// handleAccept records that the caller accepted the slug's current version
// and answers that term with accepted_at.
func handleAccept(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, err := d.Tokens.Authenticate(r)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		if err := checkNoBody(r); err != nil {
			web.Error(w, r, err)
			return
		}
		t, err := currentVersion(r.Context(), d, r.PathValue("slug"))
		if err != nil {
			web.Error(w, r, err)
			return
		}
		at := d.Now().UTC()
		err = d.Store.AcceptTerm(r.Context(), claims.UserID(),
			pufinid.Acceptance{Slug: t.Slug, VersionNumber: t.VersionNumber, AcceptedAt: at})
		if err != nil {
			// A NotFound here is the store's condition finding no profile:
			// the token outlived its user.
			err = token.UserGone(err)
			web.Error(w, r, err)
			return
		}
		web.JSON(w, r, http.StatusOK, TermWithAcceptance{Term: t, AcceptedAt: &at})
	})
}

// includeAll reads the include_all flag: "true" in any case or "1"; any
// other value, or none, is false.
func includeAll(v string) bool { return strings.EqualFold(v, "true") || v == "1" }

func withAcceptance(t pufinid.Term, acct pufinid.Account) TermWithAcceptance {
	out := TermWithAcceptance{Term: t}
	if at, ok := acct.AcceptedAt(t); ok {
		at = at.UTC()
		out.AcceptedAt = &at
	}
	return out
}

// currentTerms reads every version of every term (store.Store.Terms: one
// Query per version and instance) and keeps the current ones.
func currentTerms(ctx context.Context, d Deps) ([]pufinid.Term, error) {
	all, err := d.Store.Terms(ctx)
	if err != nil {
		return nil, err
	}
	return pufinid.CurrentTerms(all, d.Now()), nil
}

// currentVersion reads one slug's versions (one Query) and returns the
// current one; a slug with none, including one whose versions are all still
// in the future, is a 404.
func currentVersion(ctx context.Context, d Deps, slug string) (pufinid.Term, error) {
	versions, err := d.Store.TermVersions(ctx, slug)
	if err != nil {
		return pufinid.Term{}, err
	}
	cur := pufinid.CurrentTerms(versions, d.Now())
	if len(cur) == 0 {
		return pufinid.Term{}, apierror.NotFoundErr()
	}
	return cur[0], nil
}

// accountAndTerms reads the caller's account and the current terms (two
// Queries at once, one round trip). A token whose user is gone is a 403,
// as on every route that authenticates.
func accountAndTerms(ctx context.Context, d Deps, userID string) (pufinid.Account, []pufinid.Term, error) {
	acct, all, err := d.Store.AccountAndTerms(ctx, userID)
	if err != nil {
		return acct, nil, token.UserGone(err)
	}
	return acct, pufinid.CurrentTerms(all, d.Now()), nil
}

// checkNoBody enforces the accept route's body rule: it takes no fields, so
// no body at all is fine whatever the Content-Type, but a body that is sent
// must be what every body of the API must be (JSON object, at most 64 KiB:
// 415, 413 and 400 otherwise). Its fields are ignored, as unknown fields are.
func checkNoBody(r *http.Request) error {
	if r.Body == nil {
		return nil
	}
	br := bufio.NewReader(r.Body)
	if _, err := br.Peek(1); errors.Is(err, io.EOF) {
		return nil
	}
	r.Body = io.NopCloser(br)
	_, err := web.DecodeObject(r)
	return err
}
