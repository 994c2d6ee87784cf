package soak

import "time"

// span is when something happened on the server's clock, as closely as the
// driver knows: some instant in [lo, hi]. With a controlled clock, which
// stands still while requests run, lo == hi.
type span struct{ lo, hi time.Time }

func (s span) add(d time.Duration) span { return span{s.lo.Add(d), s.hi.Add(d)} }

// seconds rounds s down to whole seconds, as the server does when it
// stamps a token's issue and expiry times.
func (s span) seconds() span { return span{s.lo.Truncate(time.Second), s.hi.Truncate(time.Second)} }

// tri is what the model can tell about a fact that depends on where in a
// span the server's time fell.
type tri int8

const (
	no tri = iota
	maybe
	yes
)

func (t tri) String() string { return [...]string{"no", "maybe", "yes"}[t] }

// live tells whether something that works until deadline (exclusive: at
// the deadline it no longer does, as the server compares) still worked at
// now.
func live(deadline, now span) tri {
	switch {
	case now.hi.Before(deadline.lo):
		return yes
	case !now.lo.Before(deadline.hi):
		return no
	}
	return maybe
}

// countWithin counts the events that may have happened less than d before
// now: an upper bound of what a server counting a window of d sees.
func countWithin(events []span, d time.Duration, now span) int {
	n := 0
	for _, e := range events {
		if live(e.add(d), now) != no {
			n++
		}
	}
	return n
}

// prune drops the events that certainly happened d or more before now.
func prune(events []span, d time.Duration, now span) []span {
	out := events[:0]
	for _, e := range events {
		if live(e.add(d), now) != no {
			out = append(out, e)
		}
	}
	return out
}

// The contract's limits the model knows (CONTRACT.md, "Throttling").
const (
	loginWindow        = 15 * time.Minute
	loginFailureLimit  = 5  // failures per account and source in the window
	loginAccountChecks = 20 // password checks per account in the window, all sources
	mailGap            = time.Minute
	mailDay            = 24 * time.Hour
	mailPerDay         = 10
	// The lifetimes the model expects, stated here on purpose apart from
	// the API's (pufinid.DefaultLifetimes): the model is an independent
	// reading of the contract, so a change of the API's defaults fails
	// TestModelLifetimesAreTheContracts instead of passing unnoticed.
	confirmLifetime = 72 * time.Hour
	resetLifetime   = time.Hour
	defaultAccess   = 300 * time.Second // simplejwt's, where an organization sets none
	defaultRefresh  = 24 * time.Hour
)

// mailLog is what the model knows of one email route's budget for one
// address (canonical form): the requests that may have spent it and the
// emails the outbox showed were sent.
type mailLog struct {
	requests []span
	sent     []span
}

// forbidden reports that the contract forbids an email at now: one was
// sent less than 60 s ago, or 10 were in the last 24 h.
func (m *mailLog) forbidden(now span) bool {
	day := 0
	for _, s := range m.sent {
		if live(s.add(mailGap), now) == yes {
			return true
		}
		if live(s.add(mailDay), now) == yes {
			day++
		}
	}
	return day >= mailPerDay
}

// owed reports that an email must go at now to an account that can use
// one. The contract caps emails, and a server may count toward the cap
// every request it let through whether or not it sent (the current one
// does, so that the answer cannot tell who has an account): so an email is
// owed only when no request of the last 60 s, nor 10 of the last 24 h,
// could have spent the budget.
func (m *mailLog) owed(now span) bool {
	return countWithin(m.requests, mailGap, now) == 0 && countWithin(m.requests, mailDay, now) < mailPerDay
}

// record notes a request answered at at, and whether it sent an email.
func (m *mailLog) record(at span, sent bool) {
	m.requests = append(prune(m.requests, mailDay, at), at)
	m.sent = prune(m.sent, mailDay, at)
	if sent {
		m.sent = append(m.sent, at)
	}
}
