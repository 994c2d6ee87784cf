package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pufinid/pufinid-api/shared/awsenv"
	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/lambdarun"
	"github.com/pufinid/pufinid-api/shared/dev/logcheck"
	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
	"github.com/pufinid/pufinid-api/shared/store"
)

// eventOutcome is what an event function's expectation holds: its answer
// (null for none, or the error Lambda reports) and every item the event
// added or changed, in key order.
type eventOutcome struct {
	Answer  json.RawMessage  `json:"answer"`
	Written []map[string]any `json:"written"`
}

// invokeEvent replays ev to f, a function outside the HTTP API, and
// returns its outcome, canonical.
func (r *Replayer) invokeEvent(ctx context.Context, ev Event, f samtemplate.Function, target string) ([]byte, error) {
	raw, env, _, err := r.prepareEvent(ctx, ev)
	if err != nil {
		return nil, err
	}
	before, err := r.items(ctx, env[config.EnvTable])
	if err != nil {
		return nil, err
	}
	logs := &lockedBuffer{}
	logOut := io.MultiWriter(logs, r.opts.Logs)
	var out []byte
	switch target {
	case InProcess:
		log := config.FunctionLogger(mapEnv(env), logOut)
		h, err := r.opts.EventSetups[f.LogicalID](ctx, config.Env{Getenv: mapEnv(env), Log: log})
		if err != nil {
			return nil, fmt.Errorf("%s: %s does not start: %w", ev.Path, f.LogicalID, err)
		}
		ictx := lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "replay-" + ev.Path})
		out, err = h.Invoke(ictx, raw)
		if err != nil {
			// What the runtime reports for a handler's error.
			out, _ = json.Marshal(map[string]string{"errorMessage": err.Error()})
		}
	case Emulator:
		p, o, _, err := lambdarun.Cold(ctx, lambdarun.Config{RIE: r.opts.RIE, Bootstrap: r.bootstraps[f.LogicalID], Env: env, Output: logOut}, raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ev.Path, err)
		}
		p.Close()
		out = errorMessageOnly(o)
	}
	if lines, _ := logcheck.Parse(logs.Bytes()); logcheck.EventInvocation(lines, true) != nil {
		return nil, fmt.Errorf("%s: the function's log lines break telemetry's conventions: %w\n%s",
			ev.Path, logcheck.EventInvocation(lines, true), logcheck.String(lines))
	}
	after, err := r.items(ctx, env[config.EnvTable])
	if err != nil {
		return nil, err
	}
	o := eventOutcome{Answer: out, Written: []map[string]any{}}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range after {
			if !yield(k) {
				return
			}
		}
	}) {
		a, _ := json.Marshal(after[k])
		b, _ := json.Marshal(before[k])
		if string(a) != string(b) {
			it := after[k]
			// A TTL reckoned from the clock of the run is volatile; the
			// function's own tests check its value.
			if _, ok := it[store.AttrTTL]; ok {
				it[store.AttrTTL] = "{{TTL}}"
			}
			o.Written = append(o.Written, it)
		}
	}
	b, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	return canonicalEvent(b)
}

// canonicalEvent is an event function's expectation in one layout,
// refusing fields it does not know.
func canonicalEvent(b []byte) ([]byte, error) {
	var o eventOutcome
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return nil, err
	}
	if o.Written == nil {
		o.Written = []map[string]any{}
	}
	return marshal(o)
}

// errorMessageOnly keeps, of a runtime error answer, its errorMessage:
// the emulator adds the error's Go type and a stack trace.
func errorMessageOnly(out []byte) []byte {
	var e struct {
		ErrorMessage *string `json:"errorMessage"`
	}
	if json.Unmarshal(out, &e) == nil && e.ErrorMessage != nil {
		b, _ := json.Marshal(map[string]string{"errorMessage": *e.ErrorMessage})
		return b
	}
	return out
}

// items reads the whole of a replay's table (the demo fixture and what
// the event added), by "pk sk".
func (r *Replayer) items(ctx context.Context, table string) (map[string]map[string]any, error) {
	db := dynamodb.NewFromConfig(awsenv.Config(func(string) string { return "" }, awsenv.Options{Endpoint: r.db.URL}),
		func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(r.db.URL) })
	out := map[string]map[string]any{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				return nil, err
			}
			out[fmt.Sprint(m["pk"], " ", m["sk"])] = m
		}
	}
	return out, nil
}
