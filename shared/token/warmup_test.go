package token

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// countingSource counts the reads of its set.
type countingSource struct {
	set   KeySet
	reads atomic.Int32
}

func (c *countingSource) KeySet(context.Context) (KeySet, error) {
	c.reads.Add(1)
	return c.set, nil
}

func TestWarmUpReadsTheVerifyingKeySetOnce(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	set, err := FirstKeySet(nil, now)
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	signer := NewIssuer(StaticKeys(set), clock)
	src := &countingSource{set: set.Public()}
	verifier := NewIssuer(Cached(src, DefaultCacheTTL, clock), clock)
	tok, _, err := signer.Mint(context.Background(), Access, "u1", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	verifier.WarmUp(context.Background())
	if n := src.reads.Load(); n != 1 {
		t.Fatalf("the warm-up read the key set %d times, want 1", n)
	}
	if _, err := verifier.Parse(context.Background(), tok, Access); err != nil {
		t.Fatal(err)
	}
	if n := src.reads.Load(); n != 1 {
		t.Errorf("the request after the warm-up read the key set again (%d reads)", n)
	}
}

// The warm-up's verification must take verification's whole path (a
// signature that failed early would build no table): RFC 8032's vector
// verifies.
func TestWarmEd25519VerifiesItsVector(t *testing.T) {
	t.Parallel()
	if !warmEd25519() {
		t.Fatal("RFC 8032 test 1 does not verify: the warm-up builds nothing")
	}
}
