package termsapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/functions/terms/termsapi"
	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/refcache"
	"github.com/pufinid/pufinid-api/shared/token"
)

// The harness clock starts at 2026-06-01 12:00 UTC. At that time privacy v2
// is current (v1 is older, v3 starts in July), tos v1 is current, and
// cookies has only a 2027 version, so it has no current version yet.
var (
	start      = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	privacyV3  = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	sampleRefs = []pufinid.Term{
		{Slug: "privacy", Name: "Privacy policy", VersionNumber: 1, Text: "p1", Info: "i1", DateActive: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Slug: "tos", Name: "Terms of service", VersionNumber: 1, Text: "t1", Info: "", DateActive: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{Slug: "privacy", Name: "Privacy policy", VersionNumber: 3, Text: "p3", Info: "i3", DateActive: privacyV3},
		{Slug: "privacy", Name: "Privacy policy", VersionNumber: 2, Text: "p2", Info: "i2", DateActive: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)},
		{Slug: "cookies", Name: "Cookies", VersionNumber: 1, Text: "c1", Info: "", DateActive: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
)

func setup(t testing.TB) (*apitest.Env, *apitest.Client) {
	t.Helper()
	env := apitest.New(t)
	env.Load(pufinid.Reference{Terms: sampleRefs})
	d := termsapi.Deps{Cache: refcache.New(time.Minute), Store: env.Store, Tokens: env.Tokens, Now: env.Clock.Now, Log: env.Log}
	return env, env.Client(termsapi.New(d), termsapi.Routes(d).Routes())
}

// mustUser creates a user who accepted acc and returns an access token for them.
func mustUser(t testing.TB, env *apitest.Env, id string, acc ...pufinid.Acceptance) string {
	t.Helper()
	u := pufinid.User{ID: id, FirstName: new("Ada"), LastName: new("Lovelace"), Email: id + "@example.com",
		OrganizationName: "Demo", CreatedAt: env.Clock.Now()}
	if err := env.Store.CreateUser(context.Background(), u, acc); err != nil {
		t.Fatal(err)
	}
	return env.AccessToken(id)
}

func accepted(slug string, version int) pufinid.Acceptance {
	return pufinid.Acceptance{Slug: slug, VersionNumber: version, AcceptedAt: time.Date(2026, 5, 2, 8, 30, 0, 0, time.UTC)}
}

// listItem is a list element with accepted_at told apart from absent.
type listItem struct {
	pufinid.Term
	AcceptedAt json.RawMessage `json:"accepted_at"`
}

// summary renders a list as "slug:version[=accepted_at]" items; accepted_at
// is shown only when the member is present, so "x:1" and "x:1=null" differ.
func summary(t testing.TB, resp *apitest.Response) string {
	t.Helper()
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d %s", resp.Status, resp.Body)
	}
	var items []listItem
	resp.JSON(t, &items)
	if items == nil {
		t.Fatalf("body %s: want a JSON array, never null", resp.Body)
	}
	var out []string
	for _, it := range items {
		s := fmt.Sprintf("%s:%d", it.Slug, it.VersionNumber)
		if it.AcceptedAt != nil {
			s += "=" + string(it.AcceptedAt)
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestListByCaller(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	none := mustUser(t, env, "u-none")
	privacy := mustUser(t, env, "u-privacy", accepted("privacy", 2))
	old := mustUser(t, env, "u-old", accepted("privacy", 1), accepted("tos", 1))
	both := mustUser(t, env, "u-both", accepted("privacy", 2), accepted("tos", 1))
	const at = `"2026-05-02T08:30:00Z"`
	cases := []struct {
		name, path, token, want string
	}{
		{"anonymous gets every current term by slug", "/v1/terms/", "", "privacy:2 tos:1"},
		{"anonymous without trailing slash", "/v1/terms", "", "privacy:2 tos:1"},
		{"anonymous include_all has null accepted_at", "/v1/terms/?include_all=true", "", "privacy:2=null tos:1=null"},
		{"user who accepted nothing gets every current term", "/v1/terms/", none, "privacy:2 tos:1"},
		{"accepted terms are left out", "/v1/terms/", privacy, "tos:1"},
		{"an older version's acceptance does not count", "/v1/terms/", old, "privacy:2"},
		{"user who accepted everything gets an empty array", "/v1/terms", both, ""},
		{"include_all lists every current term with accepted_at", "/v1/terms/?include_all=true", privacy, "privacy:2=" + at + " tos:1=null"},
		{"include_all: an older version's acceptance is null", "/v1/terms/?include_all=true", old, "privacy:2=null tos:1=" + at},
		{"include_all=True is true", "/v1/terms?include_all=True", both, "privacy:2=" + at + " tos:1=" + at},
		{"include_all=1 is true", "/v1/terms/?include_all=1", none, "privacy:2=null tos:1=null"},
		{"include_all=false is the plain list", "/v1/terms/?include_all=false", privacy, "tos:1"},
		{"include_all=yes is not true", "/v1/terms/?include_all=yes", "", "privacy:2 tos:1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []apitest.Option
			if tc.token != "" {
				opts = append(opts, apitest.Bearer(tc.token))
			}
			if got := summary(t, c.Do(http.MethodGet, tc.path, nil, opts...)); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// The list's URL answers differently once signed in, and its anonymous
// answer is public for the cache time: every answer says it varies by
// Authorization (and, being public, by Origin), so that no cache (the
// browser's, a CDN's) gives the anonymous list it keeps to a signed-in
// request for the same URL. TestBrowserAppOnAnotherOriginUsesTheAPI (in
// cmd/local) shows the browser doing it without.
func TestListVariesByAuthorization(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	tok := mustUser(t, env, "u-vary", accepted("privacy", 2), accepted("tos", 1))
	anon := c.Do(http.MethodGet, "/v1/terms/", nil)
	for _, tc := range []struct {
		name    string
		opts    []apitest.Option
		status  int
		vary    string
		control string
	}{
		{"anonymous", nil, http.StatusOK, "Authorization, Origin", "public, max-age=60"},
		{"anonymous revalidation", []apitest.Option{apitest.Header("If-None-Match", anon.Header.Get("ETag"))}, http.StatusNotModified, "Authorization, Origin", "public, max-age=60"},
		{"signed in", []apitest.Option{apitest.Bearer(tok)}, http.StatusOK, "Authorization", "no-store"},
		{"signed in, with the anonymous answer's ETag", []apitest.Option{apitest.Bearer(tok), apitest.Header("If-None-Match", anon.Header.Get("ETag"))}, http.StatusOK, "Authorization", "no-store"},
		{"a bad token", []apitest.Option{apitest.Bearer("not-a-token")}, http.StatusForbidden, "Authorization", "no-store"},
	} {
		resp := c.Do(http.MethodGet, "/v1/terms/", nil, tc.opts...)
		if resp.Status != tc.status || resp.Header.Get("Vary") != tc.vary || resp.Header.Get("Cache-Control") != tc.control {
			t.Errorf("%s: %d, Vary %q, Cache-Control %q; want %d, %q, %q", tc.name, resp.Status,
				resp.Header.Get("Vary"), resp.Header.Get("Cache-Control"), tc.status, tc.vary, tc.control)
		}
	}
	// A term by slug reads no token: it varies by Origin alone.
	if got := c.Do(http.MethodGet, "/v1/terms/privacy/", nil, apitest.Bearer(tok)).Header.Get("Vary"); got != "Origin" {
		t.Errorf("GET /v1/terms/privacy/: Vary %q, want Origin", got)
	}
}

func TestListBodyIsTheTermsFields(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	resp := c.Do(http.MethodGet, "/v1/terms/", nil)
	want := `[{"name":"Privacy policy","slug":"privacy","version_number":2,"text":"p2","info":"i2","date_active":"2025-05-01T00:00:00Z"},` +
		`{"name":"Terms of service","slug":"tos","version_number":1,"text":"t1","info":"","date_active":"2024-03-01T00:00:00Z"}]`
	if string(resp.Body) != want {
		t.Fatalf("body\n%s\nwant\n%s", resp.Body, want)
	}
}

func TestListWithoutTerms(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	d := termsapi.Deps{Cache: refcache.New(time.Minute), Store: env.Store, Tokens: env.Tokens, Now: env.Clock.Now, Log: env.Log}
	c := env.Client(termsapi.New(d), termsapi.Routes(d).Routes())
	tok := mustUser(t, env, "u1")
	for _, path := range []string{"/v1/terms/", "/v1/terms/?include_all=true"} {
		for _, opts := range [][]apitest.Option{nil, {apitest.Bearer(tok)}} {
			if resp := c.Do(http.MethodGet, path, nil, opts...); resp.Status != 200 || string(resp.Body) != "[]" {
				t.Fatalf("%s (token %v): %d %s, want 200 []", path, opts != nil, resp.Status, resp.Body)
			}
		}
	}
}

func TestGetBySlug(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	cases := []struct {
		name, path string
		status     int
		version    int
	}{
		{"newest version that has passed", "/v1/terms/privacy/", 200, 2},
		{"without trailing slash", "/v1/terms/privacy", 200, 2},
		{"single version", "/v1/terms/tos/", 200, 1},
		{"only a future version is no current version", "/v1/terms/cookies/", 404, 0},
		{"unknown slug", "/v1/terms/nope/", 404, 0},
		{"a prefix of a slug names nothing", "/v1/terms/priv/", 404, 0},
		{"a slug with the key separator names nothing", "/v1/terms/privacy%23V%23/", 404, 0},
		{"unknown route below a slug", "/v1/terms/privacy/extra/", 404, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.Do(http.MethodGet, tc.path, nil)
			if resp.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.Status, tc.status, resp.Body)
			}
			if tc.status == 404 {
				if string(resp.Body) != `{"detail":"Not found."}` {
					t.Fatalf("body %s", resp.Body)
				}
				return
			}
			var term pufinid.Term
			resp.JSON(t, &term)
			if term.VersionNumber != tc.version || !strings.HasPrefix(tc.path, "/v1/terms/"+term.Slug) {
				t.Fatalf("term %+v, want version %d", term, tc.version)
			}
		})
	}
}

func TestGetBySlugIgnoresTheToken(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	if resp := c.Do(http.MethodGet, "/v1/terms/tos/", nil, apitest.Bearer("garbage")); resp.Status != 200 {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
}

// acceptances reads what the store holds for userID, as slug:version.
func acceptances(t testing.TB, env *apitest.Env, userID string) string {
	t.Helper()
	acct, err := env.Store.Account(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range acct.Acceptances {
		out = append(out, fmt.Sprintf("%s:%d", a.Slug, a.VersionNumber))
	}
	return strings.Join(out, " ")
}

func TestAcceptFlowThroughANewVersion(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "u1")
	// The clock moves by more than a token's lifetime: mint one per request.
	tok := func() apitest.Option { return apitest.Bearer(env.AccessToken("u1")) }
	list := func() string {
		t.Helper()
		return summary(t, c.Do(http.MethodGet, "/v1/terms/", nil, tok()))
	}
	accept := func(slug string, version int) {
		t.Helper()
		resp := c.Do(http.MethodPost, "/v1/terms/"+slug+"/accept/", nil, tok())
		if resp.Status != 200 {
			t.Fatalf("accept %s: %d %s", slug, resp.Status, resp.Body)
		}
		var got termsapi.TermWithAcceptance
		resp.JSON(t, &got)
		if got.Slug != slug || got.VersionNumber != version || got.AcceptedAt == nil || !got.AcceptedAt.Equal(env.Clock.Now()) {
			t.Fatalf("accept %s answered %s; want version %d accepted at %v", slug, resp.Body, version, env.Clock.Now())
		}
	}

	if got := list(); got != "privacy:2 tos:1" {
		t.Fatalf("before: %q", got)
	}
	accept("privacy", 2)
	if got := list(); got != "tos:1" {
		t.Fatalf("after accepting privacy: %q", got)
	}
	env.Clock.Advance(time.Hour)
	accept("tos", 1)
	if got := list(); got != "" {
		t.Fatalf("after accepting both: %q", got)
	}
	if got := summary(t, c.Do(http.MethodGet, "/v1/terms/?include_all=true", nil, tok())); got != `privacy:2="2026-06-01T12:00:00Z" tos:1="2026-06-01T13:00:00Z"` {
		t.Fatalf("include_all: %q", got)
	}

	// privacy v3 becomes current: privacy is to be accepted again, the
	// anonymous list and GET by slug show v3, tos stays accepted.
	env.Clock.Advance(privacyV3.Sub(env.Clock.Now()))
	if got := list(); got != "privacy:3" {
		t.Fatalf("after v3 became current: %q", got)
	}
	if got := summary(t, c.Do(http.MethodGet, "/v1/terms/?include_all=true", nil, tok())); got != `privacy:3=null tos:1="2026-06-01T13:00:00Z"` {
		t.Fatalf("include_all after v3: %q", got)
	}
	if got := summary(t, c.Do(http.MethodGet, "/v1/terms/", nil)); got != "privacy:3 tos:1" {
		t.Fatalf("anonymous after v3: %q", got)
	}
	var term pufinid.Term
	c.Do(http.MethodGet, "/v1/terms/privacy/", nil).JSON(t, &term)
	if term.VersionNumber != 3 {
		t.Fatalf("GET privacy after v3: version %d", term.VersionNumber)
	}
	accept("privacy", 3)
	if got := list(); got != "" {
		t.Fatalf("after re-accepting: %q", got)
	}
	if got := acceptances(t, env, "u1"); got != "privacy:3 tos:1" {
		t.Fatalf("stored acceptances %q", got)
	}
}

func TestAcceptAgainMovesAcceptedAt(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	tok := mustUser(t, env, "u1", accepted("tos", 1))
	resp := c.Do(http.MethodPost, "/v1/terms/tos/accept", nil, apitest.Bearer(tok))
	if resp.Status != 200 {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
	acct, err := env.Store.Account(context.Background(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(acct.Acceptances) != 1 || !acct.Acceptances[0].AcceptedAt.Equal(start) {
		t.Fatalf("acceptances %+v, want one at %v", acct.Acceptances, start)
	}
}

func TestAcceptBody(t *testing.T) {
	t.Parallel()
	big := `{"x":"` + strings.Repeat("a", 64<<10) + `"}`
	cases := []struct {
		name   string
		body   any
		status int
		detail string
	}{
		{"no body", nil, 200, ""},
		{"empty body with a JSON content type", apitest.Raw{ContentType: "application/json"}, 200, ""},
		{"empty body with another content type", apitest.Raw{ContentType: "text/plain"}, 200, ""},
		{"empty object", map[string]any{}, 200, ""},
		{"unknown fields are ignored", map[string]any{"slug": "tos", "version_number": 9}, 200, ""},
		{"a body that is not JSON by its type", apitest.Raw{ContentType: "text/plain", Body: []byte("yes")}, 415, `Unsupported media type "text/plain" in request.`},
		{"a form body", apitest.Raw{ContentType: "application/x-www-form-urlencoded", Body: []byte("a=b")}, 415, ""},
		{"a body over 64 KiB", big, 413, ""},
		{"malformed JSON", apitest.Raw{ContentType: "application/json", Body: []byte("{")}, 400, ""},
		{"JSON that is not an object", "[]", 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each case has a table of its own
			env, c := setup(t)
			tok := mustUser(t, env, "u1")
			resp := c.Do(http.MethodPost, "/v1/terms/privacy/accept/", tc.body, apitest.Bearer(tok))
			if resp.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.Status, tc.status, resp.Body)
			}
			if tc.detail != "" && resp.Map(t)["detail"] != tc.detail {
				t.Fatalf("body %s, want detail %q", resp.Body, tc.detail)
			}
			want := ""
			if tc.status == 200 {
				want = "privacy:2"
			}
			if got := acceptances(t, env, "u1"); got != want {
				t.Fatalf("stored acceptances %q, want %q", got, want)
			}
		})
	}
}

func TestAcceptWithoutCurrentVersionIs404(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	tok := mustUser(t, env, "u1")
	for _, slug := range []string{"cookies", "nope"} {
		resp := c.Do(http.MethodPost, "/v1/terms/"+slug+"/accept/", nil, apitest.Bearer(tok))
		if resp.Status != 404 || string(resp.Body) != `{"detail":"Not found."}` {
			t.Fatalf("%s: %d %s", slug, resp.Status, resp.Body)
		}
	}
	if got := acceptances(t, env, "u1"); got != "" {
		t.Fatalf("stored acceptances %q", got)
	}
}

func TestBadTokensAre403(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "u1")
	mint := func(typ token.Type, user string, life time.Duration) string {
		s, _, err := env.Tokens.Mint(context.Background(), typ, user, "", life)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	other := token.NewIssuer(token.StaticKeys(apitest.NewKeySet(t)), env.Clock.Now)
	forged, _, err := other.Mint(context.Background(), token.Access, "u1", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	invalid := `{"detail":"Given token not valid for any token type","code":"token_not_valid"}`
	cases := []struct {
		name   string
		header string
		body   string
	}{
		{"garbage token", "Bearer garbage", invalid},
		{"expired token", "Bearer " + mint(token.Access, "u1", -time.Second), invalid},
		{"refresh token", "Bearer " + mint(token.Refresh, "u1", time.Hour), invalid},
		{"token signed with another key", "Bearer " + forged, invalid},
		{"token of a user that does not exist", "Bearer " + mint(token.Access, "ghost", time.Minute), invalid},
		{"another scheme", "Token " + mint(token.Access, "u1", time.Minute), ""},
	}
	for _, tc := range cases {
		for _, route := range []struct{ method, path string }{
			{http.MethodGet, "/v1/terms/"},
			{http.MethodGet, "/v1/terms/?include_all=true"},
			{http.MethodPost, "/v1/terms/privacy/accept/"},
		} {
			t.Run(tc.name+" on "+route.method+" "+route.path, func(t *testing.T) {
				resp := c.Do(route.method, route.path, nil, apitest.Header("Authorization", tc.header))
				if resp.Status != http.StatusForbidden {
					t.Fatalf("status %d: %s", resp.Status, resp.Body)
				}
				if tc.body != "" && string(resp.Body) != tc.body {
					t.Fatalf("body %s, want %s", resp.Body, tc.body)
				}
			})
		}
	}
	if got := acceptances(t, env, "u1"); got != "" {
		t.Fatalf("stored acceptances %q", got)
	}
}

func TestAcceptWithoutTokenIs403(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	resp := c.Do(http.MethodPost, "/v1/terms/privacy/accept/", nil)
	if resp.Status != 403 || string(resp.Body) != `{"detail":"Authentication credentials were not provided."}` {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
}

func TestWrongMethodIs405(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	cases := []struct{ method, path, allow string }{
		{http.MethodPost, "/v1/terms/", "GET, HEAD"},
		{http.MethodDelete, "/v1/terms/privacy/", "GET, HEAD"},
		{http.MethodGet, "/v1/terms/privacy/accept/", "POST"},
		{http.MethodPut, "/v1/terms/privacy/accept", "POST"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp := c.Do(tc.method, tc.path, nil)
			want := fmt.Sprintf(`{"detail":"Method \"%s\" not allowed."}`, tc.method)
			if resp.Status != 405 || string(resp.Body) != want || resp.Header.Get("Allow") != tc.allow {
				t.Fatalf("%d %s Allow %q", resp.Status, resp.Body, resp.Header.Get("Allow"))
			}
		})
	}
}

func TestOutageIs503(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	tok := mustUser(t, env, "u1")
	defer env.Outage()()
	cases := []struct {
		name, method, path string
		token              string
	}{
		{"anonymous list", http.MethodGet, "/v1/terms/", ""},
		{"list with a token", http.MethodGet, "/v1/terms/", tok},
		{"include_all with a token", http.MethodGet, "/v1/terms/?include_all=true", tok},
		{"get by slug", http.MethodGet, "/v1/terms/privacy/", ""},
		{"accept", http.MethodPost, "/v1/terms/privacy/accept/", tok},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []apitest.Option
			if tc.token != "" {
				opts = append(opts, apitest.Bearer(tc.token))
			}
			resp := c.Do(tc.method, tc.path, nil, opts...)
			if resp.Status != 503 || string(resp.Body) != `{"detail":"Service temporarily unavailable."}` {
				t.Fatalf("%d %s", resp.Status, resp.Body)
			}
		})
	}
}

// The accept handler turns AcceptTerm's "not found" into the 403 of a
// token whose user is gone and relies on a failed write leaving nothing
// behind; the outage here meets the transaction itself, which the HTTP
// outage test cannot reach since the terms read fails first.
func TestAcceptStoreErrorsMapToTheContract(t *testing.T) {
	t.Parallel()
	env, _ := setup(t)
	mustUser(t, env, "u1")
	err := env.Store.AcceptTerm(context.Background(), "ghost", accepted("tos", 1))
	if !apierror.Is(err, apierror.NotFound) {
		t.Fatalf("AcceptTerm for a missing user: %v, want not found (the handler's 403)", err)
	}
	restore := env.Outage()
	err = env.Store.AcceptTerm(context.Background(), "u1", accepted("tos", 1))
	restore()
	if !apierror.Is(err, apierror.Unavailable) {
		t.Fatalf("AcceptTerm during an outage: %v, want unavailable", err)
	}
	if got := acceptances(t, env, "u1"); got != "" {
		t.Fatalf("stored acceptances %q after a failed write", got)
	}
}

func TestDynamoDBRequestsPerCall(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	tok := mustUser(t, env, "u1", accepted("tos", 1))
	// The first read of the terms fills the instance's copy (one Query per
	// version of the reference data); the cases are a warm instance's.
	if resp := c.Do(http.MethodGet, "/v1/terms/?warm", nil); resp.Status != 200 {
		t.Fatalf("warm-up: %d %s", resp.Status, resp.Body)
	}
	cases := []struct {
		name, method, path string
		auth               string
		status, requests   int
	}{
		{"anonymous list", http.MethodGet, "/v1/terms/", "", 200, 0},
		{"anonymous include_all", http.MethodGet, "/v1/terms/?include_all=true", "", 200, 0},
		{"get by slug", http.MethodGet, "/v1/terms/privacy/", "", 200, 1},
		{"get a slug without current version", http.MethodGet, "/v1/terms/cookies/", "", 404, 1},
		{"list with a token: the account", http.MethodGet, "/v1/terms/", "Bearer " + tok, 200, 1},
		{"include_all with a token", http.MethodGet, "/v1/terms/?include_all=true", "Bearer " + tok, 200, 1},
		{"accept: the slug's versions and one transaction", http.MethodPost, "/v1/terms/privacy/accept/", "Bearer " + tok, 200, 2},
		{"accept a slug without current version", http.MethodPost, "/v1/terms/cookies/accept/", "Bearer " + tok, 404, 1},
		{"a bad token costs nothing", http.MethodGet, "/v1/terms/", "Bearer garbage", 403, 0},
		{"accept with a bad token costs nothing", http.MethodPost, "/v1/terms/privacy/accept/", "Bearer garbage", 403, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []apitest.Option
			if tc.auth != "" {
				opts = append(opts, apitest.Header("Authorization", tc.auth))
			}
			before := env.Requests.Load()
			resp := c.Do(tc.method, tc.path, nil, opts...)
			if resp.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.Status, tc.status, resp.Body)
			}
			if n := env.Requests.Load() - before; !env.RequestsMatch(n, int64(tc.requests)) {
				t.Fatalf("%d DynamoDB requests, want %d", n, tc.requests)
			}
		})
	}
}

func BenchmarkListAnonymous(b *testing.B) { benchRead(b, "/v1/terms/", false) }

func BenchmarkListWithToken(b *testing.B) { benchRead(b, "/v1/terms/?include_all=true", true) }

func BenchmarkGetBySlug(b *testing.B) { benchRead(b, "/v1/terms/privacy/", false) }

func benchRead(b *testing.B, path string, signedIn bool) {
	env, c := setup(b)
	var opts []apitest.Option
	if signedIn {
		opts = append(opts, apitest.Bearer(mustUser(b, env, "u1", accepted("tos", 1))))
	}
	c.SkipOpenAPI = true
	b.ReportAllocs()
	before := env.Requests.Load()
	for b.Loop() {
		if resp := c.Do(http.MethodGet, path, nil, opts...); resp.Status != 200 {
			b.Fatal(resp.Status)
		}
	}
	b.ReportMetric(float64(env.Requests.Load()-before)/float64(b.N), "ddb-req/op")
}

// FuzzAccept sends arbitrary bodies, content types and slugs to the accept
// route: every answer is one the contract allows, never a 5xx.
func FuzzAccept(f *testing.F) {
	for _, seed := range []struct{ slug, ct, body string }{
		{"privacy", "", ""},
		{"privacy", "application/json", "{}"},
		{"tos", "application/json", `{"slug": "cookies", "version_number": 9}`},
		{"privacy", "application/json", "[]"},
		{"privacy", "text/plain", "hello"},
		{"cookies", "application/json", "{"},
		{"%23", "application/json; charset=utf-8", `{"a": null}`},
		{"privacy", "application/merge-patch+json", `"x"`},
	} {
		f.Add(seed.slug, seed.ct, []byte(seed.body))
	}
	base, _ := setup(f)
	tok := mustUser(f, base, "fuzzer")
	f.Fuzz(func(t *testing.T, slug, ct string, body []byte) {
		env := base.For(t)
		d := termsapi.Deps{Cache: refcache.New(time.Minute), Store: env.Store, Tokens: env.Tokens, Now: env.Clock.Now, Log: env.Log}
		c := env.Client(termsapi.New(d), termsapi.Routes(d).Routes())
		// Any text as one path segment, as a client would escape it.
		slug = url.PathEscape(slug) + "x"
		var b any
		if len(body) > 0 || ct != "" {
			b = apitest.Raw{ContentType: ct, Body: body}
		}
		resp := c.Do(http.MethodPost, "/v1/terms/"+slug+"/accept/", b, apitest.Bearer(tok))
		if resp.Status >= 500 {
			t.Fatalf("slug %q %q %q: %d %s", slug, ct, body, resp.Status, resp.Body)
		}
	})
}
