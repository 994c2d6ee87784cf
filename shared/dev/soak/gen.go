package soak

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// What the driver fills forms with. Values are valid under the contract's
// rules (names 2..100, optional fields at most 20, ASCII addresses so that
// their canonical form is plain lower case) unless an operation breaks one
// on purpose.
var (
	firstNames = []string{"Ada", "Grace", "Alan", "Zoë", "Émile", "Katherine", "Linus", "Ñandú", "Margaret", "Kō"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Åström", "Johnson", "O'Brien", "van Rossum", "Hamilton", "Nguyễn"}
	optValues  = map[string][]string{
		"phone":    {"+33 6 12 34 56 78", "0612345678", "+1 555 0100"},
		"postcode": {"75011", "SW1A 1AA", "10115", "H0H 0H0"},
		"country":  {"FR", "DE", "United Kingdom", "Nederland", "日本"},
		"gender":   {"female", "male", "other", "nb"},
		"age":      {"18-25", "42", "65+"},
	}
	domains = []string{"example.com", "example.org", "example.net"}
)

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (c *client) pick(s []string) string { return s[c.rng.IntN(len(s))] }

func (c *client) chance(p float64) bool { return c.rng.Float64() < p }

func (c *client) randString(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[c.rng.IntN(len(alnum))]
	}
	return string(b)
}

// newEmail is an address nobody has used: this run's, this client's, and
// numbered. Some have capitals in their local part, which the server must
// keep as given while it compares addresses in canonical form.
func (c *client) newEmail() string {
	c.seq++
	local := fmt.Sprintf("soak.%s.c%d.n%d", c.d.nonce, c.id, c.seq)
	if c.chance(0.3) {
		local = "Soak." + local[len("soak."):]
	}
	return local + "@" + c.pick(domains)
}

// signupEmail is an address for a signup: mostly new, sometimes one the
// model knows has no account (a deleted user's, one a refused signup did
// not take).
func (c *client) signupEmail() string {
	for len(c.free) > 0 && c.chance(0.4) {
		i := c.rng.IntN(len(c.free))
		e := c.free[i]
		c.free = slices.Delete(c.free, i, i+1)
		if !c.tainted[canonical(e)] && !c.hasAccount(e) {
			return e
		}
	}
	return c.newEmail()
}

// hasAccount reports whether one of the client's live users has email's address.
func (c *client) hasAccount(email string) bool {
	return slices.ContainsFunc(c.users, func(u *user) bool { return u.addr() == canonical(email) })
}

func (c *client) newUsername() string {
	c.seq++
	name := fmt.Sprintf("soak_%s_c%d_n%d", c.d.nonce, c.id, c.seq)
	if c.chance(0.3) {
		name = "Soak" + name[len("soak"):]
	}
	return name
}

// newPassword passes every rule: long, not numeric, not common, and not like
// the user's names or address.
func (c *client) newPassword() string { return "Pw-" + c.randString(12) + "-7q" }

// caseVariant is s with its ASCII letters' case changed, so that it differs
// from s but has the same canonical form.
func caseVariant(s string) string {
	up := strings.ToUpper(s)
	if up != s {
		return up
	}
	return strings.ToLower(s)
}

// swapCase swaps every ASCII letter's case: another variant of s.
func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		if r > unicode.MaxASCII {
			return r
		}
		if unicode.IsUpper(r) {
			return unicode.ToLower(r)
		}
		return unicode.ToUpper(r)
	}, s)
}

// randomToken looks like an emailed token and is none.
func (c *client) randomToken() string { return c.randString(43) }

// randomUUID is a well-formed id nobody has (version 4 form).
func (c *client) randomUUID() string {
	const hex = "0123456789abcdef"
	b := []byte("xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx")
	for i, ch := range b {
		if ch == 'x' {
			b[i] = hex[c.rng.IntN(16)]
		}
	}
	return string(b)
}

// The clock moves the expiry operations make: each just past one of the
// contract's lifetimes or windows, or just short of one (so that what must
// still work, or still be refused, is seen at its edge). Short moves are
// the most frequent: a move ends every window shorter than it, and a
// throttle or an email gap is to last a few seconds of the run.
var advances = []struct {
	by     time.Duration
	weight int
}{
	{time.Second, 30},
	{mailGap / 2, 20},                  // inside the gap between two emails
	{mailGap - time.Second, 15},        // its last second
	{mailGap + time.Second, 40},        // past it
	{defaultAccess - time.Second, 10},  // the last second of a default access token
	{defaultAccess + time.Second, 25},  // past it
	{loginWindow - time.Second, 6},     // the last second of a login failure window
	{loginWindow + time.Second, 10},    // past it
	{resetLifetime + time.Second, 6},   // reset links
	{defaultRefresh + time.Second, 3},  // default refresh tokens, and the day's email budget (mailDay, as long)
	{confirmLifetime + time.Second, 2}, // confirmation links
}

func (c *client) pickAdvance() time.Duration {
	total := 0
	for _, a := range advances {
		total += a.weight
	}
	n := c.rng.IntN(total)
	for _, a := range advances {
		if n < a.weight {
			return a.by
		}
		n -= a.weight
	}
	panic("unreachable")
}
