package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/pufinid/pufinid-api/shared/refcache"
)

// Cacheability of an answer of reference data.
const (
	// Public answers are the same for every caller: Cache-Control public,
	// with the cache's TTL as max-age, an ETag, and 304 for If-None-Match.
	Public = true
	// Private answers depend on the caller (their organization, a token):
	// they stay no-store, and the instance keeps them under the scope the
	// caller gives, never the URL alone.
	Private = false
)

// Cached answers a read of reference data from c, the instance's cache,
// kept under scope (the caller's organization for a private answer; "" for
// a public one) and the URL asked for (host and scheme included: the page
// links are absolute). Only on a miss does read run: a warm instance
// answers with no DynamoDB request. An If-None-Match naming the answer's
// ETag gets a 304 with no body.
func Cached(w http.ResponseWriter, r *http.Request, c *refcache.Cache, public bool, scope string, read func() (any, error)) {
	e, err := CachedAnswer(r, c, scope, read)
	if err != nil {
		Error(w, r, err)
		return
	}
	WriteCached(w, r, c, public, e)
}

// CachedAnswer is Cached's answer without writing it: for a handler that
// must check something else before it answers (PUF designs read their
// page while the caller's profile is read).
func CachedAnswer(r *http.Request, c *refcache.Cache, scope string, read func() (any, error)) (refcache.Entry, error) {
	key := scope + "\x00" + AbsoluteURL(r).String()
	if e, ok := c.Get(key); ok {
		return e, nil
	}
	v, err := read()
	if err != nil {
		return refcache.Entry{}, err
	}
	body, err := encode(v)
	if err != nil {
		return refcache.Entry{}, fmt.Errorf("encode response: %w", err)
	}
	return c.Put(key, body), nil
}

// WriteCached writes e, an answer of CachedAnswer, as Cached does.
func WriteCached(w http.ResponseWriter, r *http.Request, c *refcache.Cache, public bool, e refcache.Entry) {
	if public {
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(c.TTL().Seconds())))
		AddVary(w.Header(), "Origin")
		w.Header().Set("ETag", e.ETag)
		// All the header's values: the Lambda adapter splits a header at
		// its commas.
		if etagMatches(strings.Join(r.Header.Values("If-None-Match"), ","), e.ETag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(e.Body)
}

// PublicDocument answers body, of contentType, as a public answer every
// caller may cache for maxAge: Cache-Control public, a strong ETag, and
// 304 with no body for an If-None-Match naming it.
func PublicDocument(w http.ResponseWriter, r *http.Request, contentType string, body []byte, maxAge int) {
	etag := refcache.ETag(body)
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(maxAge))
	AddVary(w.Header(), "Origin")
	w.Header().Set("ETag", etag)
	if etagMatches(strings.Join(r.Header.Values("If-None-Match"), ","), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// AddVary adds names to h's Vary header, once each, in one line (the Lambda
// adapter would otherwise send a second Vary as a comma-joined value
// anyway). A public answer varies by Origin: in front of it the HTTP API's
// CORS adds Access-Control-Allow-Origin for the Origin sent, so a cache
// that kept one origin's answer would give it to another without Vary
// saying so. A route whose answer differs for a signed-in caller adds
// Authorization, so that no cache answers a signed-in request with the
// anonymous answer it keeps.
func AddVary(h http.Header, names ...string) {
	have := strings.Split(strings.Join(h.Values("Vary"), ","), ",")
	for i := range have {
		have[i] = strings.TrimSpace(have[i])
	}
	have = slices.DeleteFunc(have, func(s string) bool { return s == "" })
	for _, n := range names {
		if !slices.ContainsFunc(have, func(s string) bool { return strings.EqualFold(s, n) || s == "*" }) {
			have = append(have, n)
		}
	}
	if len(have) > 0 {
		h.Set("Vary", strings.Join(have, ", "))
	}
}

// etagMatches reports whether an If-None-Match header names etag (RFC 9110
// 13.1.2: a list of entity tags, or *; the weak comparison, so W/"x"
// matches "x").
func etagMatches(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
