package embeddeddb

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
)

// Without serializeTableChanges, minidyn's table map is written
// concurrently here: `go test -race` reports it every time, and a plain run
// sometimes dies of "concurrent map writes" (as the event replay did).
func TestTablesCanBeCreatedWhileOthersAreInUse(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	db, st, u := withUser(t, "ttl", func() time.Time { return now })
	// Emailed tokens carry the TTL attribute: one expired, one live.
	for p, life := range map[store.EmailPurpose]time.Duration{store.PurposeConfirm: -time.Minute, store.PurposeReset: time.Hour} {
		if err := st.IssueEmailToken(ctx, u.ID, p, store.EmailToken{Hash: string(p), ExpiresAt: now.Add(life).Unix()}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.SweepExpired(ctx, "ttl", store.AttrTTL, now)
	if err != nil || n != 1 {
		t.Fatalf("swept %d (%v), want 1", n, err)
	}
	if _, tok, err := st.UserAndEmailToken(ctx, u.ID, store.PurposeReset); err != nil || tok.Hash == "" {
		t.Fatalf("live token: %+v, %v", tok, err)
	}
	if _, tok, err := st.UserAndEmailToken(ctx, u.ID, store.PurposeConfirm); err != nil || tok.Hash != "" {
		t.Fatalf("expired token: %+v, %v; want it swept", tok, err)
	}
	if _, err := st.Account(ctx, u.ID); err != nil {
		t.Fatalf("user without a TTL: %v", err)
	}
	if n, err := db.SweepExpired(ctx, "ttl", store.AttrTTL, now); err != nil || n != 0 {
		t.Fatalf("second sweep: %d, %v", n, err)
	}
}

// minidyn v0.8.2 walked every key of the table for each Query, deep-copied
// the whole table for each transaction and re-sorted every key on each
// insert; the patched copy in third_party/minidyn does each in proportion to
// what it touches. A Query and a cancelled transaction against a table of
// 20,000 items must cost about what they cost against an empty one (they
// took 100 times longer before the patch).
// Serial: it compares latencies, which parallel tests' load would skew.
func TestCostDoesNotGrowWithTheTable(t *testing.T) {
	ctx := context.Background()
	db, st, u := withUser(t, "grow", nil)
	measure := func() time.Duration {
		var took []time.Duration
		for range 40 {
			start := time.Now()
			if _, err := st.Account(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			dup := u
			dup.ID = "u2"
			if err := st.CreateUser(ctx, dup, nil); !apierror.Is(err, apierror.Invalid) {
				t.Fatalf("duplicate signup: %v", err)
			}
			took = append(took, time.Since(start))
		}
		slices.Sort(took)
		return took[len(took)/2]
	}
	empty := measure()
	const fill = 20000
	for i := 0; i < fill; i += 25 {
		var puts []types.WriteRequest
		for j := i; j < i+25; j++ {
			puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				store.AttrPK: &types.AttributeValueMemberS{Value: fmt.Sprintf("FILL#%05d", j)},
				store.AttrSK: &types.AttributeValueMemberS{Value: "X"},
				"theme":      &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
			}}})
		}
		out, err := db.client().BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"grow": puts}})
		if err != nil || len(out.UnprocessedItems) > 0 {
			t.Fatalf("fill: %v, %d unprocessed", err, len(out.UnprocessedItems))
		}
	}
	full := measure()
	t.Logf("p50 of a Query and a cancelled transaction: %v empty, %v with %d items more", empty, full, fill)
	if full > 4*empty+2*time.Millisecond {
		t.Fatalf("p50 grew from %v to %v with %d items in other partitions", empty, full, fill)
	}
}

// withUser starts an embedded store (closed when the test ends) with the
// table name, holding one user, on the clock now (time.Now if nil).
func withUser(t *testing.T, table string, now func() time.Time) (*DB, *store.Store, pufinid.User) {
	t.Helper()
	db, err := Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Table: table, Endpoint: db.URL, Now: now})
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
	return db, st, u
}

// DropConnections finds the tables of a request the way minidyn's own
// table-scoped failures do: a single-table call's TableName, a batch's
// RequestItems and each item of a transaction.
func TestTablesOfNamesEveryTableARequestTouches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		want       []string
	}{
		{"single-table call", `{"TableName": "a", "Key": {}}`, []string{"a"}},
		{"batch", `{"RequestItems": {"b": [], "c": []}}`, []string{"b", "c"}},
		{"transaction", `{"TransactItems": [{"Put": {"TableName": "d"}}, {"ConditionCheck": {"TableName": "e"}}], "ClientRequestToken": "x"}`, []string{"d", "e"}},
		{"transactional read", `{"TransactItems": [{"Get": {"TableName": "f"}}]}`, []string{"f"}},
		{"no table", `{"Limit": 1}`, nil},
		{"not JSON", `{`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tablesOf([]byte(tc.body))
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("tablesOf(%s) = %q, want %q", tc.body, got, tc.want)
			}
		})
	}
}
