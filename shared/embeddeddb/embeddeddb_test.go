package embeddeddb

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/pufinid/pufinid-api/shared/apierror"
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
