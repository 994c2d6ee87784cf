package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pufinid/pufinid-api/functions"
	"github.com/pufinid/pufinid-api/shared/dev/gateway"
	"github.com/pufinid/pufinid-api/shared/dev/lambdarun"
	"github.com/pufinid/pufinid-api/shared/dev/module"
	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
)

var update = flag.Bool("update", false, "rewrite events/**/*.expected.json from the in-process answers")

func mustRoot(t *testing.T) string {
	t.Helper()
	root, err := module.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestReplay replays every event in process and through the Runtime
// Interface Emulator, as `make replay` does. `go test ./shared/dev/replay -update`
// rewrites the expectations.
func TestReplay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := NewReplayer(ctx, Options{Root: mustRoot(t), Setups: functions.Setups(), EventSetups: functions.EventSetups(), Update: *update})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rep, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for fn, why := range rep.Missing {
		t.Errorf("%s cannot be replayed: %s", fn, why)
	}
	for _, res := range rep.Results {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(res.Event, "events/"), ".json")+"/"+res.Target, func(t *testing.T) {
			switch {
			case res.Err != nil:
				t.Error(res.Err)
			case res.Skipped != "":
				t.Skip(res.Skipped)
			}
		})
	}
	if r.sesMissing != "" && os.Getenv("CI") == "true" {
		// CI installs the emulator (.ci/run: npm ci), so its absence there is a failure.
		t.Errorf("the SES emulator is missing under CI: %s", r.sesMissing)
	}
	if r.sesMissing != "" {
		t.Logf("the users function's bootstrap was not replayed, and the policies not checked: %s", r.sesMissing)
	}
	t.Run("policies allow exactly what the functions call", func(t *testing.T) {
		if r.sesMissing != "" {
			t.Skip("not every event was replayed through the emulator")
		}
		for _, p := range rep.Policy {
			t.Error(p)
		}
		for fn, acts := range rep.Actions {
			if len(acts) == 0 {
				t.Errorf("%s made no AWS call at all in the replay: are its events replayed?", fn)
			}
		}
	})
}

func mustTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.LoadModule(".")
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func mustEvents(t *testing.T) []Event {
	t.Helper()
	r := &Replayer{opts: Options{Root: mustRoot(t)}, tmpl: mustTemplate(t)}
	evs, err := r.Events()
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// Each event is what API Gateway would send for its request: the route
// key is the route API Gateway picks for the method and path (so
// `sam local invoke` and a deployed function see the same), and the event
// has the fields of `sam local generate-event apigateway http-api-proxy`.
func TestEventsAreTheEventsAPIGatewaySends(t *testing.T) {
	tmpl := mustTemplate(t)
	routes := gateway.NewTable(tmpl.Routes())
	for _, ev := range mustEvents(t) {
		t.Run(ev.Path, func(t *testing.T) {
			raw, err := fill(ev.Raw, sampleValues)
			if err != nil {
				t.Fatal(err)
			}
			if f, _ := tmpl.Function(ev.Function); !f.InAPI() {
				checkSNSEvent(t, f, raw)
				return
			}
			var req events.APIGatewayV2HTTPRequest
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil {
				t.Fatalf("not a payload 2.0 event: %v", err)
			}
			hd := req.RequestContext.HTTP
			if req.Version != "2.0" || req.RawPath == "" || hd.Method == "" || hd.Path != req.RawPath ||
				req.RequestContext.RequestID == "" || req.RequestContext.Stage != "$default" || req.RequestContext.RouteKey != req.RouteKey ||
				req.Headers["host"] != req.RequestContext.DomainName || hd.SourceIP == "" || req.RequestContext.TimeEpoch == 0 {
				t.Errorf("incomplete event: version %q rawPath %q method %q path %q requestId %q stage %q routeKeys %q/%q host %q/%q sourceIp %q",
					req.Version, req.RawPath, hd.Method, hd.Path, req.RequestContext.RequestID, req.RequestContext.Stage,
					req.RouteKey, req.RequestContext.RouteKey, req.Headers["host"], req.RequestContext.DomainName, hd.SourceIP)
			}
			route, params, ok := routes.Match(hd.Method, req.RawPath)
			switch {
			case !ok:
				if req.RouteKey != "$default" || ev.Function != tmpl.DefaultFunction() {
					t.Errorf("no route matches %s %s: the routeKey should be $default, for %s; it is %q, for %s",
						hd.Method, req.RawPath, tmpl.DefaultFunction(), req.RouteKey, ev.Function)
				}
			case route.Key() != req.RouteKey:
				t.Errorf("API Gateway routes %s %s to %q; the event says %q", hd.Method, req.RawPath, route.Key(), req.RouteKey)
			case route.Function != ev.Function:
				t.Errorf("%s belongs to %s, but the event is under events/ of %s", route.Key(), route.Function, ev.Function)
			case len(params) > 0 && !mapsEqual(params, req.PathParameters):
				t.Errorf("path parameters %v, API Gateway fills %v", req.PathParameters, params)
			}
			if req.Body != "" {
				if cl := req.Headers["content-length"]; cl == "" {
					t.Error("a body without content-length")
				}
			}
			if _, err := os.Stat(filepath.Join(mustRoot(t), ev.ExpectedPath())); err != nil {
				t.Errorf("no expectation beside it: %v", err)
			}
		})
	}
}

// greedy path parameters keep or lose a trailing slash depending on the
// request; only named ones must agree exactly.
func mapsEqual(want, got map[string]string) bool {
	for k, v := range want {
		if strings.TrimSuffix(got[k], "/") != strings.TrimSuffix(v, "/") {
			return false
		}
	}
	return len(want) == len(got)
}

var sampleValues = map[string]string{
	"USER_ID": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f", "USER_EMAIL": anaEmail, "USERNAME": anaUsername, "USER_PASSWORD": anaPassword,
	"ACCESS_TOKEN": "eyJa.eyJb.c", "REFRESH_TOKEN": "eyJa.eyJb.d", "CONFIRM_TOKEN": "tok", "RESET_TOKEN": "tok2",
}

func TestEveryRouteHasAnEvent(t *testing.T) {
	tmpl := mustTemplate(t)
	have := map[string]bool{}
	for _, ev := range mustEvents(t) {
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(ev.Raw, &req); err != nil {
			t.Fatalf("%s: %v", ev.Path, err)
		}
		have[ev.Function+" "+req.RouteKey] = true
	}
	for _, f := range tmpl.Functions {
		keys := []string{}
		for _, r := range f.Routes {
			keys = append(keys, r.Key())
		}
		if f.DefaultRoute {
			keys = append(keys, "$default")
		}
		for _, k := range keys {
			if !have[f.LogicalID+" "+k] {
				t.Errorf("%s: no event in events/%s/ for its route %s", f.LogicalID, strings.TrimPrefix(lambdarun.Dir(f.LogicalID), "functions/"), k)
			}
		}
	}
}

func TestNormalizeReplacesOnlyVolatileParts(t *testing.T) {
	now := time.Now().UTC().Format(time.RFC3339)
	vals := map[string]string{"USER_ID": "11111111-2222-4333-8444-555555555555", "ACCESS_TOKEN": "eyJhbGc.eyJzdWI.sig"}
	stable := map[string]bool{"a499459d-d34e-4d7e-9836-8effc6707572": true}
	tests := []struct {
		name string
		resp events.APIGatewayV2HTTPResponse
		want string
	}{
		{"a filled-in value becomes its placeholder, also inside a string",
			events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"},
				Body: `{"id":"11111111-2222-4333-8444-555555555555","link":"/v1/users/11111111-2222-4333-8444-555555555555/"}`},
			`{"statusCode":200,"headers":{"content-type":"application/json"},"body":{"id":"{{USER_ID}}","link":"/v1/users/{{USER_ID}}/"}}`},
		{"new tokens, new ids and timestamps of now are replaced; fixture ids and dates are kept",
			events.APIGatewayV2HTTPResponse{StatusCode: 201, Headers: map[string]string{"content-type": "application/json"},
				Body: `{"access":"eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.abc-_","id":"9f8e7d6c-5b4a-4321-8fed-cba987654321","org":"a499459d-d34e-4d7e-9836-8effc6707572","at":"` + now + `","active":"2019-08-24T14:15:22Z","n":1.50}`},
			`{"statusCode":201,"headers":{"content-type":"application/json"},"body":{"access":"{{JWT}}","active":"2019-08-24T14:15:22Z","at":"{{NOW}}","id":"{{UUID}}","n":1.50,"org":"a499459d-d34e-4d7e-9836-8effc6707572"}}`},
		{"headers that matter are kept, lower-cased, others dropped; a non-JSON body is a string",
			events.APIGatewayV2HTTPResponse{StatusCode: 405, Headers: map[string]string{"Allow": "GET, HEAD", "Date": "x"},
				MultiValueHeaders: map[string][]string{"Content-Type": {"text/plain"}}, Body: "nope"},
			`{"statusCode":405,"headers":{"allow":"GET, HEAD","content-type":"text/plain"},"body":"nope"}`},
		{"a base64 body is decoded; no body, no body field",
			events.APIGatewayV2HTTPResponse{StatusCode: 204, IsBase64Encoded: true, Body: ""},
			`{"statusCode":204}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalize(tt.resp, vals, stable)
			if err != nil {
				t.Fatal(err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, got); err != nil {
				t.Fatal(err)
			}
			if compact.String() != tt.want {
				t.Errorf("got  %s\nwant %s", compact.String(), tt.want)
			}
		})
	}
}

func TestFill(t *testing.T) {
	tests := []struct {
		name, raw string
		vals      map[string]string
		want      string
		wantErr   string
	}{
		{"fills every occurrence", `{"a":"{{USER_ID}}","b":"x{{USER_ID}}"}`, map[string]string{"USER_ID": "u-1"}, `{"a":"u-1","b":"xu-1"}`, ""},
		{"nothing to fill", `{"a":1}`, nil, `{"a":1}`, ""},
		{"an unknown placeholder is an error naming it", `{"a":"{{SESSION}}"}`, map[string]string{}, "", "unknown placeholder {{SESSION}}"},
		{"a value that would break the JSON is an error", `{"a":"{{RESET_TOKEN}}"}`, map[string]string{"RESET_TOKEN": `a"b`}, "", "need escaping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fill([]byte(tt.raw), tt.vals)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("got %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestDiffShowsTheChangedLines(t *testing.T) {
	want := "{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3,\n  \"d\": 4,\n  \"e\": 5,\n  \"f\": 6\n}"
	got := strings.Replace(want, `"b": 2`, `"b": 20`, 1)
	d := diff(want, got)
	for _, line := range []string{`-   "b": 2,`, `+   "b": 20,`, `    "a": 1,`} {
		if !strings.Contains(d, line+"\n") {
			t.Errorf("diff lacks %q:\n%s", line, d)
		}
	}
	if strings.Contains(d, `"f": 6`) {
		t.Errorf("diff shows lines far from the change:\n%s", d)
	}
}

func TestDynamoActionsOfATransactionAreItsItems(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.TransactWriteItems")
	got := dynamoActions(req, []byte(`{"TransactItems":[{"Put":{}},{"ConditionCheck":{}},{"Delete":{}},{"Update":{}}]}`))
	want := []string{"dynamodb:PutItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.Query")
	if got := dynamoActions(req, nil); !slices.Equal(got, []string{"dynamodb:Query"}) {
		t.Errorf("Query: %v", got)
	}
}

func TestCheckPolicies(t *testing.T) {
	read := samtemplate.Policy{Template: "DynamoDBReadPolicy"}
	crud := samtemplate.Policy{Template: "DynamoDBCrudPolicy"}
	ses := samtemplate.Policy{Statements: []samtemplate.Statement{{Effect: "Allow", Actions: []string{"ses:SendEmail"}, Resources: []string{"*"}}}}
	accept := samtemplate.Policy{Statements: []samtemplate.Statement{{Effect: "Allow", Actions: []string{"dynamodb:PutItem", "dynamodb:ConditionCheckItem"}, Resources: []string{"t"}}}}
	tests := []struct {
		name     string
		policies []samtemplate.Policy
		used     []string
		want     []string // substrings, one per problem
	}{
		{"a reader with a read policy", []samtemplate.Policy{read}, []string{"dynamodb:Query", "dynamodb:GetItem"}, nil},
		{"a write the policies do not allow", []samtemplate.Policy{read}, []string{"dynamodb:PutItem"}, []string{"calls dynamodb:PutItem"}},
		{"an inline statement allows what it lists", []samtemplate.Policy{read, accept}, []string{"dynamodb:PutItem", "dynamodb:ConditionCheckItem"}, nil},
		{"a reader given write access",
			[]samtemplate.Policy{crud}, []string{"dynamodb:Query"},
			[]string{"allow dynamodb:PutItem", "allow dynamodb:UpdateItem", "allow dynamodb:DeleteItem", "allow dynamodb:BatchWriteItem"}},
		{"email allowed to a function that sends none", []samtemplate.Policy{crud, ses}, []string{"dynamodb:PutItem"}, []string{"allow ses:SendEmail"}},
		{"email sent without the policy", []samtemplate.Policy{crud}, []string{"dynamodb:PutItem", "ses:SendEmail"}, []string{"calls ses:SendEmail"}},
		{"an unknown policy template", []samtemplate.Policy{{Template: "S3CrudPolicy"}}, nil, []string{"S3CrudPolicy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkPolicies(samtemplate.Function{LogicalID: "F", Policies: tt.policies}, tt.used)
			if len(got) != len(tt.want) {
				t.Fatalf("problems %q, want %d like %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %q, want one about %q", got[i], w)
				}
			}
		})
	}
}

// checkSNSEvent checks an event of a function outside the HTTP API: an
// SNS event as Lambda delivers it, to a function SNS invokes.
func checkSNSEvent(t *testing.T, f samtemplate.Function, raw []byte) {
	t.Helper()
	if !slices.Contains(f.EventSources, "SNS") {
		t.Fatalf("%s: events/ holds an SNS event, but %s has no SNS event source (%v)", f.LogicalID, f.LogicalID, f.EventSources)
	}
	var ev events.SNSEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("not an SNS event: %v", err)
	}
	if len(ev.Records) != 1 {
		t.Errorf("%d records; SNS delivers one per invocation", len(ev.Records))
	}
	for _, r := range ev.Records {
		if r.EventSource != "aws:sns" || r.EventVersion != "1.0" || r.SNS.Type != "Notification" || r.SNS.MessageID == "" ||
			r.SNS.TopicArn == "" || r.SNS.Message == "" || r.SNS.Timestamp.IsZero() || r.SNS.SignatureVersion == "" {
			t.Errorf("incomplete record: %+v", r)
		}
	}
}
