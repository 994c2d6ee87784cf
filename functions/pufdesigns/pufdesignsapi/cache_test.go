package pufdesignsapi_test

import (
	"net/http"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
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
