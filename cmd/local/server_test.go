package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/fixtures"
	"github.com/pufinid/pufinid-api/shared/dev/outbox"
)

// testLocalEnv is the local server's environment over env's table and
// clock, with env's checks and request count.
func testLocalEnv(env *apitest.Env) localEnv {
	fe := env.FunctionEnv(outbox.New(env.Log), nil)
	return localEnv{getenv: fe.Getenv, log: env.Log, now: env.Clock.Now, middleware: fe.DynamoDBMiddleware, mail: fe.Mailer, keys: fe.SigningKeys,
		values: map[string]string{config.EnvConfirmEmailURL: localConfirmEmailURL, config.EnvResetPasswordURL: localResetPasswordURL}}
}

// mustGateway builds the local API Gateway over a fresh table holding the
// demo fixture.
func mustGateway(tb testing.TB) (*apiGateway, *apitest.Env) {
	tb.Helper()
	env := apitest.New(tb)
	ref, err := fixtures.Demo()
	if err != nil {
		tb.Fatal(err)
	}
	env.Load(ref)
	gw, unwired, err := newGateway(context.Background(), mustTemplate(tb), testLocalEnv(env))
	if err != nil {
		tb.Fatal(err)
	}
	if len(unwired) > 0 {
		tb.Logf("not wired: %v", unwired)
	}
	return gw, env
}

// Each function reads a public page once (with the reference pointer, on
// its first read), then answers it from its own cache.
func TestGatewayAnswersWarmPublicReadsWithNoDynamoDBRequest(t *testing.T) {
	gw, env := mustGateway(t)
	tests := []struct{ name, path string }{
		{"topic list", "/v1/faq/topics/"},
		{"one topic", "/v1/faq/topics/1/"},
		{"terms", "/v1/terms/"},
		{"apps profile with overlays", "/v1/apps-profile/?o=pufinid-app&g=wine-shops&id=QR-0001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, want := range []struct{ lo, hi int64 }{{1, 2}, {0, 0}} {
				before := env.Requests.Load()
				rec := httptest.NewRecorder()
				gw.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
				if rec.Code != http.StatusOK {
					t.Fatalf("GET %s: %d %s", tc.path, rec.Code, rec.Body)
				}
				if n := env.Requests.Load() - before; n < want.lo || (n > want.hi && env.Faults == nil) {
					t.Errorf("GET %s, read %d: %d DynamoDB requests, want %d to %d", tc.path, i+1, n, want.lo, want.hi)
				}
			}
		})
	}
}

func TestGatewayRefusesBodiesOverAPIGatewaysLimit(t *testing.T) {
	gw, _ := mustGateway(t)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/v1/token/", strings.NewReader(strings.Repeat("x", maxPayload+1)))
	gw.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("%d %s, want 413", rec.Code, rec.Body)
	}
}

// BenchmarkGatewayFAQTopic measures one request through the local API
// Gateway: route match, payload 2.0 event, Lambda adapter, handler, one
// DynamoDB GetItem on the embedded store.
func BenchmarkGatewayFAQTopic(b *testing.B) {
	gw, env := mustGateway(b)
	before := env.Requests.Load()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/faq/topics/1/", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(env.Requests.Load()-before)/float64(b.N), "dynamodb-req/op")
}

// A path that is not in clean form reaches the gateway as it was sent, as
// it reaches API Gateway: it matches no route and gets the API's 404, with
// the API's headers, where an http.ServeMux in front would clean it and
// answer a 307 redirect to another URL in HTML. The local extras answer
// only at their own clean paths.
func TestOddPathsGetTheAPIsAnswerNotARedirect(t *testing.T) {
	base, _ := mustStart(t, nil, nil)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"//v1/terms/", "/v1/./terms/", "/v1/faq/../terms/", "/v1/faq/topics//", "/v1/users//me/", "//docs", "/./openapi.yaml"} {
		resp, err := noRedirect.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || string(body) != `{"detail":"Not found."}` ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Apigw-Requestid") == "" {
			t.Errorf("GET %s: %d %s %v; want the API's 404 with nosniff and a request id", p, resp.StatusCode, body, resp.Header)
		}
	}
	for _, p := range []string{"/openapi.yaml", "/v1/terms/", "/v1/terms"} {
		if resp := send(t, http.MethodGet, base+p, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", p, resp.StatusCode)
		}
	}
}
