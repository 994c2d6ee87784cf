package pufdesignsapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/functions/pufdesigns/pufdesignsapi"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/refcache"
	"github.com/pufinid/pufinid-api/shared/token"
)

const (
	orgA  = "0a000000-0000-4000-8000-00000000000a"
	orgB  = "0b000000-0000-4000-8000-00000000000b"
	userA = "1a000000-0000-4000-8000-00000000001a"
	userB = "1b000000-0000-4000-8000-00000000001b"
)

// designID is a valid UUID distinct per n.
func designID(n int) string { return fmt.Sprintf("d0000000-0000-4000-8000-%012d", n) }

func design(n int, org, name string) pufinid.PufDesign {
	return pufinid.PufDesign{
		ID: designID(n), Name: name, Description: "design " + name, PufDesignType: "label",
		Organization: org, PufDesignIconURL: "https://cdn.pufinid.test/" + name + ".png",
		AutoCaptureEnabled: n%2 == 0,
	}
}

// sample: org A has three designs, org B one whose name sorts among them.
var sample = []pufinid.PufDesign{
	design(3, orgA, "Charlie"),
	design(1, orgA, "Alpha"),
	design(2, orgA, "Bravo"),
	design(9, orgB, "Bravo B"),
}

type fixture struct {
	env            *apitest.Env
	c              *apitest.Client
	tokenA, tokenB string
}

func setup(t testing.TB, designs []pufinid.PufDesign) fixture {
	t.Helper()
	env := apitest.New(t)
	env.Load(pufinid.Reference{PufDesigns: designs})
	for _, u := range []pufinid.User{
		{ID: userA, Email: "a@example.com", OrganizationID: orgA},
		{ID: userB, Email: "b@example.com", OrganizationID: orgB},
	} {
		if err := env.Store.CreateUser(context.Background(), u, nil); err != nil {
			t.Fatal(err)
		}
	}
	d := pufdesignsapi.Deps{Cache: refcache.New(time.Minute), Store: env.Store, Tokens: env.Tokens, Log: env.Log}
	return fixture{
		env: env, c: env.Client(pufdesignsapi.New(d), pufdesignsapi.Routes(d).Routes()),
		tokenA: env.AccessToken(userA), tokenB: env.AccessToken(userB),
	}
}

type page struct {
	Count          int
	Next, Previous *string
	Results        []pufinid.PufDesign
}

func names(ds []pufinid.PufDesign) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return strings.Join(out, ",")
}

func TestListShowsOnlyTheCallersOrganizationByNameThenID(t *testing.T) {
	t.Parallel()
	f := setup(t, append(sample, design(4, orgA, "Alpha")))
	cases := []struct {
		name, token, want string
	}{
		{"organization A", f.tokenA, "Alpha,Alpha,Bravo,Charlie"},
		{"organization B", f.tokenB, "Bravo B"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.c.Do(http.MethodGet, "/v1/puf-designs/", nil, apitest.Bearer(tc.token))
			if resp.Status != http.StatusOK {
				t.Fatalf("status %d %s", resp.Status, resp.Body)
			}
			var p page
			resp.JSON(t, &p)
			if got := names(p.Results); got != tc.want || p.Count != len(p.Results) {
				t.Fatalf("count %d names %s, want %s", p.Count, got, tc.want)
			}
			for _, d := range p.Results {
				if d.Name == "Alpha" && d.ID != designID(1) && d.ID != designID(4) {
					t.Fatalf("unexpected design %+v", d)
				}
			}
			if tc.name == "organization A" && (p.Results[0].ID != designID(1) || p.Results[1].ID != designID(4)) {
				t.Fatalf("equal names must be ordered by id: %s, %s", p.Results[0].ID, p.Results[1].ID)
			}
		})
	}
}

func TestListOfAnOrganizationWithoutDesignsIsAnEmptyPage(t *testing.T) {
	t.Parallel()
	f := setup(t, sample[:3])
	resp := f.c.Do(http.MethodGet, "/v1/puf-designs", nil, apitest.Bearer(f.tokenB))
	if resp.Status != http.StatusOK || string(resp.Body) != `{"count":0,"next":null,"previous":null,"results":[]}` {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
}

func TestListPages(t *testing.T) {
	t.Parallel()
	var designs []pufinid.PufDesign
	for i := 1; i <= 45; i++ {
		designs = append(designs, design(i, orgA, fmt.Sprintf("d%02d", i)))
	}
	designs = append(designs, design(100, orgB, "d00")) // never counted for A
	f := setup(t, designs)
	link := func(s string) *string { return &s }
	cases := []struct {
		name, path     string
		first, n       int
		next, previous *string
	}{
		{"default page", "/v1/puf-designs/", 1, 20,
			link("https://api.pufinid.test/v1/puf-designs/?limit=20&offset=20"), nil},
		{"middle page", "/v1/puf-designs/?limit=10&offset=20", 21, 10,
			link("https://api.pufinid.test/v1/puf-designs/?limit=10&offset=30"),
			link("https://api.pufinid.test/v1/puf-designs/?limit=10&offset=10")},
		{"last page", "/v1/puf-designs/?limit=20&offset=40", 41, 5,
			nil, link("https://api.pufinid.test/v1/puf-designs/?limit=20&offset=20")},
		{"past the end", "/v1/puf-designs/?offset=100", 0, 0,
			nil, link("https://api.pufinid.test/v1/puf-designs/?limit=20&offset=80")},
		{"limit capped at 100", "/v1/puf-designs/?limit=1000", 1, 45, nil, nil},
		{"text limit falls back to 20", "/v1/puf-designs/?limit=ten&offset=-1", 1, 20,
			link("https://api.pufinid.test/v1/puf-designs/?limit=20&offset=20"), nil},
		{"no trailing slash", "/v1/puf-designs?limit=5", 1, 5,
			link("https://api.pufinid.test/v1/puf-designs?limit=5&offset=5"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.c.Do(http.MethodGet, tc.path, nil, apitest.Bearer(f.tokenA))
			var p page
			resp.JSON(t, &p)
			if resp.Status != http.StatusOK || p.Count != 45 || len(p.Results) != tc.n {
				t.Fatalf("status %d count %d, %d results; want 200, 45, %d", resp.Status, p.Count, len(p.Results), tc.n)
			}
			if tc.n > 0 && p.Results[0].ID != designID(tc.first) {
				t.Errorf("first id %s, want %s", p.Results[0].ID, designID(tc.first))
			}
			if deref(p.Next) != deref(tc.next) || deref(p.Previous) != deref(tc.previous) {
				t.Errorf("next %q previous %q; want %q %q", deref(p.Next), deref(p.Previous), deref(tc.next), deref(tc.previous))
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

func TestGetDesign(t *testing.T) {
	t.Parallel()
	f := setup(t, sample)
	cases := []struct {
		name, path, token string
		status            int
		want              pufinid.PufDesign
	}{
		{"own design", "/v1/puf-designs/" + designID(2) + "/", f.tokenA, 200, sample[2]},
		{"without trailing slash", "/v1/puf-designs/" + designID(2), f.tokenA, 200, sample[2]},
		{"upper-case id", "/v1/puf-designs/" + strings.ToUpper(designID(2)) + "/", f.tokenA, 200, sample[2]},
		{"the other organization's own design", "/v1/puf-designs/" + designID(9) + "/", f.tokenB, 200, sample[3]},
		{"another organization's design", "/v1/puf-designs/" + designID(9) + "/", f.tokenA, 404, pufinid.PufDesign{}},
		{"design of A asked by B", "/v1/puf-designs/" + designID(1) + "/", f.tokenB, 404, pufinid.PufDesign{}},
		{"unknown uuid", "/v1/puf-designs/" + designID(77) + "/", f.tokenA, 404, pufinid.PufDesign{}},
		{"id that is not a uuid", "/v1/puf-designs/abc/", f.tokenA, 404, pufinid.PufDesign{}},
		{"uuid without hyphens", "/v1/puf-designs/" + strings.ReplaceAll(designID(2), "-", "") + "/", f.tokenA, 404, pufinid.PufDesign{}},
		{"uuid with a non-hex digit", "/v1/puf-designs/" + strings.Replace(designID(2), "d", "g", 1) + "/", f.tokenA, 404, pufinid.PufDesign{}},
		{"key separator in the id", "/v1/puf-designs/" + designID(2)[:35] + "%23/", f.tokenA, 404, pufinid.PufDesign{}},
		{"unknown route below the group", "/v1/puf-designs/" + designID(2) + "/extra/", f.tokenA, 404, pufinid.PufDesign{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.c.Do(http.MethodGet, tc.path, nil, apitest.Bearer(tc.token))
			if resp.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.Status, tc.status, resp.Body)
			}
			if tc.status != 200 {
				if string(resp.Body) != `{"detail":"Not found."}` {
					t.Fatalf("body %s", resp.Body)
				}
				return
			}
			var got pufinid.PufDesign
			resp.JSON(t, &got)
			if got != tc.want {
				t.Fatalf("design %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestTokenRequired(t *testing.T) {
	t.Parallel()
	f := setup(t, sample)
	refresh, _, err := f.env.Tokens.Mint(context.Background(), token.Refresh, userA, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	shortLived, _, err := f.env.Tokens.Mint(context.Background(), token.Access, userA, "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	otherKey := token.NewIssuer(token.StaticKeys(apitest.NewKeySet(t)), f.env.Clock.Now)
	forged, _, err := otherKey.Mint(context.Background(), token.Access, userA, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.env.Clock.Advance(2 * time.Minute) // shortLived is now expired
	invalid := `{"detail":"Given token not valid for any token type","code":"token_not_valid"}`
	cases := []struct {
		name   string
		header string
		body   string
	}{
		{"no Authorization header", "", `{"detail":"Authentication credentials were not provided."}`},
		{"not a bearer header", "Basic abc", ""},
		{"garbage token", "Bearer not.a.jwt", invalid},
		{"refresh token", "Bearer " + refresh, invalid},
		{"expired access token", "Bearer " + shortLived, invalid},
		{"token signed with another key", "Bearer " + forged, invalid},
		{"token of a user that does not exist", "Bearer " + f.env.AccessToken("99999999-0000-4000-8000-000000000000"), invalid},
	}
	paths := []string{"/v1/puf-designs/", "/v1/puf-designs/" + designID(1) + "/", "/v1/puf-designs/not-a-uuid/"}
	for _, tc := range cases {
		for _, p := range paths {
			t.Run(tc.name+" "+p, func(t *testing.T) {
				var opts []apitest.Option
				if tc.header != "" {
					opts = append(opts, apitest.Header("Authorization", tc.header))
				}
				resp := f.c.Do(http.MethodGet, p, nil, opts...)
				if resp.Status != http.StatusForbidden {
					t.Fatalf("status %d, want 403: %s", resp.Status, resp.Body)
				}
				if tc.body != "" && string(resp.Body) != tc.body {
					t.Fatalf("body %s, want %s", resp.Body, tc.body)
				}
				if strings.Contains(string(resp.Body), "Alpha") {
					t.Fatalf("a refused request leaked data: %s", resp.Body)
				}
			})
		}
	}
}

func TestWrongMethodIs405(t *testing.T) {
	t.Parallel()
	f := setup(t, sample)
	for _, p := range []string{"/v1/puf-designs/", "/v1/puf-designs/" + designID(1)} {
		resp := f.c.Do(http.MethodPost, p, map[string]string{}, apitest.Bearer(f.tokenA))
		if resp.Status != http.StatusMethodNotAllowed || string(resp.Body) != `{"detail":"Method \"POST\" not allowed."}` {
			t.Fatalf("%s: %d %s", p, resp.Status, resp.Body)
		}
		if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
			t.Fatalf("%s: Allow %q", p, got)
		}
	}
}

func TestOutageIs503(t *testing.T) {
	t.Parallel()
	f := setup(t, sample)
	defer f.env.Outage()()
	for _, p := range []string{"/v1/puf-designs/", "/v1/puf-designs/" + designID(1) + "/"} {
		resp := f.c.Do(http.MethodGet, p, nil, apitest.Bearer(f.tokenA))
		if resp.Status != http.StatusServiceUnavailable || string(resp.Body) != `{"detail":"Service temporarily unavailable."}` {
			t.Fatalf("%s: %d %s", p, resp.Status, resp.Body)
		}
	}
}

func TestTwoDynamoDBRequestsPerRead(t *testing.T) {
	t.Parallel()
	f := setup(t, sample)
	cases := []struct {
		name, path string
		status     int
	}{
		{"list", "/v1/puf-designs/", 200},
		{"get", "/v1/puf-designs/" + designID(1) + "/", 200},
		{"get of another organization's design", "/v1/puf-designs/" + designID(9) + "/", 404},
	}
	// With the organization claim the two run at once; without it (older
	// tokens), one after the other.
	for i, tok := range []string{f.tokenA, f.env.AccessTokenOf(userA, orgA)} {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := f.env.Requests.Load()
				// A query string of its own, so that the page is not kept yet.
				if resp := f.c.Do(http.MethodGet, tc.path+"?token="+strconv.Itoa(i), nil, apitest.Bearer(tok)); resp.Status != tc.status {
					t.Fatalf("status %d %s", resp.Status, resp.Body)
				}
				if n := f.env.Requests.Load() - before; !f.env.RequestsMatch(n, 2) {
					t.Errorf("%d DynamoDB requests, want 2 (user + designs)", n)
				}
			})
		}
	}
}

func BenchmarkList(b *testing.B) { benchRead(b, "/v1/puf-designs/") }

func BenchmarkGet(b *testing.B) { benchRead(b, "/v1/puf-designs/"+designID(1)+"/") }

func benchRead(b *testing.B, path string) {
	f := setup(b, sample)
	f.c.SkipOpenAPI = true
	b.ReportAllocs()
	before := f.env.Requests.Load()
	for b.Loop() {
		if resp := f.c.Do(http.MethodGet, path, nil, apitest.Bearer(f.tokenA)); resp.Status != 200 {
			b.Fatal(resp.Status)
		}
	}
	b.ReportMetric(float64(f.env.Requests.Load()-before)/float64(b.N), "ddb-req/op")
}
