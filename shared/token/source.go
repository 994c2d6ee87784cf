package token

import (
	"context"
	"sync"
	"time"
)

// KeySource gives the key set an Issuer signs and verifies with. A source
// that cannot be read answers an *apierror.Error of code Unavailable, so
// the request gets the contract's 503.
type KeySource interface {
	KeySet(ctx context.Context) (KeySet, error)
}

// StaticKeys is a fixed key set: the local server's ephemeral keys, tests.
type StaticKeys KeySet

// KeySet is the set.
func (s StaticKeys) KeySet(context.Context) (KeySet, error) { return KeySet(s), nil }

// DefaultCacheTTL is how long an instance keeps the key set it read: the
// longest a new key waits between being added and signing (Promote's
// minPublished), so every verifier has it before the first token it signs.
const DefaultCacheTTL = 5 * time.Minute

// Cached reads src on first use and again once ttl has passed (per
// instance, on the clock now); callers at once share one read. A failed
// read is not kept: the next call tries again.
func Cached(src KeySource, ttl time.Duration, now func() time.Time) KeySource {
	if now == nil {
		now = time.Now
	}
	return &cached{src: src, ttl: ttl, now: now}
}

type cached struct {
	src  KeySource
	ttl  time.Duration
	now  func() time.Time
	mu   sync.Mutex
	set  KeySet
	read time.Time
	ok   bool
}

func (c *cached) KeySet(ctx context.Context) (KeySet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ok && c.now().Sub(c.read) < c.ttl {
		return c.set, nil
	}
	set, err := c.src.KeySet(ctx)
	if err != nil {
		return KeySet{}, err
	}
	c.set, c.read, c.ok = set, c.now(), true
	return set, nil
}
