package soak

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// opTermsList lists the terms: anonymously (every current term), with a
// token (the current terms the user has not accepted), or with include_all
// (every current term, with accepted_at).
func opTermsList(c *client) bool {
	var (
		u *user
		t *accessToken
	)
	if c.chance(0.6) {
		if u = c.someUser(nil); u != nil {
			if t = c.liveToken(u); t == nil {
				return false
			}
		}
	}
	defer c.begin("terms_list")()
	all := c.chance(0.5)
	path, bearer := "/v1/terms/", ""
	if all {
		path += "?include_all=" + c.pick([]string{"true", "True", "1"})
	}
	if u != nil {
		c.touch(u)
		bearer = t.s
	}
	a := c.call(http.MethodGet, path, nil, bearer)
	if a.down || u != nil && !c.authed(a, u, t) || !c.wantStatus(a, http.StatusOK) {
		return true
	}
	list, ok := a.val.([]any)
	if !ok {
		c.fail("%s; want a plain array of terms", a)
		return true
	}
	current, certain := c.d.ref.current(a.at)
	if !certain {
		return true
	}
	want := slices.Sorted(maps.Keys(current))
	if u != nil && !all {
		want = u.notAccepted(current)
	}
	var got []string
	for _, item := range list {
		m, _ := item.(map[string]any)
		slug, _ := m["slug"].(string)
		got = append(got, slug)
		term, ok := current[slug]
		if !ok {
			continue // named by the set comparison below
		}
		if p := termProblem(m, term); p != "" {
			c.fail("%s: %s", a, p)
			return true
		}
		if all {
			var acc *acceptance
			if u != nil {
				if x, ok := u.accepted[slug]; ok && x.version >= term.VersionNumber {
					acc = &x
				}
			}
			if p := acceptedAtProblem(m["accepted_at"], acc); p != "" {
				c.fail("%s: term %s: %s", a, slug, p)
				return true
			}
		}
	}
	if !sameSet(got, want) || len(got) != len(want) {
		c.fail("%s: terms %v, want %v (in any order)", a, got, want)
	}
	return true
}

// acceptedAtProblem checks accepted_at: null when not accepted, else a time
// within the acceptances of the version (the first or the last: which one
// a repeated acceptance keeps the contract does not say).
func acceptedAtProblem(v any, acc *acceptance) string {
	if acc == nil {
		if v != nil {
			return fmt.Sprintf("accepted_at is %s, want null (not accepted)", show(v))
		}
		return ""
	}
	s, _ := v.(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Sprintf("accepted_at is %s, want the time it was accepted", show(v))
	}
	// JSON times may be rounded to the second or to the microsecond.
	if at.Before(acc.first.lo.Add(-time.Second)) || at.After(acc.last.hi.Add(time.Second)) {
		return fmt.Sprintf("accepted_at is %s, want between %s and %s", s, acc.first.lo.Format(time.RFC3339), acc.last.hi.Format(time.RFC3339))
	}
	return ""
}

// someSlug is a slug with its current version (ok), or one with none: not
// current yet, or unknown.
func (c *client) someSlug() (slug string) {
	slugs := c.d.ref.slugs()
	if len(slugs) > 0 && c.chance(0.85) {
		return c.pick(slugs)
	}
	return "no-such-term-" + c.randString(4)
}

func opTermsGet(c *client) bool {
	defer c.begin("terms_get")()
	slug := c.someSlug()
	a := c.call(http.MethodGet, "/v1/terms/"+slug+"/", nil, "")
	if a.down {
		return true
	}
	current, certain := c.d.ref.current(a.at)
	term, ok := current[slug]
	switch {
	case !certain:
	case !ok:
		c.wantNotFound(a)
	case c.wantStatus(a, http.StatusOK):
		if p := termProblem(a.obj, term); p != "" {
			c.fail("%s: %s", a, p)
		}
	}
	return true
}

func opTermsAccept(c *client) bool {
	u, t := c.signedIn(nil)
	if t == nil {
		return false
	}
	defer c.begin("terms_accept")()
	c.touch(u)
	slug := c.someSlug()
	var body any
	if c.chance(0.3) {
		body = map[string]any{}
	}
	a := c.call(http.MethodPost, "/v1/terms/"+slug+"/accept/", body, t.s)
	if a.down {
		c.lost(u)
		return true
	}
	if !c.authed(a, u, t) {
		return true
	}
	current, certain := c.d.ref.current(a.at)
	term, ok := current[slug]
	switch {
	case !certain:
		c.lost(u)
	case !ok:
		c.wantNotFound(a)
	case c.wantStatus(a, http.StatusOK):
		acc, had := u.accepted[slug]
		if !had || acc.version != term.VersionNumber {
			acc = acceptance{version: term.VersionNumber, first: a.at}
		}
		acc.last = a.at
		u.accepted[slug] = acc
		if p := termProblem(a.obj, term); p != "" {
			c.fail("%s: %s", a, p)
		} else if p := acceptedAtProblem(a.obj["accepted_at"], &acceptance{first: a.at, last: a.at}); p != "" {
			c.fail("%s: %s", a, p)
		}
	}
	return true
}

// opNeedsToken: routes that need a token, without one or with a bad one.
func opNeedsToken(c *client) bool {
	defer c.begin("needs_token")()
	paths := []struct{ method, path string }{
		{http.MethodPost, "/v1/terms/" + c.someSlug() + "/accept/"},
		{http.MethodGet, "/v1/puf-designs/"},
		{http.MethodGet, "/v1/puf-designs/" + c.randomUUID() + "/"},
	}
	p := paths[c.rng.IntN(len(paths))]
	bearer := ""
	switch c.rng.IntN(3) {
	case 0:
		bearer = "not-a-token"
	case 1: // a refresh token is not an access token
		if u, rt := c.someRefresh(false); u != nil {
			bearer = rt.s
		}
	}
	if a := c.call(p.method, p.path, nil, bearer); !a.down {
		c.wantForbidden(a)
	}
	return true
}

// pageQueries are limit/offset queries and what the contract reads them as:
// default limit 20, at most 100; anything not a positive whole number
// falls back to the default.
var pageQueries = []struct {
	q             string
	limit, offset int
}{
	{"", 20, 0}, {"?limit=2", 2, 0}, {"?limit=2&offset=2", 2, 2}, {"?offset=1", 20, 1}, {"?limit=1&offset=1", 1, 1},
	{"?limit=0", 20, 0}, {"?limit=-3", 20, 0}, {"?limit=abc", 20, 0}, {"?limit=1000", 100, 0},
	{"?limit=1&offset=1000", 1, 1000}, {"?offset=-1", 20, 0}, {"?limit=3&offset=x", 3, 0},
}

// pageProblem checks a page answer against want, the whole list in the
// contract's order; ordered is false when the contract sets no order, so
// only a page holding everything can be compared item by item.
func pageProblem(a *answer, want []any, limit, offset int, ordered bool) string {
	count, _ := a.obj["count"].(float64)
	results, ok := a.obj["results"].([]any)
	if !ok || int(count) != len(want) {
		return fmt.Sprintf("count %v and results %v, want count %d", a.obj["count"], a.obj["results"], len(want))
	}
	end := min(offset+limit, len(want))
	var page []any
	if offset < len(want) {
		page = want[offset:end]
	}
	switch {
	case len(results) != len(page):
		return fmt.Sprintf("%d results, want %d", len(results), len(page))
	case ordered && !jsonEqual(results, append([]any{}, page...)):
		return "results differ from the reference data, in its order"
	case !ordered:
		for _, r := range results {
			if !slices.ContainsFunc(want, func(w any) bool { return jsonEqual(r, w) }) {
				return fmt.Sprintf("result %v is not in the reference data", r)
			}
		}
		if offset == 0 && limit >= len(want) && !sameElements(results, want) {
			return "results are not the reference data"
		}
	}
	if p := linkProblem("next", a.obj["next"], offset+limit < len(want), limit, offset+limit); p != "" {
		return p
	}
	return linkProblem("previous", a.obj["previous"], offset > 0, limit, max(offset-limit, 0))
}

// linkProblem checks a next or previous link: present when it should be,
// an absolute URL with the page's limit and offset (DRF leaves offset out
// of a link to the first page).
func linkProblem(name string, v any, present bool, limit, offset int) string {
	if !present {
		if v != nil {
			return fmt.Sprintf("%s is %s, want null", name, show(v))
		}
		return ""
	}
	s, _ := v.(string)
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() {
		return fmt.Sprintf("%s is %s, want an absolute URL", name, show(v))
	}
	q := u.Query()
	gotOffset := q.Get("offset")
	if q.Get("limit") != strconv.Itoa(limit) || gotOffset != strconv.Itoa(offset) && !(offset == 0 && gotOffset == "") {
		return fmt.Sprintf("%s is %s, want limit=%d and offset=%d", name, s, limit, offset)
	}
	return ""
}

func sameElements(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y any) bool { return jsonEqual(x, y) }) {
			return false
		}
	}
	return true
}

func opFAQList(c *client) bool {
	defer c.begin("faq_list")()
	pq := pageQueries[c.rng.IntN(len(pageQueries))]
	a := c.call(http.MethodGet, "/v1/faq/topics/"+pq.q, nil, "")
	if !a.down && c.wantStatus(a, http.StatusOK) {
		if p := pageProblem(a, c.d.ref.topics, pq.limit, pq.offset, true); p != "" {
			c.fail("%s: %s", a, p)
		}
	}
	return true
}

func opFAQTopic(c *client) bool {
	defer c.begin("faq_topic")()
	ids := slices.Sorted(maps.Keys(c.d.ref.topicID))
	id := "999999"
	if len(ids) > 0 && c.chance(0.8) {
		id = strconv.Itoa(ids[c.rng.IntN(len(ids))])
	} else if c.chance(0.5) {
		id = "abc"
	}
	a := c.call(http.MethodGet, "/v1/faq/topics/"+id+"/", nil, "")
	if a.down {
		return true
	}
	n, _ := strconv.Atoi(id)
	want, ok := c.d.ref.topicID[n]
	switch {
	case !ok || id != strconv.Itoa(n):
		c.wantNotFound(a)
	case c.wantStatus(a, http.StatusOK) && !jsonEqual(a.val, want):
		c.fail("%s; want %v", a, want)
	}
	return true
}

func opPufDesigns(c *client) bool {
	u, t := c.liveOrGhost()
	if u == nil {
		return false
	}
	defer c.begin("puf_designs_list")()
	c.touch(u)
	pq := pageQueries[c.rng.IntN(len(pageQueries))]
	a := c.call(http.MethodGet, "/v1/puf-designs/"+pq.q, nil, t.s)
	if c.authed(a, u, t) && c.wantStatus(a, http.StatusOK) {
		// Only the designs of the caller's organization; the contract sets
		// no order.
		if p := pageProblem(a, c.d.ref.designs[u.org.id], pq.limit, pq.offset, false); p != "" {
			c.fail("%s: %s", a, p)
		}
	}
	return true
}

func opPufDesign(c *client) bool {
	u, t := c.liveOrGhost()
	if u == nil {
		return false
	}
	defer c.begin("puf_design_get")()
	c.touch(u)
	ids := slices.Sorted(maps.Keys(c.d.ref.design))
	id := c.randomUUID()
	switch n := c.rng.IntN(10); {
	case n < 8 && len(ids) > 0:
		id = c.pick(ids) // the caller's organization's, or another's
	case n == 8:
		id = "not-a-uuid"
	}
	a := c.call(http.MethodGet, "/v1/puf-designs/"+id+"/", nil, t.s)
	if !c.authed(a, u, t) {
		return true
	}
	d, ok := c.d.ref.design[id]
	switch {
	case !ok || d.org != u.org.id:
		c.wantNotFound(a)
	case c.wantStatus(a, http.StatusOK) && !jsonEqual(a.val, d.json):
		c.fail("%s; want %v", a, d.json)
	}
	return true
}

func opAppsProfile(c *client) bool {
	defer c.begin("apps_profile")()
	apps := c.d.ref.apps
	q := url.Values{}
	client, group, code := "", "", ""
	if len(apps) > 0 && c.chance(0.9) {
		p := apps[c.rng.IntN(len(apps))]
		client = p.ClientID
		if gs := slices.Sorted(maps.Keys(p.Groups)); c.chance(0.5) {
			group = "no-such-group"
			if len(gs) > 0 && c.chance(0.8) {
				group = c.pick(gs)
			}
		}
		if cs := slices.Sorted(maps.Keys(p.Codes)); c.chance(0.5) {
			code = "NO-SUCH-CODE"
			if len(cs) > 0 && c.chance(0.8) {
				code = c.pick(cs)
			}
		}
	} else if c.chance(0.5) {
		client = "no-such-client-" + c.randString(4)
	}
	for k, v := range map[string]string{"o": client, "g": group, "id": code} {
		if v != "" {
			q.Set(k, v)
		}
	}
	path := "/v1/apps-profile/"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	a := c.call(http.MethodGet, path, nil, "")
	if a.down {
		return true
	}
	if client == "" {
		if l, _ := stringList(a.obj["o"]); a.status != http.StatusBadRequest || !slices.Equal(l, []string{msgRequired}) {
			c.fail("%s; want 400 {\"o\": [%q]}", a, msgRequired)
		}
		return true
	}
	want, ok := c.d.ref.appProfile(client, group, code)
	switch {
	case !ok:
		c.wantNotFound(a)
	case c.wantStatus(a, http.StatusOK) && !jsonEqual(a.val, want):
		c.fail("%s; want %v (the client's profile, overlaid by the group's, then the code's)", a, want)
	}
	return true
}

// opConventions: what every route does with wrong paths, methods and bodies.
func opConventions(c *client) bool {
	defer c.begin("conventions")()
	switch c.rng.IntN(4) {
	case 0:
		if a := c.call(http.MethodGet, "/v1/no-such-route/"+c.randString(4)+"/", nil, ""); !a.down {
			c.wantDetail(a, http.StatusNotFound, "Not found.")
		}
	case 1:
		if a := c.call(http.MethodDelete, "/v1/faq/topics/", nil, ""); !a.down {
			c.wantDetail(a, http.StatusMethodNotAllowed, `Method "DELETE" not allowed.`)
		}
	case 2:
		if a := c.callRaw(http.MethodPost, "/v1/token/", "application/json", []byte(`{"username": "ada`)); !a.down {
			if d, _ := a.obj["detail"].(string); a.status != http.StatusBadRequest || !strings.HasPrefix(d, "JSON parse error - ") {
				c.fail("%s; want 400 {\"detail\": \"JSON parse error - ...\"}", a)
			}
		}
	case 3:
		if a := c.callRaw(http.MethodPost, "/v1/users/resend-confirm-email/", "text/plain", []byte(`{"email": "ada@example.com"}`)); !a.down {
			c.wantDetail(a, http.StatusUnsupportedMediaType, "")
		}
	}
	return true
}
