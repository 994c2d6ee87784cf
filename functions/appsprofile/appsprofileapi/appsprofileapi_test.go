package appsprofileapi_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/functions/appsprofile/appsprofileapi"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/refcache"
)

// profile builds an AppProfile from JSON objects; "" leaves a member unset
// (as a stored profile without config or actions has it).
func profile(t testing.TB, config, actions string) pufinid.AppProfile {
	t.Helper()
	var p pufinid.AppProfile
	if config != "" {
		if err := json.Unmarshal([]byte(config), &p.Config); err != nil {
			t.Fatal(err)
		}
	}
	if actions != "" {
		if err := json.Unmarshal([]byte(actions), &p.Actions); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func sample(t testing.TB) []pufinid.AppProfileSet {
	t.Helper()
	return []pufinid.AppProfileSet{
		{
			ClientID: "acme",
			Base: profile(t,
				`{"theme": "dark", "lang": "en", "scan": {"timeout": 10, "flash": true}}`,
				`{"open": {"url": "https://acme.test"}, "share": true}`),
			Groups: map[string]pufinid.AppProfile{
				"retail": profile(t, `{"theme": "light", "scan": {"timeout": 20}}`, `{"buy": {"url": "https://shop.test"}}`),
			},
			Codes: map[string]pufinid.AppProfile{
				"qr-1": profile(t, `{"theme": "red"}`, `{"open": {"url": "https://qr.test"}}`),
			},
		},
		{
			ClientID: "bare", // stored with neither config nor actions
			Groups:   map[string]pufinid.AppProfile{"g": profile(t, `{"x": 1}`, "")},
		},
		{
			ClientID: "other",
			Base:     profile(t, `{"theme": "other"}`, `{}`),
			Groups:   map[string]pufinid.AppProfile{"wholesale": profile(t, `{"theme": "wholesale"}`, `{}`)},
			Codes:    map[string]pufinid.AppProfile{"qr-other": profile(t, `{"theme": "qr-other"}`, `{}`)},
		},
	}
}

func setup(t testing.TB) (*apitest.Env, *apitest.Client) {
	t.Helper()
	env := apitest.New(t)
	env.Load(pufinid.Reference{AppProfiles: sample(t)})
	d := appsprofileapi.Deps{Cache: refcache.New(time.Minute), Store: env.Store, Log: env.Log}
	return env, env.Client(appsprofileapi.New(d), appsprofileapi.Routes(d).Routes())
}

const (
	acmeConfig  = `"lang": "en", "scan": {"timeout": 10, "flash": true}`
	acmeActions = `"open": {"url": "https://acme.test"}, "share": true`
)

func TestOverlays(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	cases := []struct {
		name, query string
		want        string
	}{
		{"client only", "o=acme",
			`{"config": {"theme": "dark", ` + acmeConfig + `}, "actions": {` + acmeActions + `}}`},
		{"group replaces its top-level keys and keeps the others", "o=acme&g=retail",
			`{"config": {"theme": "light", "lang": "en", "scan": {"timeout": 20}},
			  "actions": {` + acmeActions + `, "buy": {"url": "https://shop.test"}}}`},
		{"QR code over group", "o=acme&g=retail&id=qr-1",
			`{"config": {"theme": "red", "lang": "en", "scan": {"timeout": 20}},
			  "actions": {"open": {"url": "https://qr.test"}, "share": true, "buy": {"url": "https://shop.test"}}}`},
		{"QR code without group", "o=acme&id=qr-1",
			`{"config": {"theme": "red", ` + acmeConfig + `},
			  "actions": {"open": {"url": "https://qr.test"}, "share": true}}`},
		{"unknown group adds no overlay", "o=acme&g=nope",
			`{"config": {"theme": "dark", ` + acmeConfig + `}, "actions": {` + acmeActions + `}}`},
		{"unknown QR code adds no overlay", "o=acme&g=retail&id=nope",
			`{"config": {"theme": "light", "lang": "en", "scan": {"timeout": 20}},
			  "actions": {` + acmeActions + `, "buy": {"url": "https://shop.test"}}}`},
		{"another client's group and QR code add nothing", "o=acme&g=wholesale&id=qr-other",
			`{"config": {"theme": "dark", ` + acmeConfig + `}, "actions": {` + acmeActions + `}}`},
		{"blank g and id are absent", "o=acme&g=&id=%20",
			`{"config": {"theme": "dark", ` + acmeConfig + `}, "actions": {` + acmeActions + `}}`},
		{"group id too long to exist", "o=acme&g=" + strings.Repeat("g", 2000),
			`{"config": {"theme": "dark", ` + acmeConfig + `}, "actions": {` + acmeActions + `}}`},
		{"surrounding spaces are trimmed", "o=%20acme%20&g=retail%20",
			`{"config": {"theme": "light", "lang": "en", "scan": {"timeout": 20}},
			  "actions": {` + acmeActions + `, "buy": {"url": "https://shop.test"}}}`},
		{"profile stored without config or actions", "o=bare",
			`{"config": {}, "actions": {}}`},
		{"group overlay on an empty profile", "o=bare&g=g",
			`{"config": {"x": 1}, "actions": {}}`},
	}
	for _, tc := range cases {
		for _, path := range []string{"/v1/apps-profile/?", "/v1/apps-profile?"} {
			t.Run(tc.name+" "+path, func(t *testing.T) {
				resp := c.Do(http.MethodGet, path+tc.query, nil)
				if resp.Status != http.StatusOK {
					t.Fatalf("status %d %s", resp.Status, resp.Body)
				}
				assertJSON(t, resp.Body, tc.want)
			})
		}
	}
}

func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body %s\nwant %s", got, want)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	required := `{"o":["This field is required."]}`
	notFound := `{"detail":"Not found."}`
	cases := []struct {
		name, path string
		status     int
		body       string
	}{
		{"missing o", "/v1/apps-profile/", 400, required},
		{"missing o but g and id given", "/v1/apps-profile/?g=retail&id=qr-1", 400, required},
		{"empty o", "/v1/apps-profile/?o=", 400, required},
		{"blank o", "/v1/apps-profile/?o=%20%20", 400, required},
		{"unknown client", "/v1/apps-profile/?o=nobody", 404, notFound},
		{"unknown client with another client's group", "/v1/apps-profile/?o=nobody&g=retail&id=qr-1", 404, notFound},
		{"client id too long to exist", "/v1/apps-profile/?o=" + strings.Repeat("o", 3000), 404, notFound},
		{"key separator in the client id", "/v1/apps-profile/?o=acme%23GROUP%23retail", 404, notFound},
		{"unknown route below the group", "/v1/apps-profile/extra/?o=acme", 404, notFound},
		// Of a repeated parameter the last counts, as in DRF.
		{"a known o then an unknown one", "/v1/apps-profile/?o=acme&o=nobody", 404, notFound},
		{"a known o then a blank one", "/v1/apps-profile/?o=acme&o=", 400, required},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.Do(http.MethodGet, tc.path, nil)
			if resp.Status != tc.status || string(resp.Body) != tc.body {
				t.Fatalf("%d %s, want %d %s", resp.Status, resp.Body, tc.status, tc.body)
			}
		})
	}
}

func TestWrongMethodIs405(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		resp := c.Do(m, "/v1/apps-profile/?o=acme", map[string]string{})
		if resp.Status != http.StatusMethodNotAllowed || string(resp.Body) != `{"detail":"Method \"`+m+`\" not allowed."}` {
			t.Fatalf("%s: %d %s", m, resp.Status, resp.Body)
		}
		if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
			t.Fatalf("Allow %q", got)
		}
	}
}

func TestOutageIs503(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	defer env.Outage()()
	for _, q := range []string{"o=acme", "o=acme&g=retail&id=qr-1", "o=nobody"} {
		resp := c.Do(http.MethodGet, "/v1/apps-profile/?"+q, nil)
		if resp.Status != http.StatusServiceUnavailable || string(resp.Body) != `{"detail":"Service temporarily unavailable."}` {
			t.Fatalf("%s: %d %s", q, resp.Status, resp.Body)
		}
	}
}

func TestOneDynamoDBRequestPerRead(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	cases := []struct {
		query  string
		status int
	}{
		{"o=acme", 200},
		{"o=acme&g=retail", 200},
		{"o=acme&g=retail&id=qr-1", 200},
		{"o=acme&g=nope&id=nope", 200},
		{"o=nobody&g=retail", 404},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			before := env.Requests.Load()
			if resp := c.Do(http.MethodGet, "/v1/apps-profile/?"+tc.query, nil); resp.Status != tc.status {
				t.Fatalf("status %d %s", resp.Status, resp.Body)
			}
			if n := env.Requests.Load() - before; !env.RequestsMatch(n, 1) {
				t.Errorf("%d DynamoDB requests, want 1", n)
			}
		})
	}
}

// Real DynamoDB refuses keys over its size limits with an error the store
// would report as an outage, so a client id too long to exist must be
// answered without asking DynamoDB (the embedded store has no such limit,
// hence the request count).
func TestRefusedQueriesSendNoDynamoDBRequest(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	cases := []struct {
		name, query string
		status      int
	}{
		{"missing client id", "g=retail", 400},
		{"client id too long to exist", "o=" + strings.Repeat("o", 3000), 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := env.Requests.Load()
			if resp := c.Do(http.MethodGet, "/v1/apps-profile/?"+tc.query, nil); resp.Status != tc.status {
				t.Fatalf("status %d %s", resp.Status, resp.Body)
			}
			if n := env.Requests.Load() - before; !env.RequestsMatch(n, 0) {
				t.Fatalf("%d DynamoDB requests, want 0", n)
			}
		})
	}
}

func BenchmarkClientOnly(b *testing.B) { benchRead(b, "/v1/apps-profile/?o=acme") }

func BenchmarkBothOverlays(b *testing.B) {
	benchRead(b, "/v1/apps-profile/?o=acme&g=retail&id=qr-1")
}

func benchRead(b *testing.B, path string) {
	env, c := setup(b)
	c.SkipOpenAPI = true
	b.ReportAllocs()
	before := env.Requests.Load()
	for b.Loop() {
		if resp := c.Do(http.MethodGet, path, nil); resp.Status != 200 {
			b.Fatal(resp.Status)
		}
	}
	b.ReportMetric(float64(env.Requests.Load()-before)/float64(b.N), "ddb-req/op")
}
