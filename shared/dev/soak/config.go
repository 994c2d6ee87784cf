package soak

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// Config is one run.
type Config struct {
	// BaseURL is the server's, e.g. "http://127.0.0.1:3000" (no trailing slash).
	BaseURL string
	// Seed derives every client's random sequence.
	Seed int64
	// Clients is how many simulated clients run at once (default 8).
	Clients int
	// Requests stops the run after this many API requests (outbox reads
	// not counted); Duration stops it after this long. At least one must
	// be set; the first reached ends the run.
	Requests int
	Duration time.Duration
	// Reference is the reference data the server loaded (its fixture):
	// the terms, FAQ, PUF designs and apps profiles every answer is
	// compared with, and the organizations users sign up to.
	Reference pufinid.Reference
	// Now reads the server's clock; nil is time.Now (a server in this
	// process on the wall clock, or one whose clock agrees with ours).
	Now func() time.Time
	// Advance moves the server's clock forward. nil means the clock is not
	// controllable: the operations that need time to pass (expiry of
	// tokens, throttle windows, email budgets) are skipped.
	Advance func(time.Duration)
	// ClockSkew is how far the server's clock may be from Now. Default: 0
	// with Advance (the same clock, standing still), 1 s without (the
	// server rounds times down to the second).
	ClockSkew time.Duration
	// Faults says DynamoDB fault injection is on in the server: a 503 is
	// then tolerated (and makes what it may have changed unknown).
	Faults bool
	// LoopbackSources sends each client's requests from a loopback address
	// of its own (127.0.0.2, 127.0.0.3...), so that each is its own source
	// address to the throttles, as distinct clients are. Only for a server
	// on 127.0.0.1, on a system that routes all of 127/8 to loopback (Linux).
	LoopbackSources bool
	// Check, if set, is one more check of every API answer (the test uses
	// it to validate each against docs/openapi.yaml); an error is a failure.
	Check func(Exchange) error
	// MaxFailures ends the run once this many failures were found
	// (default 10).
	MaxFailures int
	// Logf, if set, is told the run's progress every few seconds.
	Logf func(format string, args ...any)
}

// Exchange is one API request and its answer.
type Exchange struct {
	Method, Path  string // Path with its query
	RequestHeader http.Header
	RequestBody   []byte
	Status        int
	Header        http.Header
	Body          []byte
}

// Report is what a run did and found.
type Report struct {
	Seed     int64
	Clients  int
	Duration time.Duration
	// Requests counts API requests; OutboxRequests the reads and deletes
	// of GET/DELETE /_aws/ses.
	Requests       int64
	OutboxRequests int64
	// Ops counts operations by name, Statuses API answers by status code.
	Ops      map[string]int64
	Statuses map[int]int64
	// Advanced is how far the server's clock was moved.
	Advanced time.Duration
	Failures []Failure
}

// Failure is one answer the model did not allow.
type Failure struct {
	Client int
	Op     string
	What   string
	// Count is how many times the same check failed in the same
	// operation (the first is described).
	Count int
	// History is the client's last requests, oldest first.
	History []string
}

func (f Failure) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "client %d, %s: %s", f.Client, f.Op, f.What)
	if f.Count > 1 {
		fmt.Fprintf(&b, "\n    (the same check failed %d times in all)", f.Count)
	}
	if len(f.History) > 0 {
		b.WriteString("\n    the client's last requests:")
		for _, h := range f.History {
			b.WriteString("\n      " + h)
		}
	}
	return b.String()
}

func (r *Report) failureCount() int {
	n := 0
	for _, f := range r.Failures {
		n += f.Count
	}
	return n
}

// Summary is the report as a run prints it.
func (r *Report) Summary() string {
	var b strings.Builder
	secs := r.Duration.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(r.Requests) / secs
	}
	fmt.Fprintf(&b, "soak: seed %d, %d clients, %d API requests (+%d outbox) in %v: %.0f requests/s; server clock moved %v; %d failures (%d distinct)\n",
		r.Seed, r.Clients, r.Requests, r.OutboxRequests, r.Duration.Round(time.Millisecond), rate, r.Advanced, r.failureCount(), len(r.Failures))
	b.WriteString("  operations:")
	names := slices.SortedFunc(maps.Keys(r.Ops), func(a, b string) int {
		return cmp.Or(cmp.Compare(r.Ops[b], r.Ops[a]), cmp.Compare(a, b))
	})
	for i, n := range names {
		if i%6 == 0 {
			b.WriteString("\n   ")
		}
		fmt.Fprintf(&b, " %s=%d", n, r.Ops[n])
	}
	b.WriteString("\n  statuses:")
	for _, s := range slices.Sorted(maps.Keys(r.Statuses)) {
		fmt.Fprintf(&b, " %d=%d", s, r.Statuses[s])
	}
	b.WriteString("\n")
	return b.String()
}
