// Package apitest runs a group's handler the way Lambda does, for tests and
// benchmarks: each request becomes an API Gateway HTTP API (payload 2.0)
// event, goes through aws-lambda-go-api-proxy's adapter into the handler,
// and the handler talks through the real aws-sdk-go-v2 client to the
// embedded DynamoDB (a fresh table per Env). Every response is checked
// against docs/openapi.yaml.
package apitest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pufinid/pufinid-api/shared/dev/ddbfault"
	"github.com/pufinid/pufinid-api/shared/dev/ddbmeter"
	"github.com/pufinid/pufinid-api/shared/dev/embeddeddb"
	"github.com/pufinid/pufinid-api/shared/dev/gateway"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/token"
	"github.com/pufinid/pufinid-api/shared/web"
)

// SigningKeys is the tests' private signing key set: one current Ed25519
// key, from a fixed seed. Every Env publishes its public set in its table,
// where the verifying functions read it, as in a deployment.
var SigningKeys = func() token.KeySet {
	priv := ed25519.NewKeyFromSeed([]byte("apitest-signing-key-seed-0123456"))
	pub := priv.Public().(ed25519.PublicKey)
	return token.KeySet{Keys: []token.Key{{ID: token.Thumbprint(pub), State: token.KeyCurrent, Public: pub, Private: priv}}}
}()

var (
	dbOnce   sync.Once
	sharedDB *embeddeddb.DB
	dbErr    error
	tableSeq atomic.Int64
)

// DB returns the embedded DynamoDB shared by the tests of one process.
func DB(tb testing.TB) *embeddeddb.DB {
	tb.Helper()
	dbOnce.Do(func() { sharedDB, dbErr = embeddeddb.Start("") })
	if dbErr != nil {
		tb.Fatalf("start embedded DynamoDB: %v", dbErr)
	}
	return sharedDB
}

// Env is one test's world: a fresh table, a clock, a token issuer.
type Env struct {
	TB    testing.TB
	DB    *embeddeddb.DB
	Store *store.Store
	// Inspect is a second client of Store's table, never given faults, for
	// tests to look at the table with.
	Inspect  *store.Store
	Requests *atomic.Int64 // DynamoDB requests sent through Store (Meter.Requests)
	// Meter counts what Store's calls, and those of the functions set up
	// with FunctionEnv, ask of the table: requests, items and read units.
	Meter *ddbmeter.Meter
	// Faults injects DynamoDB's transient answers into Store's calls when
	// PUFINID_DYNAMODB_FAULTS is set (the test suite's fault run); nil
	// otherwise.
	Faults *ddbfault.Injector
	Tokens *token.Issuer
	Clock  *Clock
	Log    *slog.Logger
	// apiOptions are Store's middleware (the checks, the faults), which
	// FunctionEnv gives the functions' own clients.
	apiOptions []func(*middleware.Stack) error
	// keysOnce publishes SigningKeys in the table for the first
	// FunctionEnv: the functions it sets up verify with the published set.
	keysOnce *sync.Once
}

// New returns an Env with an empty table of its own.
func New(tb testing.TB) *Env {
	tb.Helper()
	return newEnv(tb, faultsFromEnv(tb))
}

// NewFaulty is New with faults injected into Store's calls as sp says,
// whatever the environment. Inspect reads the same table without them.
func NewFaulty(tb testing.TB, sp ddbfault.Spec) *Env {
	tb.Helper()
	return newEnv(tb, ddbfault.New(sp))
}

func newEnv(tb testing.TB, faults *ddbfault.Injector) *Env {
	tb.Helper()
	db := DB(tb)
	clock := NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	meter := new(ddbmeter.Meter)
	table := fmt.Sprintf("pufinid-test-%d", tableSeq.Add(1))
	apiOptions := []func(*middleware.Stack) error{meter.Install, refuseEmptyCollections(tb), refuseUnusedExpressionAttributes(tb)}
	if faults != nil {
		apiOptions = append(apiOptions, faults.Install)
	}
	st, err := store.Open(context.Background(), store.Options{
		Table: table, Endpoint: db.URL, Now: clock.Now, APIOptions: apiOptions,
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.CreateTable(context.Background()); err != nil {
		tb.Fatal(err)
	}
	inspect, err := store.Open(context.Background(), store.Options{Table: table, Endpoint: db.URL, Now: clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	tokens := token.NewIssuer(token.StaticKeys(SigningKeys), clock.Now)
	return &Env{TB: tb, DB: db, Store: st, Inspect: inspect, Requests: &meter.Requests, Meter: meter, Faults: faults, Tokens: tokens, Clock: clock, apiOptions: apiOptions, keysOnce: new(sync.Once),
		Log: slog.New(slog.NewJSONHandler(&tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
}

// RequestsMatch reports whether n DynamoDB requests are the want a test
// expects. Under injected faults the store asks again for what DynamoDB
// left unprocessed, reads pages cut short and repeats transactions
// cancelled by conflicts, so there it only needs at least want.
func (e *Env) RequestsMatch(n, want int64) bool {
	if e.Faults != nil {
		return n >= want
	}
	return n == want
}

// faultsFromEnv is the injector PUFINID_DYNAMODB_FAULTS asks for, seeded
// per test so that each test's faults repeat; nil when it is unset. The
// seed comes from the test's name and how many Envs it made before, not
// from the table's number: tests run in parallel and shuffled, so the
// order tables are made in changes from run to run.
func faultsFromEnv(tb testing.TB) *ddbfault.Injector {
	spec := os.Getenv(ddbfault.EnvSpec)
	if spec == "" {
		return nil
	}
	sp, err := ddbfault.ParseSpec(spec)
	if err != nil {
		tb.Fatal(err)
	}
	sp.Seed += faultSeed(tb)
	return ddbfault.New(sp)
}

// envsPerTest counts the Envs each test (by name) has made.
var envsPerTest sync.Map // string -> *atomic.Int64

// faultSeed is tb's share of the fault seed: a hash of its name plus how
// many Envs it has made.
func faultSeed(tb testing.TB) uint64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, tb.Name())
	n, _ := envsPerTest.LoadOrStore(tb.Name(), new(atomic.Int64))
	return h.Sum64() + uint64(n.(*atomic.Int64).Add(1))
}

// Load writes reference data.
func (e *Env) Load(ref pufinid.Reference) {
	e.TB.Helper()
	if err := e.Store.SaveReference(context.Background(), ref); err != nil {
		e.TB.Fatal(err)
	}
}

// PutItems writes items (attribute name to value, marshalled as the SDK's
// attributevalue does) into the table as they are, in batches, past the
// store and its rules: for items in bulk, or as an older version of the
// store wrote them. Requests does not count them.
func (e *Env) PutItems(items ...map[string]any) {
	e.TB.Helper()
	raw := make([]map[string]types.AttributeValue, len(items))
	for i, it := range items {
		m, err := attributevalue.MarshalMap(it)
		if err != nil {
			e.TB.Fatal(err)
		}
		raw[i] = m
	}
	if err := e.DB.PutItems(context.Background(), e.Store.Table(), raw); err != nil {
		e.TB.Fatal(err)
	}
}

// NewKeySet is a key set of one new current key: another deployment's,
// for tokens the API must refuse.
func NewKeySet(tb testing.TB) token.KeySet {
	tb.Helper()
	set, err := token.FirstKeySet(rand.Reader, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return set
}

// PublishKeys publishes set's public keys in st's table, as cmd/keys does
// in a deployment.
func PublishKeys(st *store.Store, set token.KeySet) error {
	doc, err := set.JWKS()
	if err != nil {
		return err
	}
	return st.PublishPublicKeys(context.Background(), doc)
}

// AccessToken mints an access token for userID valid for five minutes,
// without the organization claim, as tokens minted before it was added.
func (e *Env) AccessToken(userID string) string {
	e.TB.Helper()
	return e.AccessTokenOf(userID, "")
}

// AccessTokenOf mints an access token for userID of organization org
// valid for five minutes, as a login mints it.
func (e *Env) AccessTokenOf(userID, org string) string {
	e.TB.Helper()
	s, _, err := e.Tokens.Mint(context.Background(), token.Access, userID, org, 5*time.Minute)
	if err != nil {
		e.TB.Fatal(err)
	}
	return s
}

// Clock is a settable clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Client sends requests to one group's handler through the Lambda adapter.
type Client struct {
	env     *Env
	adapter *httpadapter.HandlerAdapterV2
	routes  *gateway.Table
	seq     atomic.Int64
	// SkipOpenAPI turns response validation off (benchmarks only).
	SkipOpenAPI bool
}

// Client wraps handler, whose routes are routes, as its Lambda would run.
func (e *Env) Client(handler http.Handler, routes []web.Route) *Client {
	var rs []gateway.Route
	for _, r := range routes {
		rs = append(rs, gateway.Route{Method: r.Method, Path: r.Path})
	}
	return &Client{env: e, adapter: httpadapter.NewV2(handler), routes: gateway.NewTable(rs)}
}

// Option changes one request.
type Option func(*http.Request)

// Bearer sends an access token.
func Bearer(tok string) Option {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

// Header sets a request header.
func Header(k, v string) Option { return func(r *http.Request) { r.Header.Set(k, v) } }

// From sends the request from the source address ip, as API Gateway
// reports it (requestContext.http.sourceIp); the default is 198.51.100.7.
func From(ip string) Option {
	return func(r *http.Request) { r.RemoteAddr = net.JoinHostPort(ip, "40000") }
}

// Raw is a body sent as is, with its content type.
type Raw struct {
	ContentType string
	Body        []byte
}

// Response is what the client got.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it cannot.
func (r *Response) JSON(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %d body %q: %v", r.Status, r.Body, err)
	}
}

// Map decodes a JSON object body.
func (r *Response) Map(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	r.JSON(tb, &m)
	return m
}

// Do sends method path with body (nil: none; Raw: as given; anything else:
// JSON) and returns the response, after checking it against the OpenAPI
// document.
func (c *Client) Do(method, path string, body any, opts ...Option) *Response {
	tb := c.env.TB
	tb.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case Raw:
		rd, ct = bytes.NewReader(b.Body), b.ContentType
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		js, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd, ct = bytes.NewReader(js), "application/json"
	}
	req := httptest.NewRequest(method, "https://api.pufinid.test"+path, rd)
	req.RemoteAddr = "198.51.100.7:40000"
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("X-Forwarded-Proto", "https")
	for _, o := range opts {
		o(req)
	}
	resp := c.send(req)
	if !c.SkipOpenAPI {
		CheckOpenAPI(tb, method, path, req.Header, resp)
	}
	return resp
}

func (c *Client) send(req *http.Request) *Response {
	tb := c.env.TB
	tb.Helper()
	route, params, ok := c.routes.Match(req.Method, req.URL.Path)
	if !ok {
		// The group's catch-all route: the function answers 404/405 itself.
		route = gateway.Route{Method: "ANY", Path: "/{proxy+}"}
		params = map[string]string{"proxy": strings.TrimPrefix(req.URL.Path, "/")}
	}
	ev, err := gateway.Event(req, route, params, fmt.Sprintf("req-%d", c.seq.Add(1)), c.env.Clock.Now())
	if err != nil {
		tb.Fatal(err)
	}
	out, err := c.adapter.ProxyWithContext(gateway.Invocation(context.Background(), "apitest"), ev)
	if err != nil {
		tb.Fatalf("%s %s: adapter: %v", req.Method, req.URL.Path, err)
	}
	rec := httptest.NewRecorder()
	if err := gateway.WriteResponse(rec, out); err != nil {
		tb.Fatal(err)
	}
	return &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

type tbWriter struct{ tb testing.TB }

func (w *tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// DropConnections makes the next n DynamoDB requests for this Env's table
// lose their connection without an answer (a transport error, not one of
// DynamoDB's answers), as the store sees now and then on a busy machine.
// Store's client retries them as a deployed function's does (the SDK's
// attempts, see shared/store's retry.go), so fewer drops than attempts
// must cost the caller nothing; Requests counts each call once. Other
// tests' tables keep their connections.
func (e *Env) DropConnections(n int) { e.DB.DropConnections(e.Store.Table(), n) }

// Outage makes DynamoDB fail for this Env's table until the returned
// function is called (tests: `defer env.Outage()()`). Other tests' tables
// keep working, so outage tests may run in parallel.
func (e *Env) Outage() (recover func()) {
	e.DB.FailTable(e.Store.Table())
	return func() { e.DB.RecoverTable(e.Store.Table()) }
}

// For returns e reporting to tb: the same table, clock and tokens, for a
// fuzz target's inputs, which must not report to the *testing.F that made e.
func (e *Env) For(tb testing.TB) *Env {
	c := *e
	c.TB = tb
	c.Log = slog.New(slog.NewJSONHandler(&tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return &c
}
