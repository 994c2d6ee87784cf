package usersapi_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
)

var (
	growth      = flag.Bool("growth", false, "measure how the API's latency changes as the embedded store fills (make bench-growth)")
	growthSizes = flag.String("growth.sizes", "10000,50000", "requests after which to measure, comma-separated")
	growthRef   = flag.Int("growth.designs", 10000, "PUF designs to load for the last measure")
)

// TestGrowth measures GET /v1/users/me/ and a login's write of its refresh
// token (an UpdateItem of the profile) as the table fills: empty, after
// 10,000 and 50,000 requests that each leave one item behind (the email routes for new addresses, as any client can
// send), and with 10,000 reference items more. It prints the table of the
// README's "What the embedded store does not emulate"; the bound it must
// keep is checked in make test by shared/dev/embeddeddb's
// TestCostDoesNotGrowWithTheTable, since timing a 50,000-request fill does
// not fit the suite.
func TestGrowth(t *testing.T) {
	if !*growth {
		t.Skip("run with -growth (make bench-growth)")
	}
	w := setup(t)
	u := w.mustSignup(t, "ada@example.com")
	ctx := context.Background()
	measure := func(label string) {
		var me, tx []time.Duration
		for i := range 200 {
			start := time.Now()
			if resp := w.c.Do(http.MethodGet, "/v1/users/me/", nil, apitest.Bearer(u.access)); resp.Status != 200 {
				t.Fatalf("GET me: %d", resp.Status)
			}
			me = append(me, time.Since(start))
			if i%4 == 0 { // a login's write of its refresh token into the profile
				start = time.Now()
				rt := store.RefreshToken{UserID: u.ID, JTI: fmt.Sprintf("%s-%d", label, i), ExpiresAt: w.env.Clock.Now().Add(time.Hour)}
				if err := w.env.Store.CreateRefreshToken(ctx, rt); err != nil {
					t.Fatal(err)
				}
				tx = append(tx, time.Since(start))
			}
		}
		fmt.Printf("%-30s GET me p50 %8v p99 %8v   a login's refresh-token write p50 %8v\n", label,
			pct(me, 50), pct(me, 99), pct(tx, 50))
	}
	measure("empty table")
	sent := 0
	grow := func(n int) {
		for ; sent < n; sent++ {
			resp := w.c.Do(http.MethodPost, resendPath, map[string]string{"email": fmt.Sprintf("visitor%d@example.com", sent)})
			if resp.Status != 200 {
				t.Fatalf("resend: %d", resp.Status)
			}
		}
	}
	for f := range strings.SplitSeq(*growthSizes, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		grow(n)
		measure(fmt.Sprintf("after %d requests", n))
	}
	var ref pufinid.Reference
	for i := range *growthRef {
		ref.PufDesigns = append(ref.PufDesigns, pufinid.PufDesign{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
			Name: "Design", Description: "A design", PufDesignType: "dot", Organization: "a499459d-d34e-4d7e-9836-8effc6707572",
			PufDesignIconURL: "https://static.example/d.png"})
	}
	w.env.Load(ref)
	measure(fmt.Sprintf("and %d PUF designs", *growthRef))
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)*p/100].Round(10 * time.Microsecond)
}
