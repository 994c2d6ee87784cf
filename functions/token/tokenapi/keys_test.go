package tokenapi_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"github.com/pufinid/pufinid-api/shared/dev/secretsemu"
	"github.com/pufinid/pufinid-api/shared/secretkeys"
	"github.com/pufinid/pufinid-api/shared/store"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pufinid/pufinid-api/functions/token/tokenapi"
	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/token"
)

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := parsed.Header["kid"].(string)
	return kid
}

// The JWKS route lists the key every token names, as a public document
// caches may keep, and answers a matching If-None-Match with a bare 304.
func TestJWKSPublishesTheKeyTokensName(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "jo")
	p := mustLogin(t, c, "jo")
	resp := c.Do(http.MethodGet, "/.well-known/jwks.json", nil)
	if resp.Status != http.StatusOK || resp.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("GET jwks: %d %s %s", resp.Status, resp.Header.Get("Content-Type"), resp.Body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control %q", cc)
	}
	set, err := token.ParseKeySet(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{p.Access, p.Refresh} {
		if _, ok := set.Lookup(kidOf(t, tok)); !ok {
			t.Errorf("a token names kid %q, which the JWKS does not list", kidOf(t, tok))
		}
	}
	etag := resp.Header.Get("ETag")
	again := c.Do(http.MethodGet, "/.well-known/jwks.json", nil, apitest.Header("If-None-Match", etag))
	if again.Status != http.StatusNotModified || len(again.Body) != 0 {
		t.Errorf("If-None-Match %s: %d %q, want a bare 304", etag, again.Status, again.Body)
	}
}

// rotatingKeys is the signing keys' secret during a rotation: the test
// changes it as cmd/keys would, and publishes each public set in the table.
type rotatingKeys struct {
	mu  sync.Mutex
	set token.KeySet
}

func (r *rotatingKeys) KeySet(context.Context) (token.KeySet, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.set, nil
}

func (r *rotatingKeys) change(t *testing.T, env *apitest.Env, f func(token.KeySet) (token.KeySet, error)) {
	t.Helper()
	r.mu.Lock()
	set, err := f(r.set)
	if err == nil {
		r.set = set
	}
	r.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := apitest.PublishKeys(env.Inspect, set.Public()); err != nil {
		t.Fatal(err)
	}
}

// The rotation procedure, through the token routes and a verifying
// function's Issuer, on the injected clock: tokens signed before it keep
// working until they expire, however the keys turn, and a retired key's
// tokens are refused everywhere. Each function keeps the set it read for
// token.DefaultCacheTTL, as in Lambda.
func TestRotationLogsNobodyOut(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	const day = 24 * time.Hour
	mustUser(t, env, "kim") // a refresh lifetime of one day
	keys := &rotatingKeys{}
	newKey := func() token.Key {
		k, err := token.NewKey(rand.Reader, env.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	keys.change(t, env, func(s token.KeySet) (token.KeySet, error) {
		s, err := s.AddNext(newKey())
		if err != nil {
			return s, err
		}
		return s.Promote(env.Clock.Now(), token.DefaultCacheTTL)
	})
	d := tokenapi.Deps{Store: env.Store, Tokens: token.NewIssuer(token.Cached(keys, token.DefaultCacheTTL, env.Clock.Now), env.Clock.Now), Log: env.Log}
	c := env.Client(tokenapi.New(d), tokenapi.Routes(d).Routes())
	verifier := config.Verifier(env.Store, config.Env{Now: env.Clock.Now})
	verify := func(t *testing.T, what, tok string, wantOK bool) {
		t.Helper()
		resp := c.Do(http.MethodPost, "/v1/token/verify/", map[string]string{"token": tok})
		_, err := verifier.Parse(context.Background(), tok, "")
		if (resp.Status == http.StatusOK) != wantOK || (err == nil) != wantOK {
			t.Errorf("%s: the token route answers %d, a verifying function %v; want valid %v", what, resp.Status, err, wantOK)
		}
	}
	before := mustLogin(t, c, "kim")
	first := kidOf(t, before.Refresh)

	// Add the next key: published, not yet signing.
	env.Clock.Advance(12 * time.Hour)
	keys.change(t, env, func(s token.KeySet) (token.KeySet, error) { return s.AddNext(newKey()) })
	if p := mustLogin(t, c, "kim"); kidOf(t, p.Access) != first {
		t.Error("a key signed as soon as it was added")
	}
	// Promote it once every cache has it; the old key is previous.
	env.Clock.Advance(token.DefaultCacheTTL)
	keys.change(t, env, func(s token.KeySet) (token.KeySet, error) { return s.Promote(env.Clock.Now(), token.DefaultCacheTTL) })
	env.Clock.Advance(token.DefaultCacheTTL) // the token function's own cache turns over
	after := mustLogin(t, c, "kim")
	if kidOf(t, after.Access) == first {
		t.Fatal("after the promotion, tokens are still signed with the old key")
	}
	verify(t, "a refresh token from before the rotation", before.Refresh, true)
	verify(t, "an access token from after it", after.Access, true)
	if resp := c.Do(http.MethodPost, "/v1/token/refresh/", map[string]string{"refresh": before.Refresh}); resp.Status != http.StatusOK {
		t.Errorf("refresh with a token from before the rotation: %d %s", resp.Status, resp.Body)
	}

	// Retire the old key after the longest refresh lifetime: the tokens it
	// signed have expired; even one made to outlive that is refused.
	outlives, _, err := token.NewIssuer(token.StaticKeys(token.KeySet{Keys: []token.Key{{ID: first, State: token.KeyCurrent,
		Public: keys.set.Keys[0].Public, Private: keys.set.Keys[0].Private}}}), env.Clock.Now).Mint(context.Background(), token.Access, "kim", "", 30*day)
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(day)
	keys.change(t, env, func(s token.KeySet) (token.KeySet, error) {
		out, retired := s.Retire(env.Clock.Now(), day)
		if len(retired) != 1 || retired[0] != first {
			t.Errorf("retired %v, want the first key", retired)
		}
		return out, nil
	})
	env.Clock.Advance(token.DefaultCacheTTL)
	verify(t, "a live token of the retired key", outlives, false)
	now := mustLogin(t, c, "kim")
	verify(t, "a token of the current key", now.Access, true)
	if !strings.Contains(string(must(keys.set.JWKS())), kidOf(t, now.Access)) || kidOf(t, now.Access) != kidOf(t, after.Access) {
		t.Error("the current key is not the one promoted, or not published")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// BenchmarkFirstLoginOfAnInstance is a cold instance's first login (its
// own Setup, the private keys read from Secrets Manager as in Lambda),
// with the secret's answer delayed as AWS's typically is (secret=20ms) or
// not at all: the login reads the secret while the password is hashed,
// so the delay should cost little or nothing.
func BenchmarkFirstLoginOfAnInstance(b *testing.B) {
	sm, err := secretsemu.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer sm.Close()
	env := apitest.New(b)
	mustUser(b, env, "cold")
	doc, err := apitest.SigningKeys.MarshalPrivate()
	if err != nil {
		b.Fatal(err)
	}
	arn := sm.Put("keys", string(doc))
	for _, latency := range []time.Duration{0, 20 * time.Millisecond} {
		b.Run(fmt.Sprintf("secret=%v", latency), func(b *testing.B) {
			sm.Latency = latency
			fe := env.FunctionEnv(nil, map[string]string{secretkeys.EnvSecret: arn, secretkeys.EnvEndpoint: sm.URL})
			fe.SigningKeys = nil // as in Lambda: the secret
			for b.Loop() {
				env.Clock.Advance(store.CheckWindow) // never at the account's cap
				h, err := tokenapi.Setup(context.Background(), fe)
				if err != nil {
					b.Fatal(err)
				}
				c := env.Client(h, tokenapi.Routes(tokenapi.Deps{}).Routes())
				if resp := c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": "cold", "password": pw}); resp.Status != http.StatusOK {
					b.Fatalf("login: %d %s", resp.Status, resp.Body)
				}
			}
		})
	}
}
