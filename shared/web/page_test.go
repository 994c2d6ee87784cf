package web_test

import (
	"math"
	"net/http/httptest"
	"testing"

	"github.com/pufinid/pufinid-api/shared/web"
)

// Page parameters and links as Django REST Framework's
// LimitOffsetPagination gives them, for a list of 150 items: its numbers
// are Python's int(), unbounded, so a huge offset is past the end (next
// null) rather than wrapping around to the first page, and a huge limit
// is 100.
func TestPageParamsAndLinks(t *testing.T) {
	t.Parallel()
	const base = "https://api.example.com/v1/faq/topics/"
	str := func(s string) *string { return &s }
	tests := []struct {
		query          string
		limit, offset  int
		next, previous *string
	}{
		{"", 20, 0, str(base + "?limit=20&offset=20"), nil},
		{"limit=10&offset=30", 10, 30, str(base + "?limit=10&offset=40"), str(base + "?limit=10&offset=20")},
		{"limit=10&offset=5", 10, 5, str(base + "?limit=10&offset=15"), str(base + "?limit=10")},
		{"offset=140", 20, 140, nil, str(base + "?limit=20&offset=120")},
		{"offset=130", 20, 130, nil, str(base + "?limit=20&offset=110")},
		{"offset=129", 20, 129, str(base + "?limit=20&offset=149"), str(base + "?limit=20&offset=109")},
		// Past the end, however far: next null, previous offset-limit.
		{"offset=9223372036854775807", 20, math.MaxInt, nil, str(base + "?limit=20&offset=9223372036854775787")},
		{"offset=9223372036854775800&limit=10", 10, 9223372036854775800, nil, str(base + "?limit=10&offset=9223372036854775790")},
		{"offset=99999999999999999999&limit=5", 5, math.MaxInt, nil, str(base + "?limit=5&offset=99999999999999999994")},
		// A larger limit, however large, is 100.
		{"limit=1000", 100, 0, str(base + "?limit=100&offset=100"), nil},
		{"limit=9223372036854775808", 100, 0, str(base + "?limit=100&offset=100"), nil},
		{"limit=99999999999999999999", 100, 0, str(base + "?limit=100&offset=100"), nil},
		// Python's int(): white space, a sign, underscores, any script's digits.
		{"limit=%2B5", 5, 0, str(base + "?limit=5&offset=5"), nil},
		{"limit=+5", 5, 0, str(base + "?limit=5&offset=5"), nil}, // '+' is a space in a query
		{"limit=%205%20&offset=0_10", 5, 10, str(base + "?limit=5&offset=15"), str(base + "?limit=5&offset=5")},
		{"limit=%D9%A2", 2, 0, str(base + "?limit=2&offset=2"), nil}, // Arabic-Indic two
		{"limit=007", 7, 0, str(base + "?limit=7&offset=7"), nil},
		// Not whole numbers above 0 (limit) or of 0 and more (offset): the defaults.
		{"limit=0&offset=-5", 20, 0, str(base + "?limit=20&offset=20"), nil},
		{"limit=-0", 20, 0, str(base + "?limit=20&offset=20"), nil},
		{"limit=2.5&offset=ten", 20, 0, str(base + "?limit=20&offset=20"), nil},
		{"limit=_5&offset=5_", 20, 0, str(base + "?limit=20&offset=20"), nil},
		{"limit=1__0&offset=%2B%205", 20, 0, str(base + "?limit=20&offset=20"), nil},
		{"limit=&offset=", 20, 0, str(base + "?limit=20&offset=20"), nil},
		// Of a parameter given twice the last counts, as in Django's QueryDict.
		{"limit=1&limit=2", 2, 0, str(base + "?limit=2&offset=2"), nil},
		{"offset=3&offset=x", 20, 0, str(base + "?limit=20&offset=20"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", base+"?"+tt.query, nil)
			r.Host = "api.example.com"
			if limit, offset := web.PageParams(r); limit != tt.limit || offset != tt.offset {
				t.Errorf("PageParams: limit %d, offset %d; want %d, %d", limit, offset, tt.limit, tt.offset)
			}
			page := web.PageOf(r, []int{}, 150)
			if !same(page.Next, tt.next) || !same(page.Previous, tt.previous) {
				t.Errorf("next %s, previous %s; want %s, %s", show(page.Next), show(page.Previous), show(tt.next), show(tt.previous))
			}
		})
	}
}

func same(a, b *string) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

func show(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}
