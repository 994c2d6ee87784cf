package faqapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/functions/faq/faqapi"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/refcache"
)

// A warm instance answers public reads from its cache: no DynamoDB
// request, the same body and ETag, and a 304 for a client that has it.
func TestWarmPublicReadsMakeNoDynamoDBRequest(t *testing.T) {
	t.Parallel()
	env, c := setup(t, sample)
	for _, path := range []string{"/v1/faq/topics/", "/v1/faq/topics/?limit=1&offset=1", "/v1/faq/topics/3/"} {
		t.Run(path, func(t *testing.T) {
			before := env.Requests.Load()
			cold := c.Do(http.MethodGet, path, nil)
			if n := env.Requests.Load() - before; cold.Status != http.StatusOK || !env.RequestsMatch(n, 1) {
				t.Fatalf("cold: %d with %d DynamoDB requests, want 200 with 1", cold.Status, n)
			}
			etag := cold.Header.Get("ETag")
			if cc := cold.Header.Get("Cache-Control"); cc != "public, max-age=60" || !strings.HasPrefix(etag, `"`) {
				t.Fatalf("Cache-Control %q, ETag %q", cc, etag)
			}
			before = env.Requests.Load()
			warm := c.Do(http.MethodGet, path, nil)
			if n := env.Requests.Load() - before; n != 0 || string(warm.Body) != string(cold.Body) || warm.Header.Get("ETag") != etag {
				t.Errorf("warm: %d DynamoDB requests, body %s, ETag %q", n, warm.Body, warm.Header.Get("ETag"))
			}
			for _, inm := range []string{etag, `"other", ` + etag, "W/" + etag, "*"} {
				before = env.Requests.Load()
				nm := c.Do(http.MethodGet, path, nil, apitest.Header("If-None-Match", inm))
				if n := env.Requests.Load() - before; nm.Status != http.StatusNotModified || len(nm.Body) != 0 || n != 0 {
					t.Errorf("If-None-Match %s: %d %q with %d DynamoDB requests, want 304, no body, none", inm, nm.Status, nm.Body, n)
				}
			}
			if stale := c.Do(http.MethodGet, path, nil, apitest.Header("If-None-Match", `"not-it"`)); stale.Status != http.StatusOK {
				t.Errorf("an old ETag: %d, want 200", stale.Status)
			}
		})
	}
}

// An instance that never kept the answer reads it once, then knows its
// ETag: the validator is the body's hash, the same on every instance.
func TestAColdInstanceHonoursAnotherInstancesETag(t *testing.T) {
	t.Parallel()
	env, c := setup(t, sample)
	etag := c.Do(http.MethodGet, "/v1/faq/topics/", nil).Header.Get("ETag")
	d := faqapi.Deps{Cache: refcache.New(time.Minute), Store: env.Store, Log: env.Log}
	other := env.Client(faqapi.New(d), faqapi.Routes(d).Routes())
	if resp := other.Do(http.MethodGet, "/v1/faq/topics/", nil, apitest.Header("If-None-Match", etag)); resp.Status != http.StatusNotModified {
		t.Errorf("%d %s, want 304", resp.Status, resp.Body)
	}
}

// Errors are never kept: a topic that does not exist is read again.
func TestMissesAreNotKept(t *testing.T) {
	t.Parallel()
	env, c := setup(t, []pufinid.FAQTopic{{ID: 1, Name: "One"}})
	for range 2 {
		before := env.Requests.Load()
		if resp := c.Do(http.MethodGet, "/v1/faq/topics/2/", nil); resp.Status != http.StatusNotFound || resp.Header.Get("ETag") != "" {
			t.Fatalf("%d, ETag %q", resp.Status, resp.Header.Get("ETag"))
		}
		if n := env.Requests.Load() - before; !env.RequestsMatch(n, 1) {
			t.Errorf("%d DynamoDB requests, want 1", n)
		}
	}
}
