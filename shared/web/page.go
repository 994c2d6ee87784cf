package web

import (
	"math"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
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

// PageParams reads limit and offset as DRF's LimitOffsetPagination does
// (its _positive_int): a value is read as Python's int() reads it, so
// " 5", "+5" and "1_0" are numbers and "5.0" is not; of a repeated
// parameter the last counts, as in Django's QueryDict. A limit that is not
// a whole number above 0 is the default, 20, and one over 100 is 100,
// however large; an offset that is not a whole number of 0 or more is 0,
// and one beyond what an int holds is read as the largest int (past the
// end of any list, as it is).
func PageParams(r *http.Request) (limit, offset int) {
	limit, off := pageParams(r)
	if !off.IsInt64() || off.Int64() > math.MaxInt {
		return limit, math.MaxInt
	}
	return limit, int(off.Int64())
}

// pageParams is PageParams with the offset exact: the page links carry
// it, however large, as DRF's do.
func pageParams(r *http.Request) (limit int, offset *big.Int) {
	limit = DefaultLimit
	if n, ok := pythonInt(QueryValue(r, "limit")); ok && n.Sign() > 0 {
		limit = MaxLimit
		if n.Cmp(big.NewInt(MaxLimit)) < 0 {
			limit = int(n.Int64())
		}
	}
	offset = new(big.Int)
	if n, ok := pythonInt(QueryValue(r, "offset")); ok && n.Sign() > 0 {
		offset = n
	}
	return limit, offset
}

// pythonInt parses s as Python's int(s) does: surrounding white space, a
// sign, then decimal digits (any script's, as Unicode's Nd), with single
// underscores between them.
func pythonInt(s string) (*big.Int, bool) {
	s = strings.TrimFunc(s, unicode.IsSpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var digits strings.Builder
	prev := '_' // no underscore first
	for _, c := range s {
		switch {
		case c == '_' && prev != '_':
		case unicode.IsDigit(c):
			digits.WriteByte(byte('0' + digitValue(c)))
		default:
			return nil, false
		}
		prev = c
	}
	if digits.Len() == 0 || prev == '_' {
		return nil, false
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	if ok && neg {
		n.Neg(n)
	}
	return n, ok
}

// digitValue is the value of a decimal digit c (unicode.IsDigit): Unicode
// encodes each script's digits 0 to 9 as one run of ten code points, and
// runs that touch are whole runs of ten, so the value is c's distance from
// the start of its block of digits, modulo 10.
func digitValue(c rune) int {
	start := c
	for unicode.IsDigit(start - 1) {
		start--
	}
	return int(c-start) % 10
}

// PageOf is the page the request asks for, given its results (read for
// the request's limit and offset) and the length of the whole list, with
// absolute next and previous links built from the request's host, as
// DRF's: next while offset+limit is short of the count, previous from any
// offset above 0, however far past the end.
func PageOf[T any](r *http.Request, results []T, count int) Page[T] {
	limit, offset := pageParams(r)
	if results == nil {
		results = []T{}
	}
	page := Page[T]{Count: count, Results: results}
	base := AbsoluteURL(r)
	lim := big.NewInt(int64(limit))
	if next := new(big.Int).Add(offset, lim); next.Cmp(big.NewInt(int64(count))) < 0 {
		page.Next = pageLink(base, limit, next)
	}
	if offset.Sign() > 0 {
		page.Previous = pageLink(base, limit, new(big.Int).Sub(offset, lim))
	}
	return page
}

// pageLink is base with limit and offset set; an offset of 0 or less is
// left out, as DRF leaves it.
func pageLink(base *url.URL, limit int, offset *big.Int) *string {
	u := *base
	q := u.Query()
	q.Set("limit", strconv.Itoa(limit))
	if offset.Sign() > 0 {
		q.Set("offset", offset.String())
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

// QueryValue is the query parameter name as Django's QueryDict reads it
// (request.query_params[name]): of a parameter given more than once, the
// last value; "" when it is absent.
func QueryValue(r *http.Request, name string) string {
	vs := r.URL.Query()[name]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}
