package main

import (
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// send sends method url with headers and no body.
func send(t *testing.T, method, url string, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// The local server answers preflights and decorates answers as API
// Gateway does, from template.yaml's CorsConfiguration, for the origins
// `make run` allows by default: any port of localhost and 127.0.0.1.
func TestLocalServerAppliesTheTemplatesCORS(t *testing.T) {
	base, _ := mustStart(t, nil, nil)
	tmpl := mustTemplate(t)
	api, _ := tmpl.HTTPAPI("Api")
	c := api.CORS

	for _, origin := range []string{"http://localhost:5173", "http://127.0.0.1:8080", "http://localhost"} {
		resp := send(t, http.MethodOptions, base+"/v1/users/me/", map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization,content-type"})
		want := map[string]string{
			"Access-Control-Allow-Origin":  origin,
			"Access-Control-Allow-Methods": strings.Join(c.AllowMethods, ","),
			"Access-Control-Allow-Headers": strings.Join(c.AllowHeaders, ","),
			"Access-Control-Max-Age":       fmt.Sprint(c.MaxAge),
		}
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("preflight from %s: %d, want 204", origin, resp.StatusCode)
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("preflight from %s: %s %q, want %q", origin, k, got, v)
			}
		}
	}

	// The attack: a page elsewhere asks for permission, and gets none.
	for _, origin := range []string{"https://evil.test", "http://localhost.evil.test", "http://192.168.1.5:3000", "null"} {
		resp := send(t, http.MethodOptions, base+"/v1/users/me/", map[string]string{"Origin": origin, "Access-Control-Request-Method": "GET"})
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("preflight from %s: %d with %v; want 204 and no permission", origin, resp.StatusCode, resp.Header)
		}
		resp = send(t, http.MethodGet, base+"/v1/terms/", map[string]string{"Origin": origin})
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET from %s: %d, Access-Control-Allow-Origin %q; want 200 and none", origin, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}

	// Answers to an allowed origin say so and let the app read the headers
	// it needs; every answer names its request, with or without CORS.
	for _, tc := range []struct {
		path   string
		status int
	}{{"/v1/terms/", 200}, {"/v1/users/me/", 403}, {"/v1/nowhere/", 404}} {
		resp := send(t, http.MethodGet, base+tc.path, map[string]string{"Origin": "http://localhost:5173"})
		if resp.StatusCode != tc.status || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
			resp.Header.Get("Access-Control-Expose-Headers") != strings.Join(c.ExposeHeaders, ",") || !strings.Contains(resp.Header.Get("Vary"), "Origin") {
			t.Errorf("GET %s from localhost: %d with %v", tc.path, resp.StatusCode, resp.Header)
		}
		if id := resp.Header.Get("Apigw-Requestid"); len(id) < 16 {
			t.Errorf("GET %s: Apigw-Requestid %q", tc.path, id)
		}
	}
	// OPTIONS that is not a preflight is a request like any other: the
	// group answers it (405, the contract's).
	if resp := send(t, http.MethodOptions, base+"/v1/terms/", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("OPTIONS without a preflight's headers: %d, want 405", resp.StatusCode)
	}

	// -cors-origins "" allows none.
	closed, _ := mustStart(t, []string{"-cors-origins", ""}, nil)
	resp := send(t, http.MethodOptions, closed+"/v1/terms/", map[string]string{"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("with no origins allowed, a preflight got %v", resp.Header)
	}
}

// appPage is a web app's page: it reads the terms, signs up accepting them
// all, logs in, reads the user and the terms again through the API at
// ?api= with fetch, as a browser front end does, and writes what it got
// into #out. Every call is cross-origin, and signup and the bearer token
// need a preflight. The anonymous terms answer is public for a minute: the
// signed-in read of the same URL must not be served it from the browser's
// cache.
const appPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>app</title></head>
<body><pre id="out">running</pre>
<script>
(async () => {
  const q = new URLSearchParams(location.search), api = q.get("api"), email = q.get("email");
  const pass = "Analytical-Engine-1843", r = {};
  const json = (body) => ({method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  try {
    let res = await fetch(api + "/v1/terms/");
    r.terms_anonymous = (await res.json()).length;
    res = await fetch(api + "/v1/users/", json({first_name: "Grace", last_name: "Hopper", email,
      password: pass, password_confirm: pass, terms_accepted: ["*"]}));
    r.signup = res.status;
    res = await fetch(api + "/v1/token/", json({username: email, password: pass}));
    r.login = res.status;
    const token = (await res.json()).access;
    res = await fetch(api + "/v1/users/me/", {headers: {Authorization: "Bearer " + token}});
    r.me = res.status;
    r.email = (await res.json()).email;
    r.request_id = res.headers.get("apigw-requestid");
    res = await fetch(api + "/v1/terms/", {headers: {Authorization: "Bearer " + token}});
    r.terms_signed_in = (await res.json()).length;
  } catch (e) {
    r.error = String(e);
  }
  document.getElementById("out").textContent = JSON.stringify(r);
})();
</script></body></html>`

var outRE = regexp.MustCompile(`<pre id="out">([^<]*)</pre>`)

// Proved in a real browser: a page served from another local origin signs
// up, logs in and reads /v1/users/me/ through fetch with a bearer token;
// the same page from an origin the server does not allow is refused by
// the browser at the first preflight, so its signup never reaches the API.
func TestBrowserAppOnAnotherOriginUsesTheAPI(t *testing.T) {
	chromium := mustFindChromium(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(appPage))
	}))
	defer app.Close()
	_, port, _ := net.SplitHostPort(app.Listener.Addr().String())
	// The API allows the app's origin, http://localhost:<any port>; the
	// same page at http://127.0.0.1:<port> is another origin.
	base, _ := mustStart(t, []string{"-cors-origins", "http://localhost:*"}, nil)

	run := func(pageOrigin, email string) map[string]any {
		t.Helper()
		page := pageOrigin + "/app.html?" + url.Values{"api": {base}, "email": {email}}.Encode()
		dom, stderr := runChromium(t, chromium, page, "127.0.0.1,localhost")
		m := outRE.FindStringSubmatch(dom)
		var got map[string]any
		if m == nil || json.Unmarshal([]byte(html.UnescapeString(m[1])), &got) != nil {
			t.Fatalf("the page at %s wrote no result: %.1500s\nstderr:\n%.3000s", pageOrigin, dom, stderr)
		}
		t.Logf("page at %s: %v", pageOrigin, got)
		return got
	}

	got := run("http://localhost:"+port, "grace@example.com")
	if got["signup"] != 201.0 || got["login"] != 200.0 || got["me"] != 200.0 || got["email"] != "grace@example.com" || got["request_id"] == nil {
		t.Errorf("the app on an allowed origin: %v; want signup 201, login 200, me 200 with its email, and the request id readable", got)
	}
	// Grace accepted every term at signup: signed in, she has none left to
	// accept, though the anonymous list the browser keeps names them all.
	if n, _ := got["terms_anonymous"].(float64); n == 0 || got["terms_signed_in"] != 0.0 {
		t.Errorf("terms: %v anonymous, %v signed in; want some, then none (the browser must not answer the signed-in read with the anonymous one it keeps)", got["terms_anonymous"], got["terms_signed_in"])
	}

	got = run("http://127.0.0.1:"+port, "mallory@example.com")
	if got["error"] == nil || got["signup"] != nil {
		t.Errorf("the app on an origin the API does not allow: %v; want the browser to refuse the first call", got)
	}
	// The browser stopped at the preflight: the signup was never sent.
	if resp := mustDo(t, "POST", base+"/v1/token/", map[string]string{"username": "mallory@example.com", "password": "Analytical-Engine-1843"}); resp.Status != http.StatusUnauthorized {
		t.Errorf("log in as the refused page's user: %d, want 401 (no such account)", resp.Status)
	}
}
