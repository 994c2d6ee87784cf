package logcheck_test

import (
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/logcheck"
)

const (
	fn      = `"service":"pufinid","function_name":"F"`
	inv     = fn + `,"aws_request_id":"a1","apigw_request_id":"g1","cold_start":true`
	request = `{"msg":"request",` + inv + `,"route":"GET /x","status":200,"latency_ms":1.5}`
	metrics = `{"msg":"metrics",` + inv + `,"ColdStart":1,"_aws":{"Timestamp":1796281200000,"CloudWatchMetrics":[{"Namespace":"PufinID","Dimensions":[["service","function_name"]],"Metrics":[{"Name":"ColdStart","Unit":"Count"}]}]}}`
)

func TestInvocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		out     string
		cold    bool
		wantErr string
	}{
		{name: "init line, request line, metrics", out: `{"msg":"init",` + fn + "}\nSTART RequestId: x\n" + request + "\n" + metrics + "\n", cold: true},
		{name: "no request line", out: metrics, cold: true, wantErr: "0 request lines"},
		{name: "a request line without its function", out: strings.Replace(request, `"function_name":"F",`, "", 1), cold: true, wantErr: "no function_name"},
		{name: "a line of the request without the invocation", out: request + "\n" + `{"msg":"email",` + fn + "}", cold: true, wantErr: "no aws_request_id, after"},
		{name: "two invocations' lines", out: request + "\n" + strings.Replace(request, `"a1"`, `"a2"`, 1), cold: true, wantErr: `want the invocation's "a1"`},
		{name: "cold start wrong", out: request, cold: false, wantErr: "cold_start = true, want false"},
		{name: "request line without route", out: strings.Replace(request, `"route":"GET /x",`, "", 1), cold: true, wantErr: "no route"},
		{name: "status as text", out: strings.Replace(request, `"status":200`, `"status":"200"`, 1), cold: true, wantErr: "status = 200, want a number"},
		{name: "cold start without its metric", out: request + "\n" + strings.Replace(strings.Replace(metrics, `"ColdStart":1,`, `"SignUps":1,`, 1), `"Name":"ColdStart"`, `"Name":"SignUps"`, 1), cold: true, wantErr: "ColdStart metric present false"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lines, _ := logcheck.Parse([]byte(tc.out))
			err := logcheck.Invocation(lines, tc.cold)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestEMFRefusesWhatCloudWatchWouldDrop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, from, to, wantErr string
	}{
		{"valid", "", "", ""},
		{"no _aws", `"_aws"`, `"aws"`, "no _aws"},
		{"timestamp in seconds", `1796281200000`, `1796281200`, "epoch milliseconds"},
		{"other namespace", `"PufinID"`, `"Other"`, "Namespace"},
		{"dimension not on the line", `["service","function_name"]`, `["service","stage"]`, "dimension stage"},
		{"metric without its value", `"ColdStart":1,`, ``, "no number member"},
		{"metric not declared", `"Name":"ColdStart"`, `"Name":"Made-Up"`, "not one of telemetry.Metrics"},
		{"no dimension sets", `"Dimensions":[["service","function_name"]]`, `"Dimensions":[]`, "no dimension sets"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lines, _ := logcheck.Parse([]byte(strings.Replace(metrics, tc.from, tc.to, 1)))
			if len(lines) != 1 {
				t.Fatalf("%d lines", len(lines))
			}
			err := logcheck.EMF(lines[0])
			if tc.wantErr == "" && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
