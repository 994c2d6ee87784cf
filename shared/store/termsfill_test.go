package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/fixtures"
	"github.com/pufinid/pufinid-api/shared/store"
)

// waitTermsBlocked returns once a second caller waits for st's read of the
// terms in flight.
func waitTermsBlocked(t *testing.T, st *store.Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for st.TermsWaiters() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no second caller came to wait for the terms read in flight")
		}
		time.Sleep(time.Millisecond)
	}
}

// termsOverlap starts a read of the terms, holds its Query, starts a
// second one, and lets the Query go once the second waits for it.
func termsOverlap(t *testing.T, st *store.Store, g *gate, second context.Context) (firstErr, secondErr error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { _, err := st.Terms(context.Background()); done <- err }()
	<-g.held
	next := make(chan error, 1)
	go func() { _, err := st.Terms(second); next <- err }()
	waitTermsBlocked(t, st)
	close(g.release)
	return <-done, <-next
}

// The users and terms functions' warm-up reads the terms during init, and
// their first request needs them: it must share that Query, not make its
// own, or the warm-up would cost a request. Concurrent first requests after
// a new version share one the same way.
func TestCallersMissingTheTermsShareOneQuery(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	demo, err := fixtures.Demo()
	if err != nil {
		t.Fatal(err)
	}
	mustSave(t, env.Store, demo)
	g := newGate()
	g.hold = "Query"
	st := gatedStore(t, env, g)
	if err := errors.Join(termsOverlap(t, st, g, context.Background())); err != nil {
		t.Fatal(err)
	}
	if n := g.count("Query"); n != 1 {
		t.Errorf("%d Queries of the terms, want 1 shared", n)
	}
	// The copy is filled: a third caller reads nothing.
	before := g.count("Query") + g.count("GetItem")
	terms, err := st.Terms(context.Background())
	if err != nil || len(terms) == 0 {
		t.Fatalf("Terms after the shared read: %d terms, %v", len(terms), err)
	}
	if after := g.count("Query") + g.count("GetItem"); after != before {
		t.Errorf("%d requests for terms already kept", after-before)
	}
}

// A shared read that fails (the warm-up's bound, or DynamoDB failing once)
// is not the waiting caller's answer: it reads for itself.
func TestAFailedSharedTermsReadLeavesTheReadToTheWaiter(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	g := newGate()
	g.hold, g.fail = "Query", true
	st := gatedStore(t, env, g)
	firstErr, secondErr := termsOverlap(t, st, g, context.Background())
	if firstErr == nil {
		t.Error("the held Query was to fail")
	}
	if secondErr != nil {
		t.Fatalf("the waiting caller: %v, want its own read to succeed", secondErr)
	}
	if n := g.count("Query"); n != 2 {
		t.Errorf("%d Queries, want 2: the failed one and the waiter's own", n)
	}
}

// A caller waiting for another's read keeps its own deadline: a 503, not a
// hang.
func TestACallerWaitingForTheTermsHonoursItsDeadline(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	g := newGate()
	g.hold = "Query"
	st := gatedStore(t, env, g)
	go func() { _, _ = st.Terms(context.Background()) }()
	<-g.held
	defer close(g.release)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := st.Terms(ctx)
	var ae *apierror.Error
	if !errors.As(err, &ae) || ae.Code != apierror.Unavailable {
		t.Fatalf("Terms past its deadline: %v, want the Unavailable error", err)
	}
}
