package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
)

// The page budget, through the local server as `make run` serves it: with
// the embedded store holding 10,000 PUF designs and 2,000 FAQ topics, the
// first and the last page of each list answer within pageCostBound times
// the same pages with 100 designs and 20 topics, both when the function's
// instance cache answers (the same URL again) and when the page is read
// from the store (a query parameter no handler reads makes every URL
// new).
const pageCostBound = 2.0

// costServer is a local server with a grown fixture and a user of the
// Demo organization logged in.
type costServer struct {
	base, token           string
	designs, topics       int
	lastDesign, lastTopic int // offsets of the last pages
}

// mustSignUpAndLogIn signs a user up with email on the server at base
// (the Demo organization) and returns their access token.
func mustSignUpAndLogIn(t *testing.T, base, email string) string {
	t.Helper()
	const pass = "Analytical-Engine-1843"
	if resp := mustDo(t, "POST", base+"/v1/users/", map[string]any{
		"first_name": "Test", "last_name": "User", "email": email,
		"password": pass, "password_confirm": pass, "terms_accepted": []string{"*"},
	}); resp.Status != http.StatusCreated {
		t.Fatalf("sign up: %d %s", resp.Status, resp.Body)
	}
	resp := mustDo(t, "POST", base+"/v1/token/", map[string]string{"username": email, "password": pass})
	if resp.Status != http.StatusOK {
		t.Fatalf("log in: %d %s", resp.Status, resp.Body)
	}
	var tokens struct{ Access string }
	resp.JSON(t, &tokens)
	return tokens.Access
}

func startCostServer(t *testing.T, designs, topics int) costServer {
	t.Helper()
	base, _ := mustStart(t, []string{"-designs", strconv.Itoa(designs), "-faq-topics", strconv.Itoa(topics)}, nil)
	return costServer{base: base, token: mustSignUpAndLogIn(t, base, "page.cost@example.com"), designs: designs, topics: topics,
		lastDesign: designs - 20, lastTopic: topics - 20}
}

// page is one page of a list: its path, whether it needs the token, its
// offset and the list's length on a server.
type page struct {
	name, path string
	auth       bool
	offset     func(costServer) int
	total      func(costServer) int
}

func (p page) url(s costServer, bust int) string {
	u := fmt.Sprintf("%s%s?limit=20&offset=%d", s.base, p.path, p.offset(s))
	if bust > 0 {
		u += "&uncached=" + strconv.Itoa(bust)
	}
	return u
}

func (p page) get(t *testing.T, s costServer, bust int) *apitest.Response {
	t.Helper()
	bearer := ""
	if p.auth {
		bearer = s.token
	}
	resp := mustSend(t, "GET", p.url(s, bust), bearer)
	if resp.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", p.url(s, bust), resp.Status, resp.Body)
	}
	return resp
}

func TestPageCostDoesNotGrowWithTheData(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 12,000 reference items")
	}
	small := startCostServer(t, 100, 20)
	large := startCostServer(t, 10_000, 2_000)
	first := func(costServer) int { return 0 }
	pages := []page{
		{"PUF designs, first page", "/v1/puf-designs/", true, first, func(s costServer) int { return s.designs }},
		{"PUF designs, last page", "/v1/puf-designs/", true, func(s costServer) int { return s.lastDesign }, func(s costServer) int { return s.designs }},
		{"FAQ topics, first page", "/v1/faq/topics/", false, first, func(s costServer) int { return s.topics }},
		{"FAQ topics, last page", "/v1/faq/topics/", false, func(s costServer) int { return s.lastTopic }, func(s costServer) int { return s.topics }},
	}
	// Each page is the page asked for, whatever the size.
	for _, p := range pages {
		for _, s := range []costServer{small, large} {
			var got struct {
				Count   int              `json:"count"`
				Results []map[string]any `json:"results"`
				Next    *string          `json:"next"`
			}
			p.get(t, s, 0).JSON(t, &got)
			if got.Count != p.total(s) || len(got.Results) != 20 || (p.offset(s)+20 >= p.total(s)) != (got.Next == nil) {
				t.Fatalf("%s of %d: count %d, %d results, next %v", p.name, p.total(s), got.Count, len(got.Results), got.Next)
			}
		}
	}

	const pairs, attempts = 100, 3
	for _, p := range pages {
		for _, mode := range []struct {
			name string
			bust bool
		}{{"cached", false}, {"read from the store", true}} {
			t.Run(p.name+", "+mode.name, func(t *testing.T) {
				var ratios []string
				for attempt := 1; attempt <= attempts; attempt++ {
					l := apitest.MeasurePairs(pairs, func(int) {}, func(int) {
						p.get(t, small, busting(mode.bust))
					}, func(int) {
						p.get(t, large, busting(mode.bust))
					})
					s, g := apitest.Median(l.Existing), apitest.Median(l.Unknown)
					r := float64(g) / float64(s)
					t.Logf("attempt %d: p50 %v with %d designs and %d topics, %v with %d and %d: %.2f×",
						attempt, s, small.designs, small.topics, g, large.designs, large.topics, r)
					if r <= pageCostBound {
						return
					}
					ratios = append(ratios, fmt.Sprintf("%.2f×", r))
				}
				t.Fatalf("%s, %s: p50 with 10,000 designs and 2,000 topics is over %.0f× that with 100 and 20 in all %d measurements: %v",
					p.name, mode.name, pageCostBound, attempts, ratios)
			})
		}
	}
}

// busting is the cache-busting parameter of a request: 0 (none) when
// the cache may answer, else a value no earlier request used.
func busting(bust bool) int {
	if !bust {
		return 0
	}
	return int(bustSeq.Add(1))
}

var bustSeq atomic.Int64
