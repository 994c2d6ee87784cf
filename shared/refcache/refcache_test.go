package refcache

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

func TestKeepsWithinItsBounds(t *testing.T) {
	t.Parallel()
	c := New(time.Minute)
	if e := c.Put("big", bytes.Repeat([]byte("x"), MaxEntryBytes+1)); e.ETag == "" {
		t.Error("an answer too big to keep still needs its ETag")
	}
	if _, ok := c.Get("big"); ok {
		t.Error("an answer over MaxEntryBytes was kept")
	}
	for i := range MaxEntries + 10 {
		c.Put(fmt.Sprint(i), []byte(fmt.Sprint(i)))
	}
	if c.Len() != MaxEntries {
		t.Errorf("%d answers kept, want at most %d", c.Len(), MaxEntries)
	}
	if _, ok := c.Get("0"); ok {
		t.Error("the least recently used answer was not the one to go")
	}
	if e, ok := c.Get(fmt.Sprint(MaxEntries + 9)); !ok || string(e.Body) != fmt.Sprint(MaxEntries+9) || e.ETag != ETag(e.Body) {
		t.Errorf("the newest answer: %+v, %v", e, ok)
	}
}

func TestAnswersExpireAfterTheTTL(t *testing.T) {
	t.Parallel()
	c := New(50 * time.Millisecond)
	c.Put("k", []byte("v"))
	if _, ok := c.Get("k"); !ok {
		t.Fatal("not kept")
	}
	time.Sleep(120 * time.Millisecond)
	if _, ok := c.Get("k"); ok {
		t.Error("kept past its TTL")
	}
}

func TestANilCacheKeepsNothing(t *testing.T) {
	t.Parallel()
	var c *Cache
	if e := c.Put("k", []byte("v")); e.ETag != ETag([]byte("v")) {
		t.Error("no ETag")
	}
	if _, ok := c.Get("k"); ok || c.TTL() != DefaultTTL {
		t.Error("a nil cache kept an answer, or has no TTL")
	}
}

func TestETagIsStrongAndFollowsTheBody(t *testing.T) {
	t.Parallel()
	a, b := ETag([]byte(`{"a":1}`)), ETag([]byte(`{"a":2}`))
	if a == b || a != ETag([]byte(`{"a":1}`)) || a[0] != '"' || a[len(a)-1] != '"' {
		t.Errorf("ETags %s, %s", a, b)
	}
}
