package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/pufinid/pufinid-api/shared/apierror"
)

// Route is one method and path pattern, written the way API Gateway HTTP API
// route keys are: "/v1/terms/{slug}", no trailing slash.
type Route struct {
	Method string
	Path   string
}

// Key returns the API Gateway route key, "GET /v1/terms/{slug}".
func (r Route) Key() string { return r.Method + " " + r.Path }

// Router dispatches on method and path with net/http's ServeMux and answers
// what the mux would answer in plain text with the contract's JSON bodies:
// 404 {"detail": "Not found."} and 405 {"detail": "Method \"X\" not allowed."}.
// A trailing slash is ignored, as API Gateway ignores it.
type Router struct {
	mux      *http.ServeMux
	routes   []Route
	methods  map[string][]string     // path pattern -> methods registered on it
	handlers map[string]http.Handler // route key -> handler
}

// NewRouter returns an empty router whose unknown paths answer 404.
func NewRouter() *Router {
	rt := &Router{mux: http.NewServeMux(), methods: map[string][]string{}, handlers: map[string]http.Handler{}}
	rt.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		Error(w, r, apierror.NotFoundErr())
	})
	return rt
}

// Handle registers h for method and path.
func (rt *Router) Handle(method, path string, h http.Handler) {
	if path != "/" && strings.HasSuffix(path, "/") {
		panic("web: route patterns have no trailing slash: " + path)
	}
	route := Route{Method: method, Path: path}
	if _, dup := rt.handlers[route.Key()]; dup {
		panic("web: route registered twice: " + route.Key())
	}
	rt.handlers[route.Key()] = h
	rt.routes = append(rt.routes, route)
	if _, seen := rt.methods[path]; !seen {
		// The mux gets one method-less pattern per path and the method is
		// dispatched here: method patterns of one path conflict in ServeMux
		// with method-less ones of another ("GET /v1/users/{id}" with
		// "/v1/users/confirm-email"), and any other method on a known path
		// must be a 405, never the catch-all 404 nor another path's handler.
		rt.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if h, ok := rt.handlers[r.Method+" "+path]; ok {
				h.ServeHTTP(w, r)
				return
			}
			if h, ok := rt.handlers[http.MethodGet+" "+path]; ok && r.Method == http.MethodHead {
				h.ServeHTTP(w, r)
				return
			}
			methodNotAllowed(w, r, rt.methods[path])
		})
	}
	rt.methods[path] = append(rt.methods[path], method)
}

// Routes lists every registered route, in registration order.
func (rt *Router) Routes() []Route { return slices.Clone(rt.routes) }

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The mux would answer a path such as /v1//terms or /v1/./terms with a
	// 307 redirect in HTML to its clean form; no route of the API is
	// written that way, so it is not found, as it would be in DRF.
	if !IsCleanPath(r.URL.Path) {
		Error(w, r, apierror.NotFoundErr())
		return
	}
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		r2 := r.WithContext(context.WithValue(r.Context(), originalURLKey{}, r.URL))
		u := *r.URL
		u.Path = strings.TrimRight(p, "/")
		if u.Path == "" {
			u.Path = "/"
		}
		u.RawPath = ""
		r2.URL = &u
		r = r2
	}
	rt.mux.ServeHTTP(w, r)
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, methods []string) {
	allow := slices.Clone(methods)
	if slices.Contains(allow, http.MethodGet) && !slices.Contains(allow, http.MethodHead) {
		allow = append(allow, http.MethodHead)
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	Error(w, r, apierror.New(apierror.MethodNotAllowed, fmt.Sprintf("Method %q not allowed.", r.Method)))
}

// IsCleanPath reports whether p is in the form http.ServeMux serves
// without redirecting: absolute, without empty, "." or ".." segments, and
// with at most one trailing slash.
func IsCleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	if c != "/" && strings.HasSuffix(p, "/") {
		c += "/"
	}
	return c == p
}

type originalURLKey struct{}

// requestURL is the URL as the client sent it, before the router dropped a
// trailing slash.
func requestURL(r *http.Request) *url.URL {
	if u, ok := r.Context().Value(originalURLKey{}).(*url.URL); ok {
		return u
	}
	return r.URL
}
