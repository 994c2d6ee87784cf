// Package refcache keeps this Lambda instance's answers to public reads of
// reference data (terms, FAQ topics, apps profiles, PUF design pages), so
// that a warm instance answers them with no DynamoDB request, and a client
// holding an answer's ETag gets a 304 without one either.
//
// Reference data changes only when the fixture loader makes a new snapshot
// current. An entry lives for the TTL; the store trusts the snapshot
// pointer it read for the same TTL, so an answer is at most two TTLs older
// than the load that changed it: the staleness bound. Memory is bounded:
// at most MaxEntries answers of at most MaxEntryBytes each (larger answers
// are served but not kept), and the least recently used go first.
package refcache

import (
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// The bounds: MaxEntries × MaxEntryBytes is the most the answers hold
// (8 MiB), against a function's 128 MB. A page of 20 PUF designs is about
// 6 KB, of 100 about 30 KB.
const (
	MaxEntries    = 128
	MaxEntryBytes = 64 << 10
	// DefaultTTL is how long an answer is kept, and the max-age public
	// answers declare.
	DefaultTTL = time.Minute
)

// Entry is a kept answer: its JSON body and its strong ETag.
type Entry struct {
	Body []byte
	ETag string
}

// Cache is one instance's answers, safe for concurrent use.
type Cache struct {
	ttl time.Duration
	// lru is made on first use, not at Lambda init: the expirable LRU
	// allocates its expiry buckets and starts its sweeping goroutine.
	lru func() *expirable.LRU[string, Entry]
}

// New returns a cache keeping answers for ttl (DefaultTTL if 0 or less).
// The expirable LRU checks expiry on every read, so no entry outlives ttl.
func New(ttl time.Duration) *Cache {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Cache{ttl: ttl, lru: sync.OnceValue(func() *expirable.LRU[string, Entry] {
		return expirable.NewLRU[string, Entry](MaxEntries, nil, ttl)
	})}
}

// TTL is how long answers are kept. A nil Cache keeps nothing, and its
// TTL is the default.
func (c *Cache) TTL() time.Duration {
	if c == nil {
		return DefaultTTL
	}
	return c.ttl
}

// Get returns the answer kept under key.
func (c *Cache) Get(key string) (Entry, bool) {
	if c == nil {
		return Entry{}, false
	}
	return c.lru().Get(key)
}

// Put keeps body under key and returns its entry; a body over
// MaxEntryBytes is not kept.
func (c *Cache) Put(key string, body []byte) Entry {
	e := Entry{Body: body, ETag: ETag(body)}
	if c != nil && len(body) <= MaxEntryBytes {
		c.lru().Add(key, e)
	}
	return e
}

// Len is the number of answers kept.
func (c *Cache) Len() int { return c.lru().Len() }

// Bytes is the size of the bodies kept.
func (c *Cache) Bytes() int {
	n := 0
	for _, e := range c.lru().Values() {
		n += len(e.Body)
	}
	return n
}

// ETag is the strong validator of body: a hash of its bytes, so two
// instances give the same answer the same ETag.
func ETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}
