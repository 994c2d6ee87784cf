package apitest

import (
	"fmt"

	"github.com/pufinid/pufinid-api/shared/dev/ddbfault"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Timing tests check that an attacker who times two kinds of request (for
// an existing account and for an unknown one) learns nothing. They measure
// wall-clock latency, so they are built to survive a busy machine: the two
// kinds are interleaved in random order (noise hits both alike), a warm-up
// comes first, medians are compared (a descheduled request or a GC pause
// moves a median little), and a comparison outside the bound is measured
// again before failing, since a real difference is systematic and noise is
// not. They must not run in parallel with other tests of their package,
// so they do not call t.Parallel: go test starts a package's parallel
// tests only once its serial ones are done, so a serial test runs alone
// however many of the others are parallel.

// Latencies are the samples of one timing measurement.
type Latencies struct{ Existing, Unknown []time.Duration }

// Median is the median of ds.
func Median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func (l Latencies) summary() string {
	return fmt.Sprintf("existing p50 %v (p25 %v, p75 %v); unknown p50 %v (p25 %v, p75 %v); n=%d each",
		Median(l.Existing), quantile(l.Existing, .25), quantile(l.Existing, .75),
		Median(l.Unknown), quantile(l.Unknown, .25), quantile(l.Unknown, .75), len(l.Existing))
}

// skew is (p50(unknown) - p50(existing)) / p50(existing).
func (l Latencies) skew() float64 {
	e, u := Median(l.Existing), Median(l.Unknown)
	return float64(u-e) / float64(e)
}

// MeasurePairs calls prep (untimed), then times existing(i) and unknown(i)
// in a random order, for each of pairs pairs.
func MeasurePairs(pairs int, prep func(i int), existing, unknown func(i int)) Latencies {
	var l Latencies
	timed := func(f func(int), i int) time.Duration {
		start := time.Now()
		f(i)
		return time.Since(start)
	}
	for i := range pairs {
		prep(i)
		if rand.IntN(2) == 0 {
			l.Existing = append(l.Existing, timed(existing, i))
			l.Unknown = append(l.Unknown, timed(unknown, i))
		} else {
			l.Unknown = append(l.Unknown, timed(unknown, i))
			l.Existing = append(l.Existing, timed(existing, i))
		}
	}
	return l
}

// SameMedians measures up to attempts times and fails t when every
// measurement has the medians further apart than bound (a fraction of the
// existing side's median), the same side slower each time: a leak is
// systematic, while noise on a busy machine (or DynamoDB retries) moves
// the medians either way. what names the requests in the failure.
func SameMedians(t *testing.T, what string, bound float64, attempts int, measure func() Latencies) {
	t.Helper()
	var (
		skews        []string
		slower, fast int
	)
	for attempt := 1; attempt <= attempts; attempt++ {
		l := measure()
		s := l.skew()
		t.Logf("attempt %d: %s; unknown vs existing %+.1f%%", attempt, l.summary(), 100*s)
		switch {
		case s > bound:
			slower++
		case s < -bound:
			fast++
		default:
			return
		}
		skews = append(skews, fmt.Sprintf("%+.1f%%", 100*s))
		if slower > 0 && fast > 0 {
			t.Logf("the medians moved both ways (%s): noise, not a difference", strings.Join(skews, ", "))
			return
		}
	}
	t.Fatalf("p50 latency of %s differs between existing and unknown ones by more than ±%.0f%%, the same way, in all %d measurements: %s",
		what, 100*bound, attempts, strings.Join(skews, ", "))
}

// SkipUnderFaults skips a timing test when DynamoDB faults are injected
// (make test-faults): the retries' backoff, tens of milliseconds drawn at
// random, would be all it measured.
func SkipUnderFaults(t *testing.T, env *Env) {
	t.Helper()
	if env.Faults != nil {
		t.Skip("timing measurement: DynamoDB faults are injected (" + ddbfault.EnvSpec + ")")
	}
}

// answerHeaders is resp's headers without those that name the request.
func answerHeaders(resp *Response) http.Header {
	h := resp.Header.Clone()
	for k := range h {
		if lk := strings.ToLower(k); strings.Contains(lk, "request") && strings.Contains(lk, "id") {
			h.Del(k)
		}
	}
	return h
}

// SameAnswer fails t unless the answers for an existing and an unknown
// account have the same status, body and headers (request ids apart).
func SameAnswer(t *testing.T, what string, existing, unknown *Response) {
	t.Helper()
	if existing.Status != unknown.Status || string(existing.Body) != string(unknown.Body) {
		t.Fatalf("%s: existing answered %d %s, unknown %d %s", what, existing.Status, existing.Body, unknown.Status, unknown.Body)
	}
	ha, hb := answerHeaders(existing), answerHeaders(unknown)
	if fmt.Sprint(ha) != fmt.Sprint(hb) {
		t.Fatalf("%s: headers differ: existing %v, unknown %v", what, ha, hb)
	}
}
