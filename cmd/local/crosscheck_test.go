package main

// These tests make the project's descriptions of its API agree: the
// functions and routes of template.yaml, the Go routers of the endpoint
// groups (package functions' list), and docs/openapi.yaml. Each fails when one of them
// changes without the others.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/functions"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/gateway"
	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
	"github.com/pufinid/pufinid-api/shared/web"
)

func mustTemplate(tb testing.TB) *samtemplate.Template {
	tb.Helper()
	tmpl, err := samtemplate.LoadModule(".")
	if err != nil {
		tb.Fatal(err)
	}
	return tmpl
}

// forEachFunction runs check on every function of the template with its
// endpoint group (package functions' list).
func forEachFunction(t *testing.T, tmpl *samtemplate.Template, check func(t *testing.T, f samtemplate.Function, g functions.Group)) {
	t.Helper()
	for _, f := range tmpl.APIFunctions() {
		t.Run(f.LogicalID, func(t *testing.T) {
			g, ok := functions.Lookup(f.LogicalID)
			if !ok {
				t.Fatalf("%s is in template.yaml but has no endpoint group in package functions", f.LogicalID)
			}
			check(t, f, g)
		})
	}
}

// isCatchAll reports an ANY route: it routes a group's wrong methods and
// unknown sub-paths to its router, and registers no operation of its own.
func isCatchAll(r gateway.Route) bool { return r.Method == "ANY" }

func TestGoRoutersRegisterExactlyTheTemplateRoutes(t *testing.T) {
	forEachFunction(t, mustTemplate(t), func(t *testing.T, f samtemplate.Function, g functions.Group) {
		goRoutes := g.Routes()
		var fromTemplate []web.Route
		for _, r := range f.Routes {
			if isCatchAll(r) {
				prefix := strings.TrimSuffix(r.Path, "/{proxy+}")
				covers := func(gr web.Route) bool { return gr.Path == prefix || strings.HasPrefix(gr.Path, prefix+"/") }
				if !slices.ContainsFunc(goRoutes, covers) {
					t.Errorf("catch-all %s covers none of the Go router's routes", r.Key())
				}
				continue
			}
			fromTemplate = append(fromTemplate, web.Route{Method: r.Method, Path: r.Path})
			if !slices.Contains(goRoutes, fromTemplate[len(fromTemplate)-1]) {
				t.Errorf("template.yaml routes %s to %s, whose Go router does not register it", r.Key(), f.LogicalID)
			}
		}
		for _, gr := range goRoutes {
			if !slices.Contains(fromTemplate, gr) {
				t.Errorf("the Go router registers %s, which template.yaml does not route to %s", gr.Key(), f.LogicalID)
			}
		}
	})
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

func TestTemplateRoutesAndOpenAPIPathsAgree(t *testing.T) {
	tmpl := mustTemplate(t)
	spec, _ := apitest.Spec(t)
	documented := map[string]bool{} // "GET /v1/faq/topics/{id}/"
	for path, item := range spec.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	owner := gateway.NewTable(tmpl.Routes())

	forEachFunction(t, tmpl, func(t *testing.T, f samtemplate.Function, _ functions.Group) {
		for _, r := range f.Routes {
			// Paths are documented with their trailing slash, as clients
			// mostly send them; a file's name (/.well-known/jwks.json) as is.
			if !isCatchAll(r) && !documented[r.Method+" "+r.Path+"/"] && !(path.Ext(r.Path) != "" && documented[r.Method+" "+r.Path]) {
				t.Errorf("%s is routed in template.yaml but docs/openapi.yaml has no %s %s/", r.Key(), r.Method, r.Path)
			}
		}
		for op := range documented {
			method, path, _ := strings.Cut(op, " ")
			// Which function would API Gateway send this operation to?
			r, _, ok := owner.Match(method, pathParam.ReplaceAllString(path, "x"))
			if !ok || r.Function != f.LogicalID {
				continue
			}
			want := gateway.Route{Function: f.LogicalID, Method: method, Path: strings.TrimSuffix(path, "/")}
			if !slices.Contains(f.Routes, want) {
				t.Errorf("docs/openapi.yaml documents %s, which template.yaml does not route (it would reach %s's %s)", op, f.LogicalID, r.Key())
			}
		}
	})

	// Every documented operation must reach some function.
	for op := range documented {
		method, path, _ := strings.Cut(op, " ")
		if _, _, ok := owner.Match(method, pathParam.ReplaceAllString(path, "x")); !ok {
			t.Errorf("docs/openapi.yaml documents %s, which no route of template.yaml matches", op)
		}
	}
}

func TestGatewaySendsWrongMethodsAndUnknownPathsToTheGroup(t *testing.T) {
	env := apitest.New(t)
	tmpl := mustTemplate(t)
	gw, _, err := newGateway(context.Background(), tmpl, testLocalEnv(env))
	if err != nil {
		t.Fatal(err)
	}

	do := func(t *testing.T, method, path string, want int) {
		t.Helper()
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		resp := &apitest.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
		if resp.Status != want {
			t.Errorf("%s %s: %d %s, want %d", method, path, resp.Status, resp.Body, want)
			return
		}
		if resp.Map(t)["detail"] == nil {
			t.Errorf("%s %s: body %s has no detail", method, path, resp.Body)
		}
	}
	forEachFunction(t, tmpl, func(t *testing.T, f samtemplate.Function, _ functions.Group) {
		methods := map[string][]string{} // path -> methods routed
		for _, r := range f.Routes {
			methods[r.Path] = append(methods[r.Path], r.Method)
		}
		for path, ms := range methods {
			if strings.Contains(path, "{proxy+}") {
				do(t, http.MethodGet, strings.ReplaceAll(path, "{proxy+}", "no/such/path")+"/", http.StatusNotFound)
				continue
			}
			for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
				if !slices.Contains(ms, m) && slices.ContainsFunc(ms, func(m string) bool { return m != "ANY" }) {
					do(t, m, pathParam.ReplaceAllString(path, "x")+"/", http.StatusMethodNotAllowed)
					break
				}
			}
		}
	})
	t.Run("no route matches", func(t *testing.T) {
		do(t, http.MethodGet, "/v2/anything/", http.StatusNotFound)
	})
}
