// Package embeddeddb runs github.com/truora/minidyn's DynamoDB JSON API
// server in-process on a loopback port, so the local server and the tests
// talk to a DynamoDB-compatible store through the real aws-sdk-go-v2 client
// over HTTP, with no Docker and no Java.
package embeddeddb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	miniserver "github.com/truora/minidyn/server"
)

// DB is a running embedded store.
type DB struct {
	// URL is the endpoint to give the SDK (store.Options.Endpoint).
	URL string
	// Server exposes minidyn's failure emulation to tests.
	Server *miniserver.Server
	http   *http.Server
	drops  *connDrops

	clientOnce sync.Once
	ddb        *dynamodb.Client
}

// Start listens on addr ("127.0.0.1:0" for any free port) and serves.
func Start(addr string) (*DB, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := miniserver.NewServer()
	drops := &connDrops{left: map[string]int{}}
	hs := &http.Server{Handler: dropConnections(drops, serializeTableChanges(idempotentTransactions(srv))), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic("embeddeddb: " + err.Error())
		}
	}()
	return &DB{URL: "http://" + ln.Addr().String(), Server: srv, http: hs, drops: drops}, nil
}

// serializeTableChanges runs each CreateTable, UpdateTable and DeleteTable
// alone. minidyn v0.8.2 changes its table map in these without taking its
// lock, so one of them concurrent with any other request crashes the
// process ("concurrent map read and map write"); parallel tests and the
// event replay create tables while others use theirs.
func serializeTableChanges(next http.Handler) http.Handler {
	var mu sync.RWMutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Amz-Target") {
		case "DynamoDB_20120810.CreateTable", "DynamoDB_20120810.UpdateTable", "DynamoDB_20120810.DeleteTable":
			mu.Lock()
			defer mu.Unlock()
		default:
			mu.RLock()
			defer mu.RUnlock()
		}
		next.ServeHTTP(w, r)
	})
}

// Close stops the server.
func (db *DB) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return db.http.Shutdown(ctx)
}

// FailTable makes every call touching table fail until RecoverTable; other
// tables, and so other tests sharing the server, keep working.
func (db *DB) FailTable(table string) {
	db.Server.EmulateFailureForTable(table, miniserver.FailureConditionInternalServerError)
}

// RecoverTable ends FailTable.
func (db *DB) RecoverTable(table string) {
	db.Server.EmulateFailureForTable(table, miniserver.FailureConditionNone)
}

// idempotencyWindow is how long DynamoDB remembers a ClientRequestToken.
const idempotencyWindow = 10 * time.Minute

// idempotentTransactions gives TransactWriteItems the idempotency DynamoDB
// documents and minidyn v0.8.2 lacks: a request that repeats the
// ClientRequestToken of one that succeeded within the last 10 minutes gets
// that success again and changes nothing; with other parameters it gets
// IdempotentParameterMismatchException. The SDK sets a token on every
// transaction and keeps it across its retries, so a transaction whose
// answer was lost after it committed is not applied twice, on AWS as here.
func idempotentTransactions(next http.Handler) http.Handler {
	type done struct {
		sum    [32]byte
		header http.Header
		body   []byte
		at     time.Time
	}
	var (
		mu   sync.Mutex
		seen = map[string]done{}
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "DynamoDB_20120810.TransactWriteItems" {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var in struct{ ClientRequestToken string }
		_ = json.Unmarshal(body, &in)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if in.ClientRequestToken == "" {
			next.ServeHTTP(w, r)
			return
		}
		sum, now := sha256.Sum256(body), time.Now()
		mu.Lock()
		for tok, d := range seen {
			if now.Sub(d.at) > idempotencyWindow {
				delete(seen, tok)
			}
		}
		d, ok := seen[in.ClientRequestToken]
		mu.Unlock()
		switch {
		case ok && d.sum == sum:
			for k, v := range d.header {
				w.Header()[k] = v
			}
			_, _ = w.Write(d.body)
			return
		case ok:
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",`+
				`"message":"The request uses the same client token as a previous, but non-identical request."}`)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			mu.Lock()
			seen[in.ClientRequestToken] = done{sum: sum, header: rec.Header().Clone(), body: rec.Body.Bytes(), at: now}
			mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// SweepExpired deletes the items of table whose TTL attribute (epoch
// seconds) is before now, as DynamoDB's TTL process does in the background
// (DynamoDB takes up to a few days; readers must check expiry themselves,
// and the API's do). minidyn keeps every item forever, so a long-lived
// local server would otherwise hold every spent throttle window, used
// email token and expired session it ever wrote, and every Query and
// transaction of the embedded store costs in proportion to the table.
// Each delete is conditional on the item still being expired. It returns
// how many items went.
func (db *DB) SweepExpired(ctx context.Context, table, ttlAttribute string, now time.Time) (int, error) {
	c := db.client()
	desc, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return 0, err
	}
	var keyNames []string
	for _, k := range desc.Table.KeySchema {
		keyNames = append(keyNames, aws.ToString(k.AttributeName))
	}
	names := map[string]string{"#ttl": ttlAttribute}
	var projection []string
	for i, k := range keyNames {
		n := fmt.Sprintf("#k%d", i)
		names[n] = k
		projection = append(projection, n)
	}
	cutoff := map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}}
	deleted := 0
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{
		TableName:                 aws.String(table),
		FilterExpression:          aws.String("#ttl < :now"),
		ProjectionExpression:      aws.String(strings.Join(projection, ", ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: cutoff,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return deleted, err
		}
		for _, key := range page.Items {
			_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{
				TableName:                 aws.String(table),
				Key:                       key,
				ConditionExpression:       aws.String("#ttl < :now"),
				ExpressionAttributeNames:  map[string]string{"#ttl": ttlAttribute},
				ExpressionAttributeValues: cutoff,
			})
			var ccf *types.ConditionalCheckFailedException
			switch {
			case errors.As(err, &ccf): // renewed since the scan
			case err != nil:
				return deleted, err
			default:
				deleted++
			}
		}
	}
	return deleted, nil
}

// SweepEvery runs SweepExpired on table every interval, by the clock now,
// until ctx ends; errors go to onErr (if not nil).
func (db *DB) SweepEvery(ctx context.Context, interval time.Duration, table, ttlAttribute string, now func() time.Time, onErr func(error)) {
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if _, err := db.SweepExpired(ctx, table, ttlAttribute, now()); err != nil && ctx.Err() == nil && onErr != nil {
				onErr(err)
			}
		}
	}()
}

// PutItems writes items into table as they are, 25 to a BatchWriteItem,
// past any rule of the store: for tests and benchmarks that need many
// items, or items as an older version of the store wrote them.
func (db *DB) PutItems(ctx context.Context, table string, items []map[string]types.AttributeValue) error {
	c := db.client()
	for chunk := range slices.Chunk(items, 25) {
		reqs := make([]types.WriteRequest, len(chunk))
		for i, it := range chunk {
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
		}
		for len(reqs) > 0 {
			out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
			if err != nil {
				return err
			}
			reqs = out.UnprocessedItems[table]
		}
	}
	return nil
}

// client is an SDK client of the embedded store, for its own housekeeping.
func (db *DB) client() *dynamodb.Client {
	db.clientOnce.Do(func() {
		db.ddb = dynamodb.New(dynamodb.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(db.URL), Credentials: aws.AnonymousCredentials{},
			DisableValidateResponseChecksum: true,
		})
	})
	return db.ddb
}
