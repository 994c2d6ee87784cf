package faqapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/functions/faq/faqapi"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/refcache"
)

func setup(t testing.TB, topics []pufinid.FAQTopic) (*apitest.Env, *apitest.Client) {
	env := apitest.New(t)
	env.Load(pufinid.Reference{FAQTopics: topics})
	d := faqapi.Deps{Cache: refcache.New(time.Minute), Store: env.Store, Log: env.Log}
	return env, env.Client(faqapi.New(d), faqapi.Routes(d).Routes())
}

var sample = []pufinid.FAQTopic{
	{ID: 3, Name: "Scanning", SortOrder: 1, Questions: []pufinid.FAQQuestion{
		{ID: 9, Question: "Why?", Answer: "Because.", SortOrder: 2},
		{ID: 8, Question: "How?", Answer: "Like so.", SortOrder: 2},
		{ID: 7, Question: "What?", Answer: "This.", SortOrder: 1},
	}},
	{ID: 1, Name: "Account", SortOrder: 1},
	{ID: 2, Name: "Welcome", SortOrder: -5},
}

func TestListOrdersTopicsAndQuestionsBySortOrderThenID(t *testing.T) {
	t.Parallel()
	_, c := setup(t, sample)
	resp := c.Do(http.MethodGet, "/v1/faq/topics/", nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d %s", resp.Status, resp.Body)
	}
	var page struct {
		Count   int
		Results []pufinid.FAQTopic
	}
	resp.JSON(t, &page)
	var ids []int
	for _, tp := range page.Results {
		ids = append(ids, tp.ID)
	}
	if page.Count != 3 || fmt.Sprint(ids) != "[2 1 3]" {
		t.Fatalf("count %d ids %v", page.Count, ids)
	}
	var qids []int
	for _, q := range page.Results[2].Questions {
		qids = append(qids, q.ID)
	}
	if fmt.Sprint(qids) != "[7 8 9]" {
		t.Fatalf("question order %v", qids)
	}
	if page.Results[0].Questions == nil {
		t.Fatal("a topic without questions must list [] not null")
	}
}

func TestListPages(t *testing.T) {
	t.Parallel()
	var topics []pufinid.FAQTopic
	for i := 1; i <= 45; i++ {
		topics = append(topics, pufinid.FAQTopic{ID: i, Name: fmt.Sprintf("t%d", i), SortOrder: i})
	}
	_, c := setup(t, topics)
	next := func(s string) *string { return &s }
	cases := []struct {
		name           string
		query          string
		first, n       int
		next, previous *string
	}{
		{"default page", "", 1, 20, next("https://api.pufinid.test/v1/faq/topics/?limit=20&offset=20"), nil},
		{"middle page", "?limit=10&offset=20", 21, 10,
			next("https://api.pufinid.test/v1/faq/topics/?limit=10&offset=30"),
			next("https://api.pufinid.test/v1/faq/topics/?limit=10&offset=10")},
		{"previous of a near-first page drops offset", "?limit=10&offset=5", 6, 10,
			next("https://api.pufinid.test/v1/faq/topics/?limit=10&offset=15"),
			next("https://api.pufinid.test/v1/faq/topics/?limit=10")},
		{"last page", "?limit=20&offset=40", 41, 5, nil, next("https://api.pufinid.test/v1/faq/topics/?limit=20&offset=20")},
		{"past the end", "?offset=100", 0, 0, nil, next("https://api.pufinid.test/v1/faq/topics/?limit=20&offset=80")},
		{"limit capped at 100", "?limit=1000", 1, 45, nil, nil},
		{"zero limit falls back to 20", "?limit=0", 1, 20, next("https://api.pufinid.test/v1/faq/topics/?limit=20&offset=20"), nil},
		{"negative limit falls back", "?limit=-3", 1, 20, next("https://api.pufinid.test/v1/faq/topics/?limit=20&offset=20"), nil},
		{"text limit and offset fall back", "?limit=ten&offset=x", 1, 20, next("https://api.pufinid.test/v1/faq/topics/?limit=20&offset=20"), nil},
		{"no trailing slash", "", 1, 20, next("https://api.pufinid.test/v1/faq/topics?limit=20&offset=20"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "/v1/faq/topics/" + tc.query
			if tc.name == "no trailing slash" {
				path = "/v1/faq/topics" + tc.query
			}
			resp := c.Do(http.MethodGet, path, nil)
			var page struct {
				Count          int
				Next, Previous *string
				Results        []pufinid.FAQTopic
			}
			resp.JSON(t, &page)
			if page.Count != 45 || len(page.Results) != tc.n {
				t.Fatalf("count %d, %d results; want 45, %d", page.Count, len(page.Results), tc.n)
			}
			if tc.n > 0 && page.Results[0].ID != tc.first {
				t.Errorf("first id %d, want %d", page.Results[0].ID, tc.first)
			}
			if fmt.Sprint(deref(page.Next)) != fmt.Sprint(deref(tc.next)) || fmt.Sprint(deref(page.Previous)) != fmt.Sprint(deref(tc.previous)) {
				t.Errorf("next %v previous %v; want %v %v", deref(page.Next), deref(page.Previous), deref(tc.next), deref(tc.previous))
			}
		})
	}
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func TestGetTopic(t *testing.T) {
	t.Parallel()
	_, c := setup(t, sample)
	cases := []struct {
		name, path string
		status     int
		body       string
	}{
		{"by id", "/v1/faq/topics/3/", 200, ""},
		{"without trailing slash", "/v1/faq/topics/3", 200, ""},
		{"unknown id", "/v1/faq/topics/99/", 404, `{"detail":"Not found."}`},
		{"id that is not a number", "/v1/faq/topics/abc/", 404, `{"detail":"Not found."}`},
		{"unknown route below the group", "/v1/faq/topics/3/extra/", 404, `{"detail":"Not found."}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.Do(http.MethodGet, tc.path, nil)
			if resp.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.Status, tc.status, resp.Body)
			}
			if tc.body != "" && string(resp.Body) != tc.body {
				t.Fatalf("body %s, want %s", resp.Body, tc.body)
			}
			if tc.status == 200 {
				var tp pufinid.FAQTopic
				resp.JSON(t, &tp)
				if tp.ID != 3 || len(tp.Questions) != 3 || tp.Questions[0].ID != 7 {
					t.Fatalf("topic %+v", tp)
				}
			}
		})
	}
}

func TestWrongMethodIs405(t *testing.T) {
	t.Parallel()
	_, c := setup(t, sample)
	resp := c.Do(http.MethodPost, "/v1/faq/topics/", map[string]string{})
	if resp.Status != http.StatusMethodNotAllowed || string(resp.Body) != `{"detail":"Method \"POST\" not allowed."}` {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
	if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
		t.Fatalf("Allow %q", got)
	}
}

func TestOutageIs503(t *testing.T) {
	t.Parallel()
	env, c := setup(t, sample)
	defer env.Outage()()
	for _, p := range []string{"/v1/faq/topics/", "/v1/faq/topics/1/"} {
		resp := c.Do(http.MethodGet, p, nil)
		if resp.Status != http.StatusServiceUnavailable || string(resp.Body) != `{"detail":"Service temporarily unavailable."}` {
			t.Fatalf("%s: %d %s", p, resp.Status, resp.Body)
		}
	}
}

// A connection to DynamoDB dropped on a busy machine is retried, as the
// deployed function's client does, not answered 503 (a store client making
// one attempt turns such a drop into a failure of whichever test met it).
func TestDroppedConnectionsAreNot503(t *testing.T) {
	t.Parallel()
	env, c := setup(t, sample)
	for _, p := range []string{"/v1/faq/topics/", "/v1/faq/topics/3/"} {
		env.DropConnections(2)
		if resp := c.Do(http.MethodGet, p, nil); resp.Status != http.StatusOK {
			t.Fatalf("%s after 2 dropped connections: %d %s", p, resp.Status, resp.Body)
		}
		if left := env.DB.PendingDrops(env.Store.Table()); left != 0 {
			t.Fatalf("%s: %d of 2 connections not dropped", p, left)
		}
	}
}

func TestOneDynamoDBRequestPerRead(t *testing.T) {
	t.Parallel()
	env, c := setup(t, sample)
	for _, p := range []string{"/v1/faq/topics/", "/v1/faq/topics/3/"} {
		before := env.Requests.Load()
		c.Do(http.MethodGet, p, nil)
		if n := env.Requests.Load() - before; !env.RequestsMatch(n, 1) {
			t.Errorf("%s: %d DynamoDB requests, want 1", p, n)
		}
	}
}

func BenchmarkList(b *testing.B) { benchRead(b, "/v1/faq/topics/") }

func BenchmarkGet(b *testing.B) { benchRead(b, "/v1/faq/topics/3/") }

func benchRead(b *testing.B, path string) {
	env, c := setup(b, sample)
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
