package pufdesignsapi_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/functions/pufdesigns/pufdesignsapi"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/refcache"
)

// The attack: a user of organization B asks for the very URLs a user of
// organization A just read, on the same warm instance, hoping for A's
// kept answers. Pages and designs are kept under the caller's
// organization, so B gets B's list, and A's design stays a 404.
func TestKeptAnswersNeverCrossOrganizations(t *testing.T) {
	t.Parallel()
	f := setup(t, sample)
	for _, path := range []string{"/v1/puf-designs/", "/v1/puf-designs/?limit=2", "/v1/puf-designs/" + designID(1) + "/"} {
		if resp := f.c.Do(http.MethodGet, path, nil, apitest.Bearer(f.tokenA)); resp.Status != http.StatusOK {
			t.Fatalf("A: GET %s: %d %s", path, resp.Status, resp.Body)
		}
	}
	var p page
	resp := f.c.Do(http.MethodGet, "/v1/puf-designs/", nil, apitest.Bearer(f.tokenB))
	resp.JSON(t, &p)
	if resp.Status != http.StatusOK || p.Count != 1 || names(p.Results) != "Bravo B" {
		t.Errorf("B's list after A's: %d, count %d, %s", resp.Status, p.Count, names(p.Results))
	}
	resp = f.c.Do(http.MethodGet, "/v1/puf-designs/?limit=2", nil, apitest.Bearer(f.tokenB))
	resp.JSON(t, &p)
	if p.Count != 1 || names(p.Results) != "Bravo B" {
		t.Errorf("B's page after A's: count %d, %s", p.Count, names(p.Results))
	}
	if resp := f.c.Do(http.MethodGet, "/v1/puf-designs/"+designID(1)+"/", nil, apitest.Bearer(f.tokenB)); resp.Status != http.StatusNotFound {
		t.Errorf("A's design for B after A read it: %d %s, want 404", resp.Status, resp.Body)
	}
	// Private answers are never for shared caches.
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if resp := f.c.Do(http.MethodGet, "/v1/puf-designs/", nil); resp.Status != http.StatusForbidden {
		t.Errorf("no token after kept answers: %d, want 403", resp.Status)
	}
}

// A warm instance still reads the caller's organization (user data is
// never kept), and nothing else.
func TestAWarmPageReadsOnlyTheCallersOrganization(t *testing.T) {
	t.Parallel()
	f := setup(t, sample)
	f.c.Do(http.MethodGet, "/v1/puf-designs/", nil, apitest.Bearer(f.tokenA))
	before := f.env.Requests.Load()
	resp := f.c.Do(http.MethodGet, "/v1/puf-designs/", nil, apitest.Bearer(f.tokenA))
	if n := f.env.Requests.Load() - before; resp.Status != http.StatusOK || !f.env.RequestsMatch(n, 1) {
		t.Errorf("warm page: %d with %d DynamoDB requests, want 200 with 1", resp.Status, n)
	}
}

// The instance cache's memory at 10,000 designs of about 300 bytes: 200
// designs by id, every page at limit 20, then every page at limit 100
// (the largest answers last, so that the cache ends up full of them), all
// kept as they are read. The cache holds refcache.MaxEntries answers at most,
// the least recently used going first, so what it keeps stays within
// MaxEntries × MaxEntryBytes whatever the number of designs; the heap it
// retains (bodies, keys, list nodes) is measured around it. Serial: it
// reads the whole process's heap.
func TestCacheMemoryIsBoundedAtTenThousandDesigns(t *testing.T) {
	const n = 10_000
	designs := make([]pufinid.PufDesign, n)
	for i := range designs {
		designs[i] = design(i+1, orgA, fmt.Sprintf("Design %06d", i))
		designs[i].Description = strings.Repeat("A label design for trying the app out. ", 4)
	}
	env := apitest.New(t)
	env.Load(pufinid.Reference{PufDesigns: designs})
	if err := env.Store.CreateUser(context.Background(), pufinid.User{ID: userA, Email: "a@example.com", OrganizationID: orgA}, nil); err != nil {
		t.Fatal(err)
	}
	cache := refcache.New(time.Minute)
	d := pufdesignsapi.Deps{Cache: cache, Store: env.Store, Tokens: env.Tokens, Log: env.Log}
	c := env.Client(pufdesignsapi.New(d), pufdesignsapi.Routes(d).Routes())
	c.SkipOpenAPI = true
	tok := env.AccessToken(userA)
	get := func(path string) int {
		resp := c.Do(http.MethodGet, path, nil, apitest.Bearer(tok))
		if resp.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.Status, resp.Body)
		}
		return len(resp.Body)
	}
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}

	get("/v1/puf-designs/?limit=1") // the reference pointer, the LRU itself
	before := heap()
	page20, page100 := 0, 0
	for i := 1; i <= 200; i++ {
		get("/v1/puf-designs/" + designID(i) + "/")
	}
	for offset := 0; offset < n; offset += 20 {
		page20 = get(fmt.Sprintf("/v1/puf-designs/?limit=20&offset=%d", offset))
	}
	for offset := 0; offset < n; offset += 100 {
		page100 = get(fmt.Sprintf("/v1/puf-designs/?limit=100&offset=%d", offset))
	}
	retained := int64(heap()) - int64(before)
	bound := refcache.MaxEntries * refcache.MaxEntryBytes
	t.Logf("kept %d answers, %d bytes of bodies (a page of 20: %d bytes, of 100: %d); heap retained %.2f MiB; bound %d answers × %d KiB = %d MiB",
		cache.Len(), cache.Bytes(), page20, page100, float64(retained)/(1<<20), refcache.MaxEntries, refcache.MaxEntryBytes>>10, bound>>20)
	runtime.KeepAlive(cache)
	if cache.Len() > refcache.MaxEntries || cache.Bytes() > bound {
		t.Errorf("the cache keeps %d answers of %d bytes, over its bound", cache.Len(), cache.Bytes())
	}
	// Keys and list nodes add little to the bodies: the heap retained
	// stays within twice the bound.
	if retained > int64(2*bound) {
		t.Errorf("heap retained after filling the cache: %d bytes, over twice the bound (%d)", retained, 2*bound)
	}
}

// A cold instance (its own Setup, as Lambda runs it) reads the published
// public keys to verify the token, then the caller's profile and the
// reference pointer in one BatchGetItem, then the page: 3 requests in
// sequence, the keys' once per instance every token.DefaultCacheTTL. Once the pointer is trusted, a new page is the
// profile's GetItem and the page's Query. A token whose user does not
// exist is still refused on a cold instance, where the profile comes with
// the pointer.
func TestAColdInstanceReadsTheProfileAndThePointerTogether(t *testing.T) {
	t.Parallel()
	f := setup(t, sample)
	cold := func() *apitest.Client {
		h, err := pufdesignsapi.Setup(context.Background(), f.env.FunctionEnv(nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		return f.env.Client(h, pufdesignsapi.Routes(pufdesignsapi.Deps{}).Routes())
	}
	c := cold()
	for _, tc := range []struct {
		path, names string
		requests    int64
	}{
		{"/v1/puf-designs/", "Alpha,Bravo,Charlie", 3},
		{"/v1/puf-designs/?limit=1", "Alpha", 2},
	} {
		before := f.env.Requests.Load()
		var p page
		resp := c.Do(http.MethodGet, tc.path, nil, apitest.Bearer(f.tokenA))
		resp.JSON(t, &p)
		if n := f.env.Requests.Load() - before; resp.Status != http.StatusOK || names(p.Results) != tc.names || !f.env.RequestsMatch(n, tc.requests) {
			t.Errorf("GET %s: %d %s with %d DynamoDB requests, want 200 %s with %d", tc.path, resp.Status, names(p.Results), n, tc.names, tc.requests)
		}
	}
	ghost := f.env.AccessToken("1c000000-0000-4000-8000-00000000001c")
	if resp := cold().Do(http.MethodGet, "/v1/puf-designs/", nil, apitest.Bearer(ghost)); resp.Status != http.StatusForbidden {
		t.Errorf("a token of no user on a cold instance: %d %s, want 403", resp.Status, resp.Body)
	}
}
