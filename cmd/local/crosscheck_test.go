package main

// These tests make the project's descriptions of its API agree: the
// functions and routes of template.yaml, the Go routers of the handler
// packages wired here, and docs/openapi.yaml. Each fails when one of them
// changes without the others.

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/functions/users/usersapi"
	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/gateway"
	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
	"github.com/pufinid/pufinid-api/shared/mailer"
	"github.com/pufinid/pufinid-api/shared/web"
)

// pending names the template's functions whose handler packages are still
// being written, and the package each waits for. Their checks are skipped,
// naming them; remove an entry once its package is wired into groups.
var pending = map[string]string{}

func mustTemplate(tb testing.TB) *samtemplate.Template {
	tb.Helper()
	tmpl, err := samtemplate.LoadModule(".")
	if err != nil {
		tb.Fatal(err)
	}
	return tmpl
}

// forEachFunction runs check on every function of the template that is
// wired, skipping (by name) those still pending.
func forEachFunction(t *testing.T, tmpl *samtemplate.Template, check func(t *testing.T, f samtemplate.Function, g group)) {
	t.Helper()
	for _, f := range tmpl.Functions {
		t.Run(f.LogicalID, func(t *testing.T) {
			g, wired := groups[f.LogicalID]
			if !wired {
				if pkg, ok := pending[f.LogicalID]; ok {
					t.Skipf("%s is not wired into cmd/local yet: waiting for %s", f.LogicalID, pkg)
				}
				t.Fatalf("%s is in template.yaml but not wired into cmd/local (groups in groups.go)", f.LogicalID)
			}
			check(t, f, g)
		})
	}
}

func TestEveryTemplateFunctionIsWiredLocally(t *testing.T) {
	tmpl := mustTemplate(t)
	forEachFunction(t, tmpl, func(t *testing.T, f samtemplate.Function, _ group) {
		if pkg, ok := pending[f.LogicalID]; ok {
			t.Errorf("%s is wired: remove it (%s) from pending", f.LogicalID, pkg)
		}
	})
	for id := range groups {
		if _, ok := tmpl.Function(id); !ok {
			t.Errorf("cmd/local wires %s, which template.yaml does not declare", id)
		}
	}
}

// isCatchAll reports an ANY route: it routes a group's wrong methods and
// unknown sub-paths to its router, and registers no operation of its own.
func isCatchAll(r gateway.Route) bool { return r.Method == "ANY" }

func TestGoRoutersRegisterExactlyTheTemplateRoutes(t *testing.T) {
	forEachFunction(t, mustTemplate(t), func(t *testing.T, f samtemplate.Function, g group) {
		goRoutes := g.routes()
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

func TestTemplateEnvironmentIsWhatTheFunctionsRead(t *testing.T) {
	// The variables the Lambda mains read, by the Go constants they read
	// them by: renaming one in Go without the template fails here.
	shared := []string{config.EnvTable, config.EnvDynamoDBEndpoint}
	withKey := append(slices.Clone(shared), config.EnvSigningKey)
	want := map[string][]string{
		"FaqFunction":         shared,
		"AppsProfileFunction": shared,
		"PufDesignsFunction":  withKey,
		"TermsFunction":       withKey,
		"TokenFunction":       withKey,
		"UsersFunction": append(slices.Clone(withKey), mailer.EnvFromAddress, mailer.EnvConfigurationSet,
			mailer.EnvEndpoint, usersapi.EnvConfirmEmailURL, usersapi.EnvResetPasswordURL),
	}
	forEachFunction(t, mustTemplate(t), func(t *testing.T, f samtemplate.Function, _ group) {
		w, ok := want[f.LogicalID]
		if !ok {
			t.Fatalf("no expected environment for %s: add it here", f.LogicalID)
		}
		if got, w := f.EnvNames(), slices.Sorted(slices.Values(w)); !slices.Equal(got, w) {
			t.Errorf("template.yaml gives %s %v; its main reads %v", f.LogicalID, got, w)
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

	forEachFunction(t, tmpl, func(t *testing.T, f samtemplate.Function, _ group) {
		for _, r := range f.Routes {
			if !isCatchAll(r) && !documented[r.Method+" "+r.Path+"/"] {
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
	gw, _ := newGateway(tmpl, deps{Store: env.Store, Tokens: env.Tokens, Mailer: mailer.NewOutbox(env.Log), Log: env.Log, Now: env.Clock.Now})

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
	forEachFunction(t, tmpl, func(t *testing.T, f samtemplate.Function, _ group) {
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
