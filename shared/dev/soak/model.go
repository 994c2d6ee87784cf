package soak

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// user is the model of one account: what the contract says is true of it
// after everything its client did. Only the client that created it reads
// or changes it.
type user struct {
	id       string
	email    string // as stored: exactly as signed up with
	username *string
	first    string
	last     string
	profile  map[string]*string // the optional fields, nil for null
	org      *org
	password string
	old      []string // earlier passwords, wrong ones now
	// verified is is_verified when the model knows it; maybe when the
	// contract leaves it open (a password reset may or may not confirm the
	// address) until the next answer shows it.
	verified tri
	accepted map[string]acceptance // by slug
	access   []*accessToken
	refresh  []*refreshToken
	confirm  []*emailToken
	reset    []*emailToken
	// failures are the password checks that failed (or may have), checks
	// all of them (or all that may have happened), for the throttles.
	failures []span
	checks   []span
	deleted  bool
}

// profileFields are the optional fields of the user body, in PUT's order.
var profileFields = []string{"phone", "postcode", "country", "gender", "age"}

type acceptance struct {
	version     int
	first, last span // when it was accepted first and last
}

type accessToken struct {
	s   string
	exp span
}

type refreshToken struct {
	s          string
	exp        span
	revoked    bool
	accessLife time.Duration
}

// emailToken is a token from a confirmation or reset link.
type emailToken struct {
	secret, email string // the link's token and email
	exp           span
	dead          bool // used, or refused once: it never works again
	// doubtful: a newer token of the purpose was sent, or the password
	// changed since. The contract says a token is single use and expires;
	// it does not say whether a newer one, or a new password, ends it.
	doubtful bool
}

// maxTokens bounds each token list of a user: the oldest are forgotten.
const maxTokens = 6

func keepLast[T any](s []T) []T {
	if len(s) > maxTokens {
		return slices.Clone(s[len(s)-maxTokens:])
	}
	return s
}

// addr is the user's address in canonical form. The driver only makes ASCII
// addresses, whose canonical form (NFKC, then case folding) is lower case.
func (u *user) addr() string { return canonical(u.email) }

func canonical(email string) string { return strings.ToLower(email) }

// newestLiveAccess is the newest access token certainly live at now.
func (u *user) newestLiveAccess(now span) *accessToken {
	for i := len(u.access) - 1; i >= 0; i-- {
		if live(u.access[i].exp, now) == yes {
			return u.access[i]
		}
	}
	return nil
}

// refreshState tells whether t can refresh or verify at now.
func (u *user) refreshState(t *refreshToken, now span) tri {
	if t.revoked || u.deleted {
		return no
	}
	return live(t.exp, now)
}

// newestLiveRefresh is the newest refresh token certainly live at now.
func (u *user) newestLiveRefresh(now span) *refreshToken {
	for i := len(u.refresh) - 1; i >= 0; i-- {
		if u.refreshState(u.refresh[i], now) == yes {
			return u.refresh[i]
		}
	}
	return nil
}

func (u *user) revokeAll() {
	for _, t := range u.refresh {
		t.revoked = true
	}
}

// emailTokenState tells whether t works at now.
func (u *user) emailTokenState(t *emailToken, now span) tri {
	if u.deleted || t.dead {
		return no
	}
	switch l := live(t.exp, now); {
	case l == no:
		return no
	case l == maybe || t.doubtful:
		return maybe
	}
	return yes
}

// passwordChanged records a new password: every refresh token is revoked,
// and whether an unused reset link still works is the server's choice.
func (u *user) passwordChanged(pw string) {
	u.old = keepLast(append(u.old, u.password))
	u.password = pw
	u.revokeAll()
	for _, t := range u.reset {
		t.doubtful = true
	}
}

// throttleAllowed reports whether a 429 on a password check at now is what
// the contract allows: 5 failures for the account in the window, or 20
// checks. The model counts every attempt that may have been a failure (or
// a check), so it errs toward allowing; short of that, the exact answer is
// required.
func (u *user) throttleAllowed(now span) bool {
	return countWithin(u.failures, loginWindow, now) >= loginFailureLimit ||
		countWithin(u.checks, loginWindow, now) >= loginAccountChecks
}

// checksLeft is how many more password checks the driver lets itself make
// on u in the window: it stays under the account-wide cap, which the
// contract lets grow into a long backoff.
func (u *user) checksLeft(now span) int {
	return loginAccountChecks - 5 - countWithin(u.checks, loginWindow, now)
}

func (u *user) checked(at span, failed bool) {
	u.checks = append(prune(u.checks, loginWindow, at), at)
	u.failures = prune(u.failures, loginWindow, at)
	if failed {
		u.failures = append(u.failures, at)
	}
}

// notAccepted are the slugs of current terms u has not accepted in their
// current version.
func (u *user) notAccepted(current map[string]pufinid.Term) []string {
	var out []string
	for slug, t := range current {
		if a, ok := u.accepted[slug]; !ok || a.version < t.VersionNumber {
			out = append(out, slug)
		}
	}
	slices.Sort(out)
	return out
}

// bodyProblem says how got, a user body, differs from the model, or is "".
// is_verified, when the model does not know it, is learnt from got.
func (u *user) bodyProblem(got map[string]any, ref *reference, now span) string {
	want := map[string]any{
		"id": u.id, "first_name": u.first, "last_name": u.last, "username": strOrNil(u.username),
		"email": u.email, "organization_name": u.org.name, "theme": u.org.theme,
	}
	for _, f := range profileFields {
		want[f] = strOrNil(u.profile[f])
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if !jsonEqual(got[k], want[k]) {
			return fmt.Sprintf("%s is %s, want %s", k, show(got[k]), show(want[k]))
		}
	}
	v, ok := got["is_verified"].(bool)
	switch {
	case !ok:
		return fmt.Sprintf("is_verified is %s, want a boolean", show(got["is_verified"]))
	case u.verified == maybe:
		u.verified = no
		if v {
			u.verified = yes
		}
	case v != (u.verified == yes):
		return fmt.Sprintf("is_verified is %v, want %v", v, u.verified == yes)
	}
	current, certain := ref.current(now)
	gotSlugs, ok := stringList(got["terms_not_accepted"])
	if !ok {
		return fmt.Sprintf("terms_not_accepted is %s, want a list of slugs", show(got["terms_not_accepted"]))
	}
	if want := u.notAccepted(current); certain && !sameSet(gotSlugs, want) {
		return fmt.Sprintf("terms_not_accepted is %v, want %v (in any order)", gotSlugs, want)
	}
	return ""
}

func strOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// stringList reads a JSON list of strings.
func stringList(v any) ([]string, bool) {
	l, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := []string{}
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(a, b)
}

// show writes a JSON value for a failure message.
func show(v any) string {
	if v == nil {
		return "null"
	}
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v", v)
}
