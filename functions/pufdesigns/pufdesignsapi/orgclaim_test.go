package pufdesignsapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/pufinid/pufinid-api/functions/pufdesigns/pufdesignsapi"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/refcache"
	"github.com/pufinid/pufinid-api/shared/store"
)

// overlapProbe holds each request, once armed, until a second one is in
// flight, or for a second at most: it tells whether the page (a Query, or a
// GetItem by id) was read while the profile was, not after it.
type overlapProbe struct {
	mu       sync.Mutex
	armed    bool
	inflight int
	second   chan struct{} // closed when a second request is in flight
	overlap  bool
}

func (p *overlapProbe) arm() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed, p.second, p.overlap = true, make(chan struct{}), false
}

func (p *overlapProbe) install(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("OverlapProbe",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			p.mu.Lock()
			if !p.armed {
				p.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}
			p.inflight++
			second := p.second
			if p.inflight == 2 {
				p.overlap = true
				close(second)
			}
			p.mu.Unlock()
			select {
			case <-second:
			case <-time.After(time.Second):
			}
			defer func() {
				p.mu.Lock()
				p.inflight--
				p.mu.Unlock()
			}()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// probed is the group's handler over a store whose requests p watches, its
// pointer and keys already read.
func probed(t *testing.T, f fixture, p *overlapProbe) *apitest.Client {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Table: f.env.Store.Table(), Endpoint: f.env.DB.URL, Now: f.env.Clock.Now,
		APIOptions: []func(*middleware.Stack) error{p.install}})
	if err != nil {
		t.Fatal(err)
	}
	d := pufdesignsapi.Deps{Cache: refcache.New(time.Minute), Store: st, Tokens: f.env.Tokens, Log: f.env.Log}
	c := f.env.Client(pufdesignsapi.New(d), pufdesignsapi.Routes(d).Routes())
	if resp := c.Do(http.MethodGet, "/v1/puf-designs/?limit=100", nil, apitest.Bearer(f.tokenA)); resp.Status != http.StatusOK {
		t.Fatalf("first read: %d %s", resp.Status, resp.Body)
	}
	return c
}

// A token minted with the caller's organization (every login's since the
// claim was added) has the page read alongside the profile: one round trip
// instead of two, and the same two requests. A token without the claim
// reads them one after the other, as before, with the same answer.
func TestAnOrganizationInTheTokenReadsThePageAlongsideTheProfile(t *testing.T) {
	t.Parallel()
	f := setup(t, sample)
	p := new(overlapProbe)
	c := probed(t, f, p)
	for _, tc := range []struct {
		name, token string
		overlap     bool
	}{
		{"with the claim", f.env.AccessTokenOf(userA, orgA), true},
		{"without it", f.tokenA, false},
	} {
		for _, path := range []string{"/v1/puf-designs/?limit=2", "/v1/puf-designs/" + designID(2) + "/"} {
			p.arm()
			resp := c.Do(http.MethodGet, path+"?v="+strings.ReplaceAll(tc.name, " ", ""), nil, apitest.Bearer(tc.token))
			if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), "Alpha") && !strings.Contains(string(resp.Body), "Bravo") {
				t.Errorf("%s: GET %s: %d %s", tc.name, path, resp.Status, resp.Body)
			}
			if p.overlap != tc.overlap {
				t.Errorf("%s: GET %s: page read during the profile read %v, want %v", tc.name, path, p.overlap, tc.overlap)
			}
		}
	}
}

// The attack: a token that verifies, of a user deleted since (or never
// stored), naming an organization whose answers the instance already
// keeps. The page is read or found while the profile is, but never
// answered: 403, with nothing of the designs, on a cold cache and a warm
// one, for the list and for a design, and for an id that is not one.
func TestAnOrganizationInTheTokenNeverAnswersForAGoneUser(t *testing.T) {
	t.Parallel()
	f := setup(t, sample)
	ghost := f.env.AccessTokenOf("1c000000-0000-4000-8000-00000000001c", orgA)
	paths := []string{"/v1/puf-designs/", "/v1/puf-designs/" + designID(1) + "/", "/v1/puf-designs/abc/"}
	for _, warm := range []bool{false, true} {
		if warm {
			for _, path := range paths[:2] {
				if resp := f.c.Do(http.MethodGet, path, nil, apitest.Bearer(f.tokenA)); resp.Status != http.StatusOK {
					t.Fatalf("A: GET %s: %d", path, resp.Status)
				}
			}
		}
		for _, path := range paths {
			resp := f.c.Do(http.MethodGet, path, nil, apitest.Bearer(ghost))
			if resp.Status != http.StatusForbidden || strings.Contains(string(resp.Body), "Alpha") {
				t.Errorf("gone user, cache warm %v: GET %s: %d %s, want 403", warm, path, resp.Status, resp.Body)
			}
		}
	}
}

// A claim that disagrees with the profile (which a token this service
// signed cannot carry, since an organization is fixed at signup) is
// overruled by the profile: B's token naming A's organization lists B's
// designs and finds none of A's, whether A's answers are kept or not.
func TestTheProfileOverrulesTheTokensOrganization(t *testing.T) {
	t.Parallel()
	f := setup(t, sample)
	lying := f.env.AccessTokenOf(userB, orgA)
	for _, warm := range []bool{false, true} {
		if warm {
			f.c.Do(http.MethodGet, "/v1/puf-designs/", nil, apitest.Bearer(f.tokenA))
			f.c.Do(http.MethodGet, "/v1/puf-designs/"+designID(1)+"/", nil, apitest.Bearer(f.tokenA))
		}
		var p page
		resp := f.c.Do(http.MethodGet, "/v1/puf-designs/", nil, apitest.Bearer(lying))
		resp.JSON(t, &p)
		if resp.Status != http.StatusOK || p.Count != 1 || names(p.Results) != "Bravo B" {
			t.Errorf("cache warm %v: B's list with A's organization claimed: %d, count %d, %s", warm, resp.Status, p.Count, names(p.Results))
		}
		if resp := f.c.Do(http.MethodGet, "/v1/puf-designs/"+designID(1)+"/", nil, apitest.Bearer(lying)); resp.Status != http.StatusNotFound {
			t.Errorf("cache warm %v: A's design for B claiming A's organization: %d %s, want 404", warm, resp.Status, resp.Body)
		}
	}
}
