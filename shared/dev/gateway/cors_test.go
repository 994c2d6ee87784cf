package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

var testCORS = &CORS{
	AllowOrigins:  []string{"https://app.example.com", "http://localhost:*"},
	AllowMethods:  []string{"GET", "POST", "DELETE"},
	AllowHeaders:  []string{"authorization", "content-type"},
	ExposeHeaders: []string{"etag", "apigw-requestid"},
	MaxAge:        600,
}

func TestCORSAllows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cors   *CORS
		origin string
		want   string
		ok     bool
	}{
		{testCORS, "https://app.example.com", "https://app.example.com", true},
		{testCORS, "https://APP.example.com", "https://APP.example.com", true}, // hosts are case-insensitive
		{testCORS, "http://app.example.com", "", false},                        // another scheme is another origin
		{testCORS, "https://app.example.com.evil.test", "", false},
		{testCORS, "https://evil.test", "", false},
		{testCORS, "http://localhost", "http://localhost", true},
		{testCORS, "http://localhost:5173", "http://localhost:5173", true},
		{testCORS, "http://localhost:5173.evil.test", "", false}, // a port is digits
		{testCORS, "http://localhost.evil.test:80", "", false},
		{testCORS, "https://localhost:5173", "", false},
		{testCORS, "null", "", false}, // a sandboxed page or a file
		{testCORS, "", "", false},
		{&CORS{AllowOrigins: []string{"*"}}, "https://any.test", "*", true},
		{&CORS{AllowOrigins: []string{"*"}, AllowCredentials: true}, "https://any.test", "https://any.test", true},
		{&CORS{AllowOrigins: []string{"https://*"}}, "https://any.test", "https://any.test", true},
		{&CORS{AllowOrigins: []string{"https://*"}}, "http://any.test", "", false},
		{nil, "https://app.example.com", "", false},
	} {
		got, ok := tc.cors.Allows(tc.origin)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%v allows %q: %q %v, want %q %v", tc.cors, tc.origin, got, ok, tc.want, tc.ok)
		}
	}
}

func preflight(origin, method string) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, "/v1/users/me/", nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	if method != "" {
		r.Header.Set("Access-Control-Request-Method", method)
	}
	return r
}

func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	// An allowed origin gets every configured header, and no body.
	rec := httptest.NewRecorder()
	if !testCORS.Preflight(rec, preflight("https://app.example.com", "DELETE")) {
		t.Fatal("a preflight was left to the routes")
	}
	want := map[string]string{
		"Access-Control-Allow-Origin":  "https://app.example.com",
		"Access-Control-Allow-Methods": "GET,POST,DELETE",
		"Access-Control-Allow-Headers": "authorization,content-type",
		"Access-Control-Max-Age":       "600",
		"Vary":                         "Origin",
	}
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Errorf("preflight: %d %q, want 204 and no body", rec.Code, rec.Body)
	}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("preflight %s: %q, want %q", k, got, v)
		}
	}
	if rec.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Error("credentials allowed though not configured")
	}

	// The attack: a page of another origin asks. It gets an answer with
	// no permission in it, which the browser refuses.
	rec = httptest.NewRecorder()
	if !testCORS.Preflight(rec, preflight("https://evil.test", "DELETE")) || rec.Code != http.StatusNoContent {
		t.Fatalf("preflight from another origin: %d", rec.Code)
	}
	for k := range rec.Header() {
		if k != "Vary" {
			t.Errorf("preflight from another origin has %s: %q", k, rec.Header().Get(k))
		}
	}

	// Not preflights: the routes answer them.
	for _, r := range []*http.Request{preflight("", "GET"), preflight("https://app.example.com", ""), httptest.NewRequest(http.MethodGet, "/", nil)} {
		if testCORS.Preflight(httptest.NewRecorder(), r) {
			t.Errorf("%s with Origin %q and Access-Control-Request-Method %q taken for a preflight", r.Method, r.Header.Get("Origin"), r.Header.Get("Access-Control-Request-Method"))
		}
	}
	var none *CORS
	if none.Preflight(httptest.NewRecorder(), preflight("https://app.example.com", "GET")) {
		t.Error("an API without CORS answered a preflight")
	}
}

func TestCORSDecorate(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodGet, "/v1/terms/", nil)
	r.Header.Set("Origin", "https://app.example.com")
	resp := events.APIGatewayV2HTTPResponse{
		Headers:           map[string]string{"Content-Type": "application/json", "Access-Control-Allow-Origin": "*", "vary": "Accept-Encoding"},
		MultiValueHeaders: map[string][]string{"access-control-allow-methods": {"PUT"}},
	}
	testCORS.Decorate(&resp, r)
	want := map[string]string{
		"Content-Type":                  "application/json",
		"Access-Control-Allow-Origin":   "https://app.example.com",
		"Access-Control-Expose-Headers": "etag,apigw-requestid",
		"vary":                          "Accept-Encoding, Origin",
	}
	if len(resp.Headers) != len(want) || len(resp.MultiValueHeaders) != 0 {
		t.Errorf("headers %v %v, want %v", resp.Headers, resp.MultiValueHeaders, want)
	}
	for k, v := range want {
		if resp.Headers[k] != v {
			t.Errorf("%s: %q, want %q", k, resp.Headers[k], v)
		}
	}

	// Another origin gets the answer without permission: the function's
	// own CORS headers are dropped too.
	r.Header.Set("Origin", "https://evil.test")
	resp = events.APIGatewayV2HTTPResponse{Headers: map[string]string{"Access-Control-Allow-Origin": "*"}}
	testCORS.Decorate(&resp, r)
	if len(resp.Headers) != 1 || resp.Headers["Vary"] != "Origin" {
		t.Errorf("another origin's answer: %v", resp.Headers)
	}
}
