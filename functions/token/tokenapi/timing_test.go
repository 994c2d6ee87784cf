package tokenapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
)

// Timing tests (see shared/dev/apitest's timing.go for how they measure).
const (
	timingWarmup   = 4    // pairs measured and thrown away
	timingPairs    = 50   // pairs per measurement: 50 samples of each kind (each costs an argon2id hash)
	timingAttempts = 3    // measurements before a difference counts as real
	timingBound    = 0.10 // |p50(unknown) - p50(existing)| ≤ 10% of p50(existing)
)

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
	apitest.SkipUnderFaults(t, env)
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
		return apitest.From(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
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
		apitest.SameAnswer(t, login(known, seq), post(known, seq), post(unknown, seq))
		seq++
	}
	c.SkipOpenAPI = true
	defer func() { c.SkipOpenAPI = false }()

	// Each measured pair gets the next sequence number: its own source
	// address, and login form by its parity.
	prep := func(int) { env.Clock.Advance(pastLoginWindows); seq++ }
	existing := func(int) { post(known, seq) }
	none := func(int) { post(unknown, seq) }
	apitest.MeasurePairs(timingWarmup, prep, existing, none)
	apitest.SameMedians(t, "logins", timingBound, timingAttempts, func() apitest.Latencies { return apitest.MeasurePairs(timingPairs, prep, existing, none) })
}
