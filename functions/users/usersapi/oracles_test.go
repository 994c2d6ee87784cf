package usersapi_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/store"
)

// The password oracles of a stolen access token: change-password's
// old_password and the password of DELETE. Both are capped with login's
// counters (shared/store's Reserve): wrong passwords from one source get
// 400 five times, then 429 with Retry-After, sequentially or all at once,
// and a login from that source is capped with them.
func TestPasswordOraclesAreCapped(t *testing.T) {
	t.Parallel()
	routes := []struct {
		name   string
		method string
		path   string
		body   func(i int) map[string]any
		field  string
	}{
		{"change-password", http.MethodPost, "/v1/users/change-password/", func(i int) map[string]any {
			return map[string]any{"old_password": fmt.Sprintf("guess %d", i), "new_password": "An0ther-Str0ng-Pass", "new_password_confirm": "An0ther-Str0ng-Pass"}
		}, "old_password"},
		{"DELETE", http.MethodDelete, "/v1/users/me/", func(i int) map[string]any {
			return map[string]any{"password": fmt.Sprintf("guess %d", i)}
		}, "password"},
	}
	for _, rt := range routes {
		t.Run(rt.name+"/30 in a row", func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			u := w.mustSignup(t, "ada@example.com")
			for i := range 30 {
				resp := w.c.Do(rt.method, rt.path, rt.body(i), apitest.Bearer(u.access))
				want := http.StatusBadRequest
				if i >= store.SourceFailureLimit {
					want = http.StatusTooManyRequests
				}
				if resp.Status != want || (want == 429 && resp.Header.Get("Retry-After") == "") {
					t.Fatalf("wrong password %d: %d %s; want %d", i+1, resp.Status, resp.Body, want)
				}
				if want == 400 {
					if m := resp.Map(t); m[rt.field] == nil {
						t.Fatalf("wrong password %d: %s, want an error on %s", i+1, resp.Body, rt.field)
					}
				}
			}
			// The right password from another source still works.
			resp := w.c.Do(rt.method, rt.path, map[string]any{"old_password": strongPassword, "password": strongPassword,
				"new_password": "An0ther-Str0ng-Pass", "new_password_confirm": "An0ther-Str0ng-Pass"}, apitest.Bearer(u.access), apitest.From("198.51.100.99"))
			if resp.Status != http.StatusOK && resp.Status != http.StatusNoContent {
				t.Fatalf("the right password from another source: %d %s", resp.Status, resp.Body)
			}
		})
		t.Run(rt.name+"/40 at once", func(t *testing.T) {
			t.Parallel()
			contended(t, func(t *testing.T, w *world) {
				u := w.mustSignup(t, "ada@example.com")
				var (
					wg  sync.WaitGroup
					mu  sync.Mutex
					got = map[int]int{}
				)
				for i := range 40 {
					wg.Go(func() {
						resp := w.c.Do(rt.method, rt.path, rt.body(i), apitest.Bearer(u.access))
						mu.Lock()
						defer mu.Unlock()
						got[resp.Status]++
					})
				}
				wg.Wait()
				if got[400] != store.SourceFailureLimit || got[429] != 40-store.SourceFailureLimit {
					t.Fatalf("40 wrong passwords at once: %v; want %d × 400, the rest 429", got, store.SourceFailureLimit)
				}
			})
		})
	}
}
