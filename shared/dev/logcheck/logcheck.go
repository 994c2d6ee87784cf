// Package logcheck holds a function's log lines to package telemetry's
// conventions: every line names the function, every line of a request
// names the invocation, each request ends with one request line, and each
// metrics line is an Embedded Metric Format document CloudWatch would
// accept. The event replay checks every event's lines with it, in process
// and under the Runtime Interface Emulator, and the local server's tests
// check the lines of `make run`.
package logcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pufinid/pufinid-api/shared/telemetry"
)

// Line is one JSON log line.
type Line map[string]any

// Msg is the line's message.
func (l Line) Msg() string { s, _ := l["msg"].(string); return s }

// Parse splits out into its JSON lines and the rest (a runtime's own
// lines: the emulator's, Lambda's START and REPORT).
func Parse(out []byte) (lines []Line, other []string) {
	for raw := range bytes.SplitSeq(out, []byte("\n")) {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		var l Line
		if raw[0] != '{' || json.Unmarshal(raw, &l) != nil {
			other = append(other, string(raw))
			continue
		}
		lines = append(lines, l)
	}
	return lines, other
}

// Invocation checks the lines of one function process that served one
// invocation: init lines (before the request's first) name the function;
// every line from the request's first on also names the invocation, the
// same one throughout; there is one request line; each metrics line is
// valid EMF. coldStart is what the lines must say of it.
func Invocation(lines []Line, coldStart bool) error { return invocation(lines, coldStart, false) }

// EventInvocation is Invocation for an invocation by another event than
// an HTTP request: its lines carry no API Gateway request id, and the one
// line it ends with is its event line (telemetry.EventLine).
func EventInvocation(lines []Line, coldStart bool) error { return invocation(lines, coldStart, true) }

func invocation(lines []Line, coldStart, event bool) error {
	var errs []error
	requestID := ""
	last := 0 // request or event lines
	for i, l := range lines {
		fail := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("line %d (%q): %s", i+1, l.Msg(), fmt.Sprintf(format, args...)))
		}
		if l[telemetry.FieldService] != telemetry.Service {
			fail("%s = %v, want %q", telemetry.FieldService, l[telemetry.FieldService], telemetry.Service)
		}
		if s, _ := l[telemetry.FieldFunctionName].(string); s == "" {
			fail("no %s", telemetry.FieldFunctionName)
		}
		id, _ := l[telemetry.FieldAWSRequestID].(string)
		switch {
		case id == "" && requestID == "":
			continue // an init line
		case id == "":
			fail("no %s, after the invocation's first line", telemetry.FieldAWSRequestID)
			continue
		case requestID == "":
			requestID = id
		case id != requestID:
			fail("%s %q, want the invocation's %q", telemetry.FieldAWSRequestID, id, requestID)
		}
		if s, _ := l[telemetry.FieldAPIGWRequestID].(string); s == "" && !event {
			fail("no %s", telemetry.FieldAPIGWRequestID)
		}
		if l[telemetry.FieldColdStart] != coldStart {
			fail("%s = %v, want %v", telemetry.FieldColdStart, l[telemetry.FieldColdStart], coldStart)
		}
		numbers := func(fields ...string) {
			for _, f := range fields {
				if _, ok := l[f].(float64); !ok {
					fail("%s = %v, want a number", f, l[f])
				}
			}
		}
		switch l.Msg() {
		case "request":
			if event {
				fail("a request line in an event's invocation")
			}
			last++
			if s, _ := l[telemetry.FieldRoute].(string); s == "" {
				fail("no %s", telemetry.FieldRoute)
			}
			numbers(telemetry.FieldStatus, telemetry.FieldLatency)
		case "event":
			if !event {
				fail("an event line in a request's invocation")
			}
			last++
			if s, _ := l[telemetry.FieldEventSource].(string); s == "" {
				fail("no %s", telemetry.FieldEventSource)
			}
			numbers(telemetry.FieldRecords, telemetry.FieldIgnored, telemetry.FieldLatency)
		case "metrics":
			if err := EMF(l); err != nil {
				fail("%v", err)
			}
			if _, ok := l[string(telemetry.ColdStart)]; ok != coldStart {
				fail("ColdStart metric present %v, want %v", ok, coldStart)
			}
		}
	}
	if last != 1 {
		kind := "request"
		if event {
			kind = "event"
		}
		errs = append(errs, fmt.Errorf("%d %s lines, want 1", last, kind))
	}
	return errors.Join(errs...)
}

// EMF checks that l is an Embedded Metric Format document as CloudWatch
// Logs' specification has it: _aws with a Timestamp in milliseconds and
// CloudWatchMetrics directives; each directive's Namespace, its dimension
// sets (at most 30 keys each, every key a string member of the line) and
// metrics (at most 100, every name a number member of the line).
func EMF(l Line) error {
	meta, ok := l["_aws"].(map[string]any)
	if !ok {
		return errors.New("no _aws object")
	}
	if ts, ok := meta["Timestamp"].(float64); !ok || ts < 1e12 {
		return fmt.Errorf("_aws.Timestamp = %v, want epoch milliseconds", meta["Timestamp"])
	}
	directives, ok := meta["CloudWatchMetrics"].([]any)
	if !ok || len(directives) == 0 {
		return errors.New("_aws.CloudWatchMetrics is not a non-empty array")
	}
	for i, d := range directives {
		d, _ := d.(map[string]any)
		if ns, _ := d["Namespace"].(string); ns != telemetry.Namespace {
			return fmt.Errorf("directive %d: Namespace %v, want %q", i, d["Namespace"], telemetry.Namespace)
		}
		sets, _ := d["Dimensions"].([]any)
		if len(sets) == 0 {
			return fmt.Errorf("directive %d: no dimension sets", i)
		}
		for _, set := range sets {
			keys, _ := set.([]any)
			if len(keys) == 0 || len(keys) > 30 {
				return fmt.Errorf("directive %d: dimension set %v: want 1 to 30 keys", i, set)
			}
			for _, k := range keys {
				name, _ := k.(string)
				if v, ok := l[name].(string); !ok || v == "" {
					return fmt.Errorf("directive %d: dimension %v is not a string member of the line", i, k)
				}
			}
		}
		metrics, _ := d["Metrics"].([]any)
		if len(metrics) == 0 || len(metrics) > 100 {
			return fmt.Errorf("directive %d: %d metrics, want 1 to 100", i, len(metrics))
		}
		for _, m := range metrics {
			m, _ := m.(map[string]any)
			name, _ := m["Name"].(string)
			if !slices.Contains(telemetry.Metrics, telemetry.Metric(name)) {
				return fmt.Errorf("directive %d: metric %q is not one of telemetry.Metrics", i, name)
			}
			if _, ok := l[name].(float64); !ok {
				return fmt.Errorf("directive %d: metric %s has no number member", i, name)
			}
			if unit, _ := m["Unit"].(string); unit != "Count" {
				return fmt.Errorf("directive %d: metric %s unit %v, want Count", i, name, m["Unit"])
			}
		}
	}
	return nil
}

// Metrics sums the metric values of every metrics line.
func Metrics(lines []Line) map[string]float64 {
	sum := map[string]float64{}
	for _, l := range lines {
		if l.Msg() != "metrics" {
			continue
		}
		for _, m := range telemetry.Metrics {
			if v, ok := l[string(m)].(float64); ok {
				sum[string(m)] += v
			}
		}
	}
	return sum
}

// String renders lines for a failure message.
func String(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		j, _ := json.Marshal(l)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}
