// Package ddbfault injects DynamoDB's transient answers into a real
// aws-sdk-go-v2 DynamoDB client, as middleware on its stack: transaction
// conflicts, throttling, internal errors, unprocessed batch keys and items,
// Query pages cut short, and writes that commit but whose answer is lost.
// The calls still go over HTTP to a real DynamoDB-compatible store; the
// injected errors are DynamoDB's own JSON error responses, read by the SDK's
// own deserializers and retryer, so the code under test sees what it would
// see from AWS. It is test and development tooling: no function links it.
//
// An Injector is installed with store.Options.APIOptions (Install). Its
// spec, for the local server and the test suite's fault run
// (PUFINID_DYNAMODB_FAULTS), reads "rate=0.05,seed=7,max=2,kinds=all".
package ddbfault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// EnvSpec is the environment variable the local server and the test
// harness read a Spec from.
const EnvSpec = "PUFINID_DYNAMODB_FAULTS"

// Kind is one kind of transient answer.
type Kind string

// The kinds, as DynamoDB gives them.
const (
	// Conflict: a TransactWriteItems cancelled with reason
	// TransactionConflict on one of its items, or a single-item write
	// refused with TransactionConflictException.
	Conflict Kind = "conflict"
	// Throttling: ThrottlingException (HTTP 400).
	Throttling Kind = "throttle"
	// Provisioned: ProvisionedThroughputExceededException (HTTP 400).
	Provisioned Kind = "provisioned"
	// Internal: InternalServerError (HTTP 500).
	Internal Kind = "internal"
	// Unprocessed: a BatchGetItem or BatchWriteItem that leaves some of its
	// keys or items unprocessed, with no error.
	Unprocessed Kind = "unprocessed"
	// ShortPage: a Query page that ends early with a LastEvaluatedKey, as
	// DynamoDB ends one at 1 MB.
	ShortPage Kind = "shortpage"
	// LostAnswer: a write that reaches the store and commits, whose answer
	// is lost on the way back (the connection drops), so the SDK sends it
	// again.
	LostAnswer Kind = "lost"
)

// Kinds is every kind.
var Kinds = []Kind{Conflict, Throttling, Provisioned, Internal, Unprocessed, ShortPage, LostAnswer}

// Spec says what to inject.
type Spec struct {
	// Rate is the chance that an eligible attempt gets a fault (0..1).
	Rate float64
	// Seed makes the choice of faults repeatable for one sequence of calls.
	Seed uint64
	// Kinds to inject; empty means all.
	Kinds []Kind
	// MaxPerCall caps the faults of one SDK call (over its retries); 0 is
	// no cap, so that retries can run out.
	MaxPerCall int
	// KeyAttributes are the table's key attributes, for the keys of
	// unprocessed reads and cut pages; default pk and sk.
	KeyAttributes []string
}

// ParseSpec reads "rate=0.05,seed=7,max=2,kinds=conflict+throttle" (every
// part optional but rate; "kinds=all" is the default), or a bare rate
// ("0.05"). MaxPerCall defaults to 2, below the store's SDK attempts, so a
// spec without max makes retries work harder but never run out.
func ParseSpec(s string) (Spec, error) {
	sp := Spec{Seed: 1, MaxPerCall: 2}
	if r, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		sp.Rate = r
		return sp, sp.check()
	}
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return sp, fmt.Errorf("ddbfault: %q is not key=value", part)
		}
		var err error
		switch k {
		case "rate":
			sp.Rate, err = strconv.ParseFloat(v, 64)
		case "seed":
			sp.Seed, err = strconv.ParseUint(v, 10, 64)
		case "max":
			sp.MaxPerCall, err = strconv.Atoi(v)
		case "kinds":
			if v != "all" {
				for name := range strings.SplitSeq(v, "+") {
					if !slices.Contains(Kinds, Kind(name)) {
						return sp, fmt.Errorf("ddbfault: unknown kind %q (known: %v)", name, Kinds)
					}
					sp.Kinds = append(sp.Kinds, Kind(name))
				}
			}
		default:
			return sp, fmt.Errorf("ddbfault: unknown setting %q", k)
		}
		if err != nil {
			return sp, fmt.Errorf("ddbfault: %s: %w", k, err)
		}
	}
	return sp, sp.check()
}

func (sp Spec) check() error {
	if sp.Rate < 0 || sp.Rate > 1 {
		return fmt.Errorf("ddbfault: rate %v is not within 0..1", sp.Rate)
	}
	if sp.MaxPerCall < 0 {
		return fmt.Errorf("ddbfault: max %d is negative", sp.MaxPerCall)
	}
	return nil
}

// String is the spec in ParseSpec's form.
func (sp Spec) String() string {
	kinds := "all"
	if len(sp.Kinds) > 0 {
		var names []string
		for _, k := range sp.Kinds {
			names = append(names, string(k))
		}
		kinds = strings.Join(names, "+")
	}
	return fmt.Sprintf("rate=%g,seed=%d,max=%d,kinds=%s", sp.Rate, sp.Seed, sp.MaxPerCall, kinds)
}

// Injector injects faults by its Spec and counts what it did. It is safe
// for concurrent use; one Injector may serve several clients.
type Injector struct {
	spec  Spec
	keys  []string
	mu    sync.Mutex
	rng   *rand.Rand
	calls atomic.Int64 // SDK calls (operations)
	tries atomic.Int64 // attempts sent (calls plus the SDK's retries)
	stats sync.Map     // Kind -> *atomic.Int64
}

// New returns an Injector for sp.
func New(sp Spec) *Injector {
	keys := sp.KeyAttributes
	if len(keys) == 0 {
		keys = []string{"pk", "sk"}
	}
	return &Injector{spec: sp, keys: keys, rng: rand.New(rand.NewPCG(sp.Seed, sp.Seed^0x9e3779b97f4a7c15))}
}

// Spec is what the Injector injects.
func (in *Injector) Spec() Spec { return in.spec }

// Stats is what an Injector has done so far.
type Stats struct {
	Calls    int64          // SDK calls seen
	Attempts int64          // attempts sent; Attempts - Calls are the SDK's retries
	Injected map[Kind]int64 // faults injected, by kind
}

// Stats returns the counts so far.
func (in *Injector) Stats() Stats {
	st := Stats{Calls: in.calls.Load(), Attempts: in.tries.Load(), Injected: map[Kind]int64{}}
	in.stats.Range(func(k, v any) bool {
		st.Injected[k.(Kind)] = v.(*atomic.Int64).Load()
		return true
	})
	return st
}

// Total is the number of faults injected.
func (st Stats) Total() int64 {
	var n int64
	for _, v := range st.Injected {
		n += v
	}
	return n
}

// Install is the store.Options.APIOptions entry that adds the Injector to
// a DynamoDB client.
func (in *Injector) Install(st *middleware.Stack) error {
	if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("PufinFaultsTyped", in.typed), middleware.After); err != nil {
		return err
	}
	return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("PufinFaultsProtocol", in.protocol), middleware.After)
}

// call is one SDK call's state across its attempts.
type call struct {
	faults int
	items  int // a transaction's item count, for its cancellation reasons
}

type callKey struct{}

func (in *Injector) enabled(k Kind) bool {
	return len(in.spec.Kinds) == 0 || slices.Contains(in.spec.Kinds, k)
}

// pick decides whether this attempt of c gets a fault, and which of kinds
// (those eligible here).
func (in *Injector) pick(c *call, kinds ...Kind) (Kind, bool) {
	kinds = slices.DeleteFunc(slices.Clone(kinds), func(k Kind) bool { return !in.enabled(k) })
	if len(kinds) == 0 || (in.spec.MaxPerCall > 0 && c.faults >= in.spec.MaxPerCall) {
		return "", false
	}
	in.mu.Lock()
	hit := in.rng.Float64() < in.spec.Rate
	k := kinds[in.rng.IntN(len(kinds))]
	in.mu.Unlock()
	if !hit {
		return "", false
	}
	c.faults++
	v, _ := in.stats.LoadOrStore(k, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	return k, true
}

func (in *Injector) intN(n int) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.rng.IntN(n)
}

// typed injects the faults that change what a call sends or returns with
// no error: unprocessed batch entries and short Query pages.
func (in *Injector) typed(ctx context.Context, mi middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	c := &call{}
	ctx = context.WithValue(ctx, callKey{}, c)
	in.calls.Add(1)
	var withheld map[string][]types.WriteRequest
	switch p := mi.Parameters.(type) {
	case *dynamodb.TransactWriteItemsInput:
		c.items = len(p.TransactItems)
	case *dynamodb.BatchWriteItemInput:
		if _, ok := in.pick(c, Unprocessed); ok {
			cp := *p
			cp.RequestItems, withheld = in.splitWrites(p.RequestItems)
			mi.Parameters = &cp
		}
	}
	out, md, err := next.HandleInitialize(ctx, mi)
	if err != nil {
		return out, md, err
	}
	switch o := out.Result.(type) {
	case *dynamodb.BatchWriteItemOutput:
		if len(withheld) > 0 {
			if o.UnprocessedItems == nil {
				o.UnprocessedItems = map[string][]types.WriteRequest{}
			}
			for t, reqs := range withheld {
				o.UnprocessedItems[t] = append(o.UnprocessedItems[t], reqs...)
			}
		}
	case *dynamodb.BatchGetItemOutput:
		if p, ok := mi.Parameters.(*dynamodb.BatchGetItemInput); ok {
			if _, ok := in.pick(c, Unprocessed); ok {
				in.leaveUnprocessed(p, o)
			}
		}
	case *dynamodb.QueryOutput:
		if len(o.Items) >= 2 && in.hasKeys(o.Items[0]) {
			if _, ok := in.pick(c, ShortPage); ok {
				n := 1 + in.intN(len(o.Items)-1)
				o.Items = o.Items[:n]
				o.Count = int32(n)
				o.LastEvaluatedKey = in.keyOf(o.Items[n-1])
			}
		}
	}
	return out, md, nil
}

// splitWrites keeps the first part of each table's requests to send and
// withholds the rest (at least one), as DynamoDB leaves items unprocessed.
func (in *Injector) splitWrites(all map[string][]types.WriteRequest) (send, withheld map[string][]types.WriteRequest) {
	send, withheld = map[string][]types.WriteRequest{}, map[string][]types.WriteRequest{}
	for t, reqs := range all {
		keep := in.intN(len(reqs))
		if keep > 0 {
			send[t] = reqs[:keep]
		}
		withheld[t] = reqs[keep:]
	}
	if len(send) == 0 {
		// A BatchWriteItem must name at least one item: send none at all
		// by withholding everything but one.
		for t, reqs := range withheld {
			send[t], withheld[t] = reqs[:1], reqs[1:]
			break
		}
	}
	return send, withheld
}

// leaveUnprocessed moves some of the requested keys of each table into
// UnprocessedKeys, dropping what was read for them.
func (in *Injector) leaveUnprocessed(p *dynamodb.BatchGetItemInput, o *dynamodb.BatchGetItemOutput) {
	for t, req := range p.RequestItems {
		if len(req.Keys) == 0 {
			continue
		}
		from := in.intN(len(req.Keys))
		moved := req.Keys[from:]
		movedIDs := map[string]bool{}
		for _, k := range moved {
			movedIDs[in.id(k)] = true
		}
		o.Responses[t] = slices.DeleteFunc(o.Responses[t], func(it map[string]types.AttributeValue) bool {
			return movedIDs[in.id(it)]
		})
		if o.UnprocessedKeys == nil {
			o.UnprocessedKeys = map[string]types.KeysAndAttributes{}
		}
		ka := req
		ka.Keys = append(o.UnprocessedKeys[t].Keys, moved...)
		o.UnprocessedKeys[t] = ka
	}
}

func (in *Injector) hasKeys(it map[string]types.AttributeValue) bool {
	for _, k := range in.keys {
		if _, ok := it[k]; !ok {
			return false
		}
	}
	return true
}

func (in *Injector) keyOf(it map[string]types.AttributeValue) map[string]types.AttributeValue {
	k := map[string]types.AttributeValue{}
	for _, name := range in.keys {
		k[name] = it[name]
	}
	return k
}

// id is an item's key as one string.
func (in *Injector) id(it map[string]types.AttributeValue) string {
	var b strings.Builder
	for _, name := range in.keys {
		if s, ok := it[name].(*types.AttributeValueMemberS); ok {
			b.WriteString(s.Value)
		}
		b.WriteByte(0)
	}
	return b.String()
}

// The operations each protocol fault applies to.
var (
	dataOps   = []string{"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "TransactGetItems"}
	writeOps  = []string{"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
	singleOps = []string{"PutItem", "UpdateItem", "DeleteItem"}
)

// errConnectionLost is what a lost answer looks like to the SDK: the
// connection dropped after the request was sent.
var errConnectionLost = errors.New("ddbfault: read tcp: connection reset by peer (injected, after the write committed)")

// protocol injects, per attempt, DynamoDB's error answers and lost answers.
func (in *Injector) protocol(ctx context.Context, di middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	in.tries.Add(1)
	c, _ := ctx.Value(callKey{}).(*call)
	op := awsmiddleware.GetOperationName(ctx)
	if c == nil || !slices.Contains(dataOps, op) {
		return next.HandleDeserialize(ctx, di)
	}
	kinds := []Kind{Throttling, Provisioned, Internal}
	if op == "TransactWriteItems" || slices.Contains(singleOps, op) {
		kinds = append(kinds, Conflict)
	}
	if slices.Contains(writeOps, op) {
		kinds = append(kinds, LostAnswer)
	}
	kind, ok := in.pick(c, kinds...)
	if !ok {
		return next.HandleDeserialize(ctx, di)
	}
	if kind == LostAnswer {
		out, md, err := next.HandleDeserialize(ctx, di)
		if err != nil {
			return out, md, err
		}
		if r, ok := out.RawResponse.(*smithyhttp.Response); ok && r.Body != nil {
			_, _ = io.Copy(io.Discard, r.Body)
			_ = r.Body.Close()
		}
		return middleware.DeserializeOutput{}, md, &smithyhttp.RequestSendError{Err: errConnectionLost}
	}
	status, body := in.errorAnswer(kind, op, c)
	return rawAnswer(status, body), middleware.Metadata{}, nil
}

// rawAnswer is an HTTP answer of DynamoDB's JSON protocol, for the SDK's
// deserializer to read.
func rawAnswer(status int, body []byte) middleware.DeserializeOutput {
	return middleware.DeserializeOutput{RawResponse: &smithyhttp.Response{Response: &http.Response{
		StatusCode:    status,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"ddbfault"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
	}}}
}

// Answer is a store.Options.APIOptions entry that answers every call, sent
// nowhere, with DynamoDB's HTTP status and JSON body: for tests of answers
// AWS gives that the embedded store never does.
func Answer(status int, body string) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("PufinFaultsAnswer",
			func(context.Context, middleware.DeserializeInput, middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				return rawAnswer(status, []byte(body)), middleware.Metadata{}, nil
			}), middleware.After)
	}
}

// errorAnswer is DynamoDB's HTTP status and JSON error body for kind.
func (in *Injector) errorAnswer(kind Kind, op string, c *call) (int, []byte) {
	const ns = "com.amazonaws.dynamodb.v20120810#"
	answer := func(status int, typ, msg string, extra map[string]any) (int, []byte) {
		m := map[string]any{"__type": typ, "message": msg}
		for k, v := range extra {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return status, b
	}
	switch kind {
	case Conflict:
		if op != "TransactWriteItems" {
			return answer(400, ns+"TransactionConflictException", "Transaction is ongoing for the item", nil)
		}
		n := max(c.items, 1)
		reasons := make([]map[string]string, n)
		names := make([]string, n)
		hit := in.intN(n)
		for i := range reasons {
			reasons[i], names[i] = map[string]string{"Code": "None"}, "None"
			if i == hit {
				reasons[i] = map[string]string{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
				names[i] = "TransactionConflict"
			}
		}
		return answer(400, ns+"TransactionCanceledException",
			"Transaction cancelled, please refer cancellation reasons for specific reasons ["+strings.Join(names, ", ")+"]",
			map[string]any{"CancellationReasons": reasons})
	case Throttling:
		return answer(400, "com.amazon.coral.availability#ThrottlingException", "Rate of requests exceeds the allowed throughput.", nil)
	case Provisioned:
		return answer(400, ns+"ProvisionedThroughputExceededException",
			"The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.", nil)
	default:
		return answer(500, ns+"InternalServerError", "Internal server error", nil)
	}
}
