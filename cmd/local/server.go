package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pufinid/pufinid-api/docs"
	"github.com/pufinid/pufinid-api/functions"
	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/gateway"
	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
	"github.com/pufinid/pufinid-api/shared/web"
)

// maxPayload is API Gateway HTTP API's request payload limit.
const maxPayload = 10 << 20

// apiGateway does what API Gateway does in AWS: it picks the template's
// route for a request, sends the function that owns it the payload 2.0
// event, and writes the function's response back.
type apiGateway struct {
	routes   *gateway.Table
	fallback string // function of the $default route; "" for none
	adapters map[string]*httpadapter.HandlerAdapterV2
	// cors is the HTTP API's CorsConfiguration with the local server's
	// origins (nil: the template configures no CORS).
	cors *gateway.CORS
	log  *slog.Logger
	now  func() time.Time
}

// defaultCORSOrigins are the origins `make run` lets browsers call it
// from: any web app served from this machine, on any port.
var defaultCORSOrigins = []string{"http://localhost:*", "http://127.0.0.1:*"}

// localCORS is the template's CORS configuration (its methods, headers
// and max age) with origins in place of the deploy-time AllowOrigins
// parameter.
func localCORS(tmpl *samtemplate.Template, origins []string) (*gateway.CORS, error) {
	var found *gateway.CORS
	for _, api := range tmpl.APIs {
		if api.CORS == nil {
			continue
		}
		if found != nil {
			return nil, errors.New("template.yaml: more than one HTTP API with a CorsConfiguration; the local server serves one")
		}
		c := *api.CORS
		c.AllowOrigins = slices.Clone(origins)
		found = &c
	}
	return found, nil
}

// newGateway runs the Setup of every function's group (package
// functions' list) with env's environment for it, and routes the
// template's routes to the handlers. A function of the template with no
// group is left out and reported, so its routes answer 404.
func newGateway(ctx context.Context, tmpl *samtemplate.Template, env localEnv) (*apiGateway, []string, error) {
	gw := &apiGateway{adapters: map[string]*httpadapter.HandlerAdapterV2{}, log: env.log, now: config.Env{Now: env.now}.Clock()}
	origins := env.corsOrigins
	if origins == nil {
		origins = defaultCORSOrigins
	}
	var err error
	if gw.cors, err = localCORS(tmpl, origins); err != nil {
		return nil, nil, err
	}
	var routes []gateway.Route
	var unwired []string
	// Only the HTTP API's functions: the others answer other AWS services'
	// events (SES's feedback), which a local run has none of.
	for _, f := range tmpl.APIFunctions() {
		g, ok := functions.Lookup(f.LogicalID)
		if !ok {
			unwired = append(unwired, f.LogicalID)
			continue
		}
		fenv, err := env.forFunction(f)
		if err != nil {
			return nil, nil, err
		}
		h, err := g.Setup(ctx, fenv)
		if err != nil {
			return nil, nil, fmt.Errorf("%s does not start: %w", f.LogicalID, err)
		}
		gw.adapters[f.LogicalID] = httpadapter.NewV2(h)
		routes = append(routes, f.Routes...)
		if f.DefaultRoute {
			gw.fallback = f.LogicalID
		}
	}
	gw.routes = gateway.NewTable(routes)
	return gw, unwired, nil
}

func (gw *apiGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// API Gateway answers a preflight itself, before any route.
	if gw.cors.Preflight(w, r) {
		return
	}
	id := newRequestID()
	// Every answer names its request, as API Gateway's do: what a user's
	// bug report quotes to find the request in the logs.
	w.Header().Set("Apigw-Requestid", id)
	gw.cors.SetHeaders(w.Header().Set, r)
	route, params, ok := gw.routes.Match(r.Method, r.URL.Path)
	if !ok {
		if gw.fallback == "" {
			writeDetail(w, http.StatusNotFound, "Not found.")
			return
		}
		route, params = gateway.Route{Function: gw.fallback}, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxPayload)
	ev, err := gateway.Event(r, route, params, id, gw.now())
	if err != nil {
		if mbe := new(http.MaxBytesError); errors.As(err, &mbe) {
			writeDetail(w, http.StatusRequestEntityTooLarge, "Request body is too large.")
			return
		}
		writeDetail(w, http.StatusBadRequest, "Could not read the request body.")
		return
	}
	if route.Path == "" {
		// The $default route's key is "$default", not a method and path.
		ev.RouteKey, ev.RequestContext.RouteKey = "$default", "$default"
	}
	resp, err := gw.adapters[route.Function].ProxyWithContext(gateway.Invocation(r.Context(), route.Function), ev)
	if err != nil {
		// What API Gateway answers when an integration fails.
		gw.log.ErrorContext(r.Context(), "function failed", "function", route.Function,
			"request_id", ev.RequestContext.RequestID, "err", err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"message":"Internal Server Error"}`))
		return
	}
	gw.cors.Decorate(&resp, r)
	if err := gateway.WriteResponse(w, resp); err != nil {
		gw.log.WarnContext(r.Context(), "write response", "request_id", ev.RequestContext.RequestID, "err", err)
	}
}

// corsOrigins are the origins browsers may call the API from.
func (gw *apiGateway) corsOrigins() []string {
	if gw.cors == nil {
		return nil
	}
	return gw.cors.AllowOrigins
}

// functions lists the wired functions, sorted.
func (gw *apiGateway) functions() []string { return slices.Sorted(maps.Keys(gw.adapters)) }

// newRequestID returns a random id, as API Gateway gives every request.
func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

func writeDetail(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": detail})
}

// newMux serves the API and the local extras: the OpenAPI document, the
// outbox of sent emails (LocalStack's /_aws/ses) and the API reference
// (/docs). Every other request goes to the gateway with its path as sent:
// an http.ServeMux in front of it would clean a path such as
// /v1/terms//, or /v1/./terms/, and answer a 307 redirect of its own,
// without the API's headers, where API Gateway routes the path it got.
func newMux(gw http.Handler, outbox http.Handler) http.Handler {
	extras := http.NewServeMux()
	extras.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(docs.OpenAPI)
	})
	extras.Handle("/_aws/ses", outbox)
	handleDocs(extras, gw) // the API reference at /docs (docspage.go)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if web.IsCleanPath(r.URL.Path) {
			if h, pattern := extras.Handler(r); pattern != "" {
				h.ServeHTTP(w, r)
				return
			}
		}
		gw.ServeHTTP(w, r)
	})
}

// timeouts bound how long one connection may hold the server, so that a
// client that opens connections and then stalls (slowloris) cannot tie up
// goroutines and file descriptors without end.
type timeouts struct {
	readHeader time.Duration // the request line and headers
	read       time.Duration // the whole request, headers and body
	write      time.Duration // from the end of the headers to the end of the answer
	idle       time.Duration // waiting for the next request on a kept-alive connection
}

// serverTimeouts are run's. Reading a whole request may take 30 s: the
// functions take bodies of at most 64 KiB (2 KiB/s is enough), and the
// local API Gateway reads up to API Gateway's 10 MiB before it answers 413
// (some 350 KiB/s), which no client on this machine falls short of. A
// function's Lambda times out after 10 s (template.yaml), so 60 s from
// the headers covers the slowest body, the slowest function and writing
// the largest answer (the OpenAPI document). A kept-alive connection may
// wait 2 minutes for its next request.
var serverTimeouts = timeouts{
	readHeader: 10 * time.Second,
	read:       30 * time.Second,
	write:      60 * time.Second,
	idle:       2 * time.Minute,
}

// newServer is the HTTP server that serves h with the timeouts t, logging
// the server's own errors (a handler's panic, a TLS handshake on the plain
// port) to errorLog.
func newServer(h http.Handler, errorLog *log.Logger, t timeouts) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
		ErrorLog:          errorLog,
	}
}
