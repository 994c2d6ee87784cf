package main

import (
	"net/http"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/logcheck"
	"github.com/pufinid/pufinid-api/shared/telemetry"
)

// `make run` writes the lines a deployed function writes: every line of a
// request carries the function, the invocation and API Gateway's request
// id (the one the answer's apigw-requestid header gives), each request
// ends with its request line, and the metrics are valid EMF, counted as
// the requests went.
func TestLocalServerLogsAsLambdaDoes(t *testing.T) {
	base, logs := mustStart(t, nil, nil)
	const email, pass = "lin@example.com", "Difference-Engine-1822"
	type step struct {
		method, path string
		body         any
		bearer       *string
		want         int
	}
	var access string
	steps := []step{
		{"GET", "/v1/terms/", nil, nil, http.StatusOK},
		{"GET", "/v1/terms/", nil, nil, http.StatusOK},
		{"POST", "/v1/users/", map[string]any{"first_name": "Lin", "last_name": "Wu", "email": email,
			"password": pass, "password_confirm": pass, "terms_accepted": []string{"*"}}, nil, http.StatusCreated},
		{"POST", "/v1/token/", map[string]string{"username": email, "password": "wrong " + pass}, nil, http.StatusUnauthorized},
		{"POST", "/v1/token/", map[string]string{"username": email, "password": pass}, nil, http.StatusOK},
		{"GET", "/v1/users/me/", nil, &access, http.StatusOK},
		{"GET", "/v1/faq/nope/", nil, nil, http.StatusNotFound},
	}
	ids := map[string]string{} // apigw-requestid header -> route answered
	for _, s := range steps {
		bearer := ""
		if s.bearer != nil {
			bearer = *s.bearer
		}
		var body []any
		if s.body != nil {
			body = append(body, s.body)
		}
		resp := mustSend(t, s.method, base+s.path, bearer, body...)
		if resp.Status != s.want {
			t.Fatalf("%s %s: %d %s", s.method, s.path, resp.Status, resp.Body)
		}
		if s.path == "/v1/token/" && resp.Status == http.StatusOK {
			access, _ = resp.Map(t)["access"].(string)
		}
		ids[resp.Header.Get("Apigw-Requestid")] = s.method + " " + s.path
	}

	lines, _ := logcheck.Parse(logs.bytes())
	byInvocation := map[string][]logcheck.Line{}
	var order []string
	for _, l := range lines {
		id, _ := l[telemetry.FieldAWSRequestID].(string)
		if id == "" {
			continue // the server's own lines, and each function's init
		}
		if _, seen := byInvocation[id]; !seen {
			order = append(order, id)
		}
		byInvocation[id] = append(byInvocation[id], l)
	}
	if len(order) != len(steps) {
		t.Fatalf("%d invocations in the log, want %d:\n%s", len(order), len(steps), logcheck.String(lines))
	}
	warm := map[string]bool{}
	for _, id := range order {
		group := byInvocation[id]
		fn, _ := group[0][telemetry.FieldFunctionName].(string)
		if err := logcheck.Invocation(group, !warm[fn]); err != nil {
			t.Errorf("invocation %s of %s: %v\n%s", id, fn, err, logcheck.String(group))
		}
		warm[fn] = true
		gw, _ := group[0][telemetry.FieldAPIGWRequestID].(string)
		if _, ok := ids[gw]; !ok {
			t.Errorf("invocation %s: apigw_request_id %q is no answer's apigw-requestid header", id, gw)
		}
	}
	got := logcheck.Metrics(lines)
	want := map[string]float64{"ColdStart": 4, "SignUps": 1, "EmailSent": 1, "LoginFailed": 1, "LoginSucceeded": 1, "4xx": 2}
	for m, n := range want {
		if got[m] != n {
			t.Errorf("metric %s = %v, want %v (all: %v)", m, got[m], n, got)
		}
	}
}
