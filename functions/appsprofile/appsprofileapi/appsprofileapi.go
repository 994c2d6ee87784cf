// Package appsprofileapi is the apps profile group's HTTP handler: a
// client's app configuration, overlaid by its group's and then by its QR
// code's. No token is needed.
package appsprofileapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/refcache"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Deps are what the group needs.
type Deps struct {
	// Cache keeps the instance's answers of reference data (nil: none).
	Cache *refcache.Cache
	Store *store.Store
	Log   *slog.Logger
}

// Routes lists the group's whole surface.
func Routes(d Deps) *web.Router {
	r := web.NewRouter()
	r.Handle(http.MethodGet, "/v1/apps-profile", handleGet(d))
	return r
}

// New returns the group's handler, as its Lambda and the local server run it.
func New(d Deps) http.Handler { return web.Serve(d.Log, Routes(d)) }

// maxIDBytes bounds the client, group and QR code ids. No issued id comes
// near it, and it keeps every key well under DynamoDB's key size limits,
// which a longer id would break with an error that is the caller's fault,
// not an outage.
const maxIDBytes = 512

// response is the seed's body. Both members are always objects: a stored
// profile without config or actions still answers {}.
type response struct {
	Config  map[string]json.RawMessage `json:"config"`
	Actions map[string]json.RawMessage `json:"actions"`
}

func handleGet(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Query values are read as DRF reads them (the last of a repeated
		// one) and trimmed as its CharField trims them; a blank client id
		// is as missing as an absent one.
		client := strings.TrimSpace(web.QueryValue(r, "o"))
		group := strings.TrimSpace(web.QueryValue(r, "g"))
		code := strings.TrimSpace(web.QueryValue(r, "id"))
		if client == "" {
			web.Error(w, r, apierror.Field("o", web.MsgRequired))
			return
		}
		if len(client) > maxIDBytes {
			web.Error(w, r, apierror.NotFoundErr())
			return
		}
		// An id too long to exist is unknown, and an unknown g or id adds
		// no overlay; "" tells the store to skip it.
		if len(group) > maxIDBytes {
			group = ""
		}
		if len(code) > maxIDBytes {
			code = ""
		}
		web.Cached(w, r, d.Cache, web.Public, "", func() (any, error) {
			p, err := d.Store.AppProfile(r.Context(), client, group, code)
			if err != nil {
				return nil, err
			}
			resp := response{Config: p.Config, Actions: p.Actions}
			if resp.Config == nil {
				resp.Config = map[string]json.RawMessage{}
			}
			if resp.Actions == nil {
				resp.Actions = map[string]json.RawMessage{}
			}
			return resp, nil
		})
	})
}
