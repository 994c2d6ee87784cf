package usersapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/functions/users/usersapi"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/outbox"
	"github.com/pufinid/pufinid-api/shared/mailer"
	"github.com/pufinid/pufinid-api/shared/store"
)

// Timing tests (see shared/dev/apitest's timing.go for how they measure).
const (
	timingWarmup   = 10   // pairs measured and thrown away
	timingPairs    = 120  // pairs per measurement: 120 samples of each kind
	timingAttempts = 3    // measurements before a difference counts as real
	timingBound    = 0.10 // |p50(unknown) - p50(existing)| ≤ 10% of p50(existing)
)

// TestEmailRoutesTimingDoesNotTellWhoHasAnAccount measures the path where
// the address's budget allows an email, the one pacing exists for: for an
// existing address the request issues a token and sends it, for an unknown
// one the token write finds no account and the request waits the pace
// estimate (the moving average of the handler's sends) instead. Every
// measured request of both sides does its route's whole work: before each
// pair the clock moves past the throttle's window (a day and a minute), so
// no address is throttled (each takes the same "new window" path of the
// budget), and the accounts are never confirmed, so resending a
// confirmation really sends. After each measurement the test checks that
// every existing-address request sent exactly one email and the unknown
// ones none.
//
// It runs with two mailers: the harness's local outbox, whose send takes
// about 10 µs, and the outbox behind a 2 ms delay standing in for SES's
// round trip (short, to keep the test short; SES takes tens of ms). The
// warm-up's sends give the pace its estimate (a fresh handler starts from
// Deps.SendEstimate: TestAFreshInstanceWaitsAsLongAsASendBeforeTimingOne).
// A wait that overshoots the send it stands for shows here as unknown
// addresses being slower; note that Go's timers on Linux, when the process
// has nothing else to run, wake on whole milliseconds (the netpoller's
// epoll timeout), so a wait of d takes about d rounded up to the next
// millisecond.
func TestEmailRoutesTimingDoesNotTellWhoHasAnAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("timing measurement")
	}
	mailers := []struct {
		name  string
		delay time.Duration
	}{{"local outbox", 0}, {"SES-like 2ms send", 2 * time.Millisecond}}
	for _, route := range sendRoutes {
		for _, m := range mailers {
			t.Run(route.name+"/"+m.name, func(t *testing.T) {
				outbox := outbox.New(discardLog)
				var send mailer.Mailer = outbox
				if m.delay > 0 {
					send = slowMailer{outbox, m.delay}
				}
				w := setup(t, withMailer(send))
				apitest.SkipUnderFaults(t, w.env)
				timeEmailRoute(t, w, outbox, route.path, `{"detail":"`+route.detail+`"}`)
			})
		}
	}
}

// timeEmailRoute is one route's measurement on w, whose mailer keeps its
// emails in outbox.
func timeEmailRoute(t *testing.T, w *world, outbox *outbox.Outbox, path, want string) {
	t.Helper()
	const accounts = 4
	var known, unknown []string
	for i := range accounts {
		known = append(known, fmt.Sprintf("timing-known-%d@example.com", i))
		unknown = append(unknown, fmt.Sprintf("timing-unknown-%d@example.com", i))
		w.mustSignup(t, known[i])
	}
	post := func(addr string) *apitest.Response {
		resp := w.c.Do(http.MethodPost, path, map[string]string{"email": addr})
		if resp.Status != http.StatusOK || string(resp.Body) != want {
			t.Fatalf("%s: %d %s", addr, resp.Status, resp.Body)
		}
		return resp
	}

	// The same answer, with the OpenAPI validation on; the measurement
	// turns it off, as its cost would only add noise.
	w.env.Clock.Advance(store.MailWindow + store.MailGap)
	apitest.SameAnswer(t, "sending", post(known[0]), post(unknown[0]))
	apitest.SameAnswer(t, "throttled", post(known[0]), post(unknown[0])) // within the minute: nothing sent
	w.c.SkipOpenAPI = true
	defer func() { w.c.SkipOpenAPI = false }()

	// checkSent fails t unless the existing-address requests since the
	// last check each sent one email and the unknown ones none.
	calls, mails := 0, len(outbox.Messages())
	checkSent := func() {
		t.Helper()
		msgs := outbox.Messages()
		for _, msg := range msgs[mails:] {
			if to := msg.Destination.ToAddresses; len(to) != 1 || !slices.Contains(known, to[0]) {
				t.Fatalf("an email to %v", to)
			}
		}
		if sent := len(msgs) - mails; sent != calls {
			t.Fatalf("%d of %d existing-address requests sent an email: the send path was not the one measured", sent, calls)
		}
		calls, mails = 0, len(msgs)
	}
	prep := func(int) { w.env.Clock.Advance(store.MailWindow + store.MailGap) }
	existing := func(i int) { post(known[i%accounts]); calls++ }
	none := func(i int) { post(unknown[i%accounts]) }
	apitest.MeasurePairs(timingWarmup, prep, existing, none)
	checkSent()
	apitest.SameMedians(t, "the email routes", timingBound, timingAttempts, func() apitest.Latencies {
		l := apitest.MeasurePairs(timingPairs, prep, existing, none)
		checkSent()
		return l
	})
}

// A new instance has timed no send yet: a request for an address with no
// account still waits about as long as a send (Deps.SendEstimate, which
// Setup sets for SES), not nothing, which would tell the first callers of
// every cold start who has an account.
func TestAFreshInstanceWaitsAsLongAsASendBeforeTimingOne(t *testing.T) {
	t.Parallel()
	const estimate = 40 * time.Millisecond
	for _, route := range []string{"resend-confirm-email", "send-reset-password-email"} {
		w := setup(t, func(d *usersapi.Deps) { d.SendEstimate = estimate }) // faults only add to the wait: no skip
		start := time.Now()
		resp := w.c.Do(http.MethodPost, "/v1/users/"+route+"/", map[string]any{"email": "nobody@example.com"})
		if took := time.Since(start); resp.Status != http.StatusOK || took < estimate {
			t.Fatalf("%s for an unknown address on a fresh instance: %d after %v, want 200 after at least %v", route, resp.Status, took, estimate)
		}
	}
}

// The estimate lasts only until a send is timed: a seed far from this
// instance's sends (60 ms against sends of a few) must not keep requests
// for unknown addresses slow, which would tell them apart for many sends.
// Serial: it bounds a wait from above, which parallel tests' load would
// stretch. (A fresh instance's wait, above, is bounded from below only.)
func TestTheFirstTimedSendReplacesTheEstimate(t *testing.T) {
	w := setup(t, func(d *usersapi.Deps) { d.SendEstimate = 60 * time.Millisecond })
	apitest.SkipUnderFaults(t, w.env)
	w.mustSignup(t, "ada@example.com")
	w.env.Clock.Advance(61 * time.Second)
	if resp := w.c.Do(http.MethodPost, "/v1/users/resend-confirm-email/", map[string]any{"email": "ada@example.com"}); resp.Status != 200 {
		t.Fatalf("resend: %d", resp.Status)
	}
	start := time.Now()
	w.c.Do(http.MethodPost, "/v1/users/resend-confirm-email/", map[string]any{"email": "nobody@example.com"})
	if took := time.Since(start); took > 40*time.Millisecond {
		t.Fatalf("an unknown address after one timed send of a few ms waited %v, as if the 60 ms estimate still held", took)
	}
}
