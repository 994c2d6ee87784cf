// Package faqapi is the FAQ group's HTTP handler: FAQ topics as a
// limit/offset page and one topic by id. No token is needed.
package faqapi

import (
	"log/slog"
	"net/http"
	"strconv"

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
	r.Handle(http.MethodGet, "/v1/faq/topics", handleList(d))
	r.Handle(http.MethodGet, "/v1/faq/topics/{id}", handleGet(d))
	return r
}

// New returns the group's handler, as its Lambda and the local server run it.
func New(d Deps) http.Handler { return web.Serve(d.Log, Routes(d)) }

func handleList(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.Cached(w, r, d.Cache, web.Public, "", func() (any, error) {
			limit, offset := web.PageParams(r)
			topics, count, err := d.Store.FAQTopicsPage(r.Context(), offset, limit)
			return web.PageOf(r, topics, count), err
		})
	})
}

func handleGet(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Topic ids are whole numbers; anything else cannot name one (DRF: 404).
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil || id < 0 {
			web.Error(w, r, apierror.NotFoundErr())
			return
		}
		web.Cached(w, r, d.Cache, web.Public, "", func() (any, error) {
			return d.Store.FAQTopic(r.Context(), id)
		})
	})
}
