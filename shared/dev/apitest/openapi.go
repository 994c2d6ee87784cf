package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	pathpkg "path"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/pufinid/pufinid-api/docs"
)

var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error
)

// Spec loads and validates docs/openapi.yaml once per process.
func Spec(tb testing.TB) (*openapi3.T, routers.Router) {
	tb.Helper()
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		specDoc, specErr = loader.LoadFromData(docs.OpenAPI)
		if specErr != nil {
			return
		}
		if specErr = specDoc.Validate(context.Background()); specErr != nil {
			return
		}
		specRouter, specErr = gorillamux.NewRouter(specDoc)
	})
	if specErr != nil {
		tb.Fatalf("docs/openapi.yaml: %v", specErr)
	}
	return specDoc, specRouter
}

// CheckOpenAPI fails the test unless resp is what docs/openapi.yaml says
// method path may answer. A path or method the document does not have must
// be answered 404 or 405 with a detail body.
func CheckOpenAPI(tb testing.TB, method, path string, reqHeader http.Header, resp *Response) {
	tb.Helper()
	_, router := Spec(tb)
	// The document writes paths with their trailing slash, as clients call
	// them, but for a file's name (/.well-known/jwks.json).
	u, q, _ := strings.Cut(path, "?")
	if !strings.HasSuffix(u, "/") && pathpkg.Ext(u) == "" {
		u += "/"
	}
	if pathpkg.Ext(strings.TrimSuffix(u, "/")) != "" {
		u = strings.TrimSuffix(u, "/")
	}
	if q != "" {
		u += "?" + q
	}
	req := httptest.NewRequest(method, "http://localhost"+u, nil)
	req.Header = reqHeader.Clone()
	route, params, err := router.FindRoute(req)
	if err != nil {
		switch {
		case errors.Is(err, routers.ErrMethodNotAllowed):
			expectDetail(tb, method, path, resp, http.StatusMethodNotAllowed)
		case errors.Is(err, routers.ErrPathNotFound):
			expectDetail(tb, method, path, resp, http.StatusNotFound)
		default:
			tb.Fatalf("openapi: find route %s %s: %v", method, path, err)
		}
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: resp.Status,
		Header: resp.Header,
		Body:   io.NopCloser(bytes.NewReader(resp.Body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		tb.Errorf("openapi: %s %s answered %d %s\nwhich docs/openapi.yaml does not allow: %v", method, path, resp.Status, resp.Body, err)
	}
}

func expectDetail(tb testing.TB, method, path string, resp *Response, status int) {
	tb.Helper()
	var body map[string]any
	if resp.Status != status || json.Unmarshal(resp.Body, &body) != nil || body["detail"] == nil {
		tb.Errorf("openapi: %s %s is not in docs/openapi.yaml, so it must answer %d {\"detail\": ...}; got %d %s",
			method, path, status, resp.Status, resp.Body)
	}
}
