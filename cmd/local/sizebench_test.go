package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/fixtures"
	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// benchSizes are the list lengths BenchmarkReadsBySize loads: N PUF
// designs in the Demo organization and N FAQ topics; the environment
// variable BENCH_SIZES (make bench-sizes BENCH_SIZES=100,1000) picks
// others.
func benchSizes(b *testing.B) []int {
	spec := os.Getenv("BENCH_SIZES")
	if spec == "" {
		return []int{100, 1_000, 10_000, 50_000}
	}
	var sizes []int
	for f := range strings.SplitSeq(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 20 {
			b.Fatalf("BENCH_SIZES=%q: %q is not a size of at least 20", spec, f)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

// BenchmarkReadsBySize is the cost of every read route of reference data
// at each size of benchSizes, end to end through the local API Gateway
// (payload 2.0 events, the Lambda adapter, each group's real Setup and
// its instance cache) and the embedded DynamoDB. Per route it reports
// ns/op, and from shared/dev/ddbmeter the DynamoDB requests, items read
// and read capacity units (on-demand read request units) per call:
//
//   - store: every call reads the store (a query parameter no handler
//     reads makes each URL new to the instance cache), the reference
//     pointer already read by the instance;
//
//   - cached: the same URL again, answered by the instance cache (the
//     routes that need a token still read the caller's organization);
//
//   - 304: the same with If-None-Match naming the answer's ETag (public
//     routes).
//
//     make bench-sizes            (or go test ./cmd/local -run '^$' -bench ReadsBySize)
func BenchmarkReadsBySize(b *testing.B) {
	for _, n := range benchSizes(b) {
		b.Run("N="+strconv.Itoa(n), func(b *testing.B) { benchReadsAt(b, n) })
	}
}

func benchReadsAt(b *testing.B, n int) {
	demo, err := fixtures.Demo()
	if err != nil {
		b.Fatal(err)
	}
	ref, err := fixtures.Grow(demo, n, n)
	if err != nil {
		b.Fatal(err)
	}
	env := apitest.New(b)
	env.Load(ref)
	gw, _, err := newGateway(context.Background(), mustTemplate(b), testLocalEnv(env))
	if err != nil {
		b.Fatal(err)
	}
	org := ""
	for _, o := range ref.Organizations {
		if o.Code == nil {
			org = o.ID
		}
	}
	const user = "b0000000-0000-4000-8000-00000000000b"
	if err := env.Store.CreateUser(context.Background(), pufinid.User{ID: user, Email: "bench@example.com", OrganizationID: org}, nil); err != nil {
		b.Fatal(err)
	}
	tok := env.AccessToken(user)
	lastDesign := ref.PufDesigns[len(ref.PufDesigns)-1].ID
	lastTopic := ref.FAQTopics[len(ref.FAQTopics)-1].ID
	last := strconv.Itoa(n - 20)

	routes := []struct {
		name, path string
		auth       bool // sends the token: a private answer, no 304
	}{
		{"puf-designs/first", "/v1/puf-designs/?limit=20", true},
		{"puf-designs/last", "/v1/puf-designs/?limit=20&offset=" + last, true},
		{"puf-designs/one", "/v1/puf-designs/" + lastDesign + "/?", true},
		{"faq-topics/first", "/v1/faq/topics/?limit=20", false},
		{"faq-topics/last", "/v1/faq/topics/?limit=20&offset=" + last, false},
		{"faq-topics/past-the-end", "/v1/faq/topics/?limit=20&offset=" + strconv.Itoa(n+100), false},
		{"faq-topics/one", "/v1/faq/topics/" + strconv.Itoa(lastTopic) + "/?", false},
		{"terms", "/v1/terms/?", false},
		{"apps-profile", "/v1/apps-profile/?o=pufinid-app&g=wine-shops&id=QR-0001", false},
	}
	seq := 0
	get := func(b *testing.B, path string, auth bool, etag string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		if want := map[bool]int{false: http.StatusOK, true: http.StatusNotModified}[etag != ""]; rec.Code != want {
			b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		return rec
	}
	for _, r := range routes {
		sep := "&"
		if r.path[len(r.path)-1] == '?' {
			sep = ""
		}
		modes := []string{"store", "cached"}
		if !r.auth {
			modes = append(modes, "304")
		}
		for _, mode := range modes {
			b.Run(r.name+"/"+mode, func(b *testing.B) {
				etag := get(b, r.path, r.auth, "").Header().Get("ETag") // warm: the instance has read the pointer and the answer
				if mode != "304" {
					etag = ""
				}
				before := env.Meter.Snapshot()
				b.ReportAllocs()
				for b.Loop() {
					path := r.path
					if mode == "store" {
						seq++
						path += sep + "uncached=" + strconv.Itoa(seq)
					}
					get(b, path, r.auth, etag)
				}
				used := env.Meter.Snapshot().Sub(before)
				ops := float64(b.N)
				b.ReportMetric(float64(used.Requests)/ops, "dynamodb-req/op")
				b.ReportMetric(float64(used.Items)/ops, "items/op")
				b.ReportMetric(used.ReadUnits/ops, "rcu/op")
			})
		}
	}
}
