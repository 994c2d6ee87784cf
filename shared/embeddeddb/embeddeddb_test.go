package embeddeddb

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
)

// Without serializeTableChanges, minidyn's table map is written
// concurrently here: `go test -race` reports it every time, and a plain run
// sometimes dies of "concurrent map writes" (as the event replay did).
func TestTablesCanBeCreatedWhileOthersAreInUse(t *testing.T) {
	db, err := Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	open := func(name string) *store.Store {
		st, err := store.Open(ctx, store.Options{Table: name, Endpoint: db.URL})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	busy := open("busy")
	if err := busy.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 300)
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := busy.FAQTopic(ctx, 1); err != nil && !apierror.Is(err, apierror.NotFound) {
					errs <- err
					return
				}
			}
		})
	}
	var creators sync.WaitGroup
	for g := range 8 {
		creators.Go(func() {
			for i := range 20 {
				if err := open(fmt.Sprintf("new-%d-%d", g, i)).CreateTable(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	creators.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// The sweep removes what DynamoDB's TTL would (items whose expires_at has
// passed) and nothing else: live items, and items without the attribute.
func TestSweepExpiredDeletesOnlyExpiredItems(t *testing.T) {
	db, err := Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	st, err := store.Open(ctx, store.Options{Table: "ttl", Endpoint: db.URL, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	u := pufinid.User{ID: "u1", Email: "ada@example.com", PasswordHash: "h"}
	if err := st.CreateUser(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	for jti, life := range map[string]time.Duration{"dead": -time.Minute, "live": time.Hour} {
		if err := st.CreateRefreshToken(ctx, store.RefreshToken{UserID: u.ID, JTI: jti, ExpiresAt: now.Add(life)}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.SweepExpired(ctx, "ttl", store.AttrTTL, now)
	if err != nil || n != 1 {
		t.Fatalf("swept %d (%v), want 1", n, err)
	}
	if _, err := st.RefreshToken(ctx, u.ID, "live"); err != nil {
		t.Fatalf("live token: %v", err)
	}
	if _, err := st.Account(ctx, u.ID); err != nil {
		t.Fatalf("user without a TTL: %v", err)
	}
	if n, err := db.SweepExpired(ctx, "ttl", store.AttrTTL, now); err != nil || n != 0 {
		t.Fatalf("second sweep: %d, %v", n, err)
	}
}
