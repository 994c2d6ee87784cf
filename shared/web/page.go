package web

import (
	"net/http"
	"net/url"
	"strconv"
)

// Page limits, after DRF's LimitOffsetPagination with the contract's bounds.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Page is the contract's page body.
type Page[T any] struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []T     `json:"results"`
}

// PageParams reads limit and offset. A value that is not a positive whole
// number falls back to the default (20, and 0 for offset); a limit over 100
// is cut to 100.
func PageParams(r *http.Request) (limit, offset int) {
	q := r.URL.Query()
	limit = DefaultLimit
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		limit = min(n, MaxLimit)
	}
	if n, err := strconv.Atoi(q.Get("offset")); err == nil && n > 0 {
		offset = n
	}
	return limit, offset
}

// Paginate slices all (every item, in order) into the page the request asks
// for, with absolute next and previous links built from the request's host.
func Paginate[T any](r *http.Request, all []T) Page[T] {
	limit, offset := PageParams(r)
	count := len(all)
	var results []T
	if offset < count {
		results = all[offset:min(offset+limit, count)]
	}
	return PageOf(r, results, count)
}

// PageOf is the page the request asks for, given its results (read for
// the request's limit and offset) and the length of the whole list: the
// same body as Paginate's, for a list read one page at a time.
func PageOf[T any](r *http.Request, results []T, count int) Page[T] {
	limit, offset := PageParams(r)
	if results == nil {
		results = []T{}
	}
	page := Page[T]{Count: count, Results: results}
	base := AbsoluteURL(r)
	if offset+limit < count {
		page.Next = pageLink(base, limit, offset+limit)
	}
	if offset > 0 {
		page.Previous = pageLink(base, limit, max(offset-limit, 0))
	}
	return page
}

func pageLink(base *url.URL, limit, offset int) *string {
	u := *base
	q := u.Query()
	q.Set("limit", strconv.Itoa(limit))
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	} else {
		q.Del("offset")
	}
	u.RawQuery = q.Encode()
	s := u.String()
	return &s
}

// AbsoluteURL rebuilds the URL the client asked for. API Gateway (and the
// local server) say the original scheme in X-Forwarded-Proto; the host is
// the request's Host.
func AbsoluteURL(r *http.Request) *url.URL {
	scheme := r.Header.Get("X-Forwarded-Proto")
	if scheme != "http" && scheme != "https" {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	u := requestURL(r)
	return &url.URL{Scheme: scheme, Host: host, Path: u.Path, RawQuery: u.RawQuery}
}
