package tokenapi_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/apitest"
)

// Timing tests: an attacker who times logins must not learn whether a
// login name has an account. They measure wall-clock latency, so they are
// built to survive a busy machine: the two kinds of request are
// interleaved in random order (noise hits both alike), a warm-up comes
// first, medians are compared (a descheduled request or a GC pause moves a
// median little), and a comparison outside the bound is measured again
// before failing, since a real difference is systematic and noise is not.
// They never run in parallel with other tests of the package.
const (
	timingWarmup   = 4    // pairs measured and thrown away
	timingPairs    = 50   // pairs per measurement: 50 samples of each kind (each costs an argon2id hash)
	timingAttempts = 3    // measurements before a difference counts as real
	timingBound    = 0.10 // |p50(unknown) - p50(existing)| ≤ 10% of p50(existing)
)

// latencies are the samples of one measurement.
type latencies struct{ existing, unknown []time.Duration }

func timingMedian(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func timingQuantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

// summary is how a measurement is logged.
func (l latencies) summary() string {
	return fmt.Sprintf("existing p50 %v (p25 %v, p75 %v); unknown p50 %v (p25 %v, p75 %v); n=%d each",
		timingMedian(l.existing), timingQuantile(l.existing, .25), timingQuantile(l.existing, .75),
		timingMedian(l.unknown), timingQuantile(l.unknown, .25), timingQuantile(l.unknown, .75), len(l.existing))
}

// skew is (p50(unknown) - p50(existing)) / p50(existing).
func (l latencies) skew() float64 {
	e, u := timingMedian(l.existing), timingMedian(l.unknown)
	return float64(u-e) / float64(e)
}

// measurePairs calls prep (untimed), then times existing(i) and unknown(i)
// in a random order, for each of pairs pairs.
func measurePairs(pairs int, prep func(i int), existing, unknown func(i int)) latencies {
	var l latencies
	timed := func(f func(int), i int) time.Duration {
		start := time.Now()
		f(i)
		return time.Since(start)
	}
	for i := range pairs {
		prep(i)
		if rand.IntN(2) == 0 {
			l.existing = append(l.existing, timed(existing, i))
			l.unknown = append(l.unknown, timed(unknown, i))
		} else {
			l.unknown = append(l.unknown, timed(unknown, i))
			l.existing = append(l.existing, timed(existing, i))
		}
	}
	return l
}

// sameMedians measures up to timingAttempts times and fails t when every
// measurement has the medians further apart than timingBound.
func sameMedians(t *testing.T, measure func() latencies) {
	t.Helper()
	var skews []string
	for attempt := 1; attempt <= timingAttempts; attempt++ {
		l := measure()
		s := l.skew()
		t.Logf("attempt %d: %s; unknown vs existing %+.1f%%", attempt, l.summary(), 100*s)
		if -timingBound <= s && s <= timingBound {
			return
		}
		skews = append(skews, fmt.Sprintf("%+.1f%%", 100*s))
	}
	t.Fatalf("p50 latency of unknown logins differs from existing ones by more than ±%.0f%% in all %d measurements: %s",
		100*timingBound, timingAttempts, strings.Join(skews, ", "))
}

// answerHeaders is resp's headers without those that name the request.
func answerHeaders(resp *apitest.Response) http.Header {
	h := resp.Header.Clone()
	for k := range h {
		if lk := strings.ToLower(k); strings.Contains(lk, "request") && strings.Contains(lk, "id") {
			h.Del(k)
		}
	}
	return h
}

// sameAnswer fails t unless a and b have the same status, body and headers
// (request ids apart).
func sameAnswer(t *testing.T, what string, a, b *apitest.Response) {
	t.Helper()
	if a.Status != b.Status || string(a.Body) != string(b.Body) {
		t.Fatalf("%s: existing account answered %d %s, unknown %d %s", what, a.Status, a.Body, b.Status, b.Body)
	}
	ha, hb := answerHeaders(a), answerHeaders(b)
	if fmt.Sprint(ha) != fmt.Sprint(hb) {
		t.Fatalf("%s: headers differ: existing %v, unknown %v", what, ha, hb)
	}
}

// timingSource sends a request from source address ip (API Gateway's
// requestContext.http.sourceIp).
func timingSource(ip string) apitest.Option {
	return func(r *http.Request) { r.RemoteAddr = ip + ":40000" }
}

// pastLoginWindows is longer than any login throttle window (15 minutes,
// growing up to a few hours for an account that reaches its cap): after
// it every counter a login touches has expired.
const pastLoginWindows = 24 * time.Hour

// TestLoginTimingDoesNotTellWhoHasAnAccount measures the refusal of a
// wrong password for an existing account against the refusal of an
// unknown login name: both must check one argon2id hash (the account's,
// or the dummy one), so both take the same time. No measured request is
// throttled: before each pair the clock moves past every throttle window,
// and each pair comes from a source address of its own; every measured
// answer is checked to be the 401 of a checked password, not a 429.
// Half of the pairs log in by username, half by email address, the same
// for both sides.
func TestLoginTimingDoesNotTellWhoHasAnAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("timing measurement")
	}
	env, c := setup(t)
	const accounts = 4
	var known, unknown []string
	for i := range accounts {
		known = append(known, fmt.Sprintf("timingknown%d", i))
		unknown = append(unknown, fmt.Sprintf("timingunknown%d", i))
		mustUser(t, env, known[i])
	}
	login := func(names []string, i int) string {
		n := names[i%len(names)]
		if i%2 == 1 {
			n += "@example.com" // mustUser's address
		}
		return n
	}
	source := func(i int) apitest.Option {
		return timingSource(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
	}
	post := func(names []string, i int) *apitest.Response {
		resp := c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": login(names, i), "password": "wrong " + pw}, source(i))
		if resp.Status != http.StatusUnauthorized || string(resp.Body) != noAccount {
			t.Fatalf("%s: %d %s", login(names, i), resp.Status, resp.Body)
		}
		return resp
	}

	// The same answer, by username and by email, with the OpenAPI
	// validation on; the measurement turns it off, as its cost would only
	// add noise.
	seq := 0
	for range 2 {
		env.Clock.Advance(pastLoginWindows)
		sameAnswer(t, login(known, seq), post(known, seq), post(unknown, seq))
		seq++
	}
	c.SkipOpenAPI = true
	defer func() { c.SkipOpenAPI = false }()

	// Each measured pair gets the next sequence number: its own source
	// address, and login form by its parity.
	prep := func(int) { env.Clock.Advance(pastLoginWindows); seq++ }
	existing := func(int) { post(known, seq) }
	none := func(int) { post(unknown, seq) }
	measurePairs(timingWarmup, prep, existing, none)
	sameMedians(t, func() latencies { return measurePairs(timingPairs, prep, existing, none) })
}
