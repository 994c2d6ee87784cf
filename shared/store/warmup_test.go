package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/store"
)

// gate holds the first GetItem or BatchGetItem of a client until release,
// so a second reader certainly overlaps it, and counts the client's
// requests by operation.
type gate struct {
	once    sync.Once
	held    chan struct{} // closed when the first read is held
	release chan struct{}
	fail    bool   // the held read fails once released
	hold    string // the operation held; "" for the first GetItem or BatchGetItem
	mu      sync.Mutex
	ops     map[string]int
}

func newGate() *gate {
	return &gate{held: make(chan struct{}), release: make(chan struct{}), ops: map[string]int{}}
}

func (g *gate) install(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("Gate",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := middleware.GetOperationName(ctx)
			g.mu.Lock()
			g.ops[op]++
			g.mu.Unlock()
			first := false
			if g.hold == op || g.hold == "" && (op == "GetItem" || op == "BatchGetItem") {
				g.once.Do(func() { first = true })
			}
			if first {
				close(g.held)
				<-g.release
				if g.fail {
					return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("gate: injected failure")
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func (g *gate) count(op string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ops[op]
}

// gatedStore is a cold instance's store (no pointer read yet) of env's
// table, behind g.
func gatedStore(t *testing.T, env *apitest.Env, g *gate) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Table: env.Store.Table(), Endpoint: env.DB.URL, Now: env.Clock.Now,
		APIOptions: []func(*middleware.Stack) error{g.install}})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// waitBlocked returns once a second reader waits for st's pointer read in
// flight, so that the join the tests check certainly happened.
func waitBlocked(t *testing.T, st *store.Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for st.PointerWaiters() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no second reader came to wait for the pointer read in flight")
		}
		time.Sleep(time.Millisecond)
	}
}

// overlap runs first until g holds its read, then second until it waits
// for that read, then lets the read go, and returns both results.
func overlap(t *testing.T, st *store.Store, g *gate, first, second func() error) (firstErr, secondErr error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- first() }()
	<-g.held
	next := make(chan error, 1)
	go func() { next <- second() }()
	waitBlocked(t, st)
	close(g.release)
	return <-done, <-next
}

func warmUp(st *store.Store) func() error {
	return func() error { st.WarmUp(context.Background()); return nil }
}

func readTerms(st *store.Store) func() error {
	return func() error { _, err := st.Terms(context.Background()); return err }
}

// The warm-up lambdafn starts during init and the first request's own
// reference read overlap: the request must join the warm-up's read of the
// pointer, not make a second one, or the warm-up would cost a request.
func TestWarmUpIsJoinedByTheFirstReferenceRead(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	g := newGate()
	st := gatedStore(t, env, g)
	if _, err := overlap(t, st, g, warmUp(st), readTerms(st)); err != nil {
		t.Fatal(err)
	}
	if n := g.count("GetItem"); n != 1 {
		t.Errorf("the pointer was read %d times, want once (the warm-up's, joined)", n)
	}
	if n := g.count("Query"); n != 1 {
		t.Errorf("%d Queries of the terms, want 1", n)
	}
}

// A warm-up that fails (DynamoDB unavailable during init) leaves the
// pointer unknown, and the request that waited for it reads it itself.
func TestAFailedWarmUpLeavesTheReadToTheRequest(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	g := newGate()
	g.fail = true
	st := gatedStore(t, env, g)
	if _, err := overlap(t, st, g, warmUp(st), readTerms(st)); err != nil {
		t.Fatalf("the request after a failed warm-up: %v", err)
	}
	if n := g.count("GetItem"); n != 2 {
		t.Errorf("%d pointer reads, want 2: the failed warm-up's and the request's own", n)
	}
}

// A request that gives up while the warm-up's read is held answers the
// contract's 503, not a hang and not a 500.
func TestARequestWaitingForTheWarmUpHonoursItsDeadline(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	g := newGate()
	st := gatedStore(t, env, g)
	go st.WarmUp(context.Background())
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

// The verifying functions' warm-up is the public key set, read with the
// pointer in one BatchGetItem; a reference read meanwhile joins it too.
func TestPublicKeysClaimThePointerRead(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	if err := env.Store.PublishPublicKeys(context.Background(), []byte(`{"keys":[]}`)); err != nil {
		t.Fatal(err)
	}
	g := newGate()
	st := gatedStore(t, env, g)
	found := false
	keys := func(st *store.Store) func() error {
		return func() error {
			_, ok, err := st.PublicKeys(context.Background())
			found = found || ok
			return err
		}
	}
	if err := errors.Join(overlap(t, st, g, keys(st), readTerms(st))); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Error("the published key set was not found")
	}
	if b, gi := g.count("BatchGetItem"), g.count("GetItem"); b != 1 || gi != 0 {
		t.Errorf("%d BatchGetItem and %d GetItem, want the one BatchGetItem of the keys and the pointer", b, gi)
	}
	// And the other way round: keys read while a reference read holds the
	// pointer's claim wait for it, then read only the keys.
	g2 := newGate()
	st2 := gatedStore(t, env, g2)
	if err := errors.Join(overlap(t, st2, g2, readTerms(st2), keys(st2))); err != nil {
		t.Fatal(err)
	}
	if b, gi := g2.count("BatchGetItem"), g2.count("GetItem"); b != 0 || gi != 2 {
		t.Errorf("%d BatchGetItem and %d GetItem, want 2 GetItem: the pointer once, then the keys alone", b, gi)
	}
}
