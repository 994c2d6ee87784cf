// Package telemetry is what the functions tell their operators, in the
// conventions of Powertools for AWS Lambda, with no network call and no
// work at init:
//
//   - Log fields. Every line of a function names it (service,
//     function_name, function_memory_size); every line of a request adds
//     the invocation (aws_request_id, cold_start) and API Gateway's
//     request id (apigw_request_id, the apigw-requestid header of the
//     answer and the requestId of the access log). web.Serve builds the
//     request's logger with Invocation's fields.
//   - Metrics, in CloudWatch's Embedded Metric Format: one JSON line per
//     request on the function's log (stdout in Lambda), which CloudWatch
//     Logs turns into metrics of the namespace Namespace. Handlers count
//     with Count; web.Serve emits the request's counts with Emit.
//
// The field and metric names are here and nowhere else: docs/operations.md
// lists them, and a test holds the two together.
package telemetry

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Log field names (Powertools' where it has one).
const (
	FieldService        = "service"
	FieldFunctionName   = "function_name"
	FieldFunctionMemory = "function_memory_size"
	FieldColdStart      = "cold_start"
	FieldAWSRequestID   = "aws_request_id"
	FieldAPIGWRequestID = "apigw_request_id"
	FieldRoute          = "route"
	FieldStatus         = "status"
	FieldLatency        = "latency_ms"
	FieldXRayTraceID    = "xray_trace_id"
	// The event line of a function invoked by other events (EventLine).
	FieldEventSource = "event_source"
	FieldRecords     = "records"
	FieldIgnored     = "ignored"
)

// Fields lists every field name above.
var Fields = []string{
	FieldService, FieldFunctionName, FieldFunctionMemory, FieldColdStart, FieldAWSRequestID,
	FieldAPIGWRequestID, FieldRoute, FieldStatus, FieldLatency, FieldXRayTraceID,
	FieldEventSource, FieldRecords, FieldIgnored,
}

// Service is the service every function belongs to: the dimension all of
// the API's metrics share.
const Service = "pufinid"

// FunctionLogger returns log with the function's fields: its name and
// memory (Lambda's AWS_LAMBDA_FUNCTION_NAME and
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE; the local server passes the logical id
// and no memory).
func FunctionLogger(log *slog.Logger, name, memoryMB string) *slog.Logger {
	args := []any{FieldService, Service, FieldFunctionName, name}
	if mb, err := strconv.Atoi(memoryMB); err == nil {
		args = append(args, FieldFunctionMemory, mb)
	}
	return log.With(args...)
}

// Invocation is what a request's log lines say of the invocation that
// serves it.
type Invocation struct {
	AWSRequestID   string // Lambda's id of the invocation
	APIGWRequestID string // API Gateway's id of the request; "" for other events
	ColdStart      bool   // the first invocation this handler serves
	XRayTraceID    string // when the invocation is traced
}

// Logger returns log with the invocation's fields.
func (inv Invocation) Logger(log *slog.Logger) *slog.Logger {
	args := []any{FieldAWSRequestID, inv.AWSRequestID}
	if inv.APIGWRequestID != "" { // an invocation by another event than API Gateway's has none
		args = append(args, FieldAPIGWRequestID, inv.APIGWRequestID)
	}
	args = append(args, FieldColdStart, inv.ColdStart)
	if inv.XRayTraceID != "" {
		args = append(args, FieldXRayTraceID, inv.XRayTraceID)
	}
	return log.With(args...)
}

// RequestLine writes the one line every request ends with.
func RequestLine(ctx context.Context, log *slog.Logger, method, path, route string, status int, latencyMS float64) {
	log.InfoContext(ctx, "request", "method", method, "path", path, FieldRoute, route, FieldStatus, status, FieldLatency, latencyMS)
}

// Events serves a function's invocations by another event than an HTTP
// request (an SNS message, a Secrets Manager rotation step) the way
// web.Serve serves requests: each gets a logger with the invocation's
// fields, a metrics recorder, the cold start counted on the first, and
// ends with one event line and the metrics line.
type Events struct {
	Log    *slog.Logger
	Source string // the event line's event_source: "aws:sns"
	served atomic.Bool
}

// Serve runs one invocation: handle gets the invocation's context and
// logger, and says how many records the event had and how many it
// ignored.
func (e *Events) Serve(ctx context.Context, handle func(ctx context.Context, log *slog.Logger) (records, ignored int, err error)) error {
	start := time.Now()
	inv := Invocation{ColdStart: !e.served.Swap(true)}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		inv.AWSRequestID = lc.AwsRequestID
	}
	log := inv.Logger(e.Log)
	ctx, metrics := WithRecorder(ctx)
	if inv.ColdStart {
		Count(ctx, ColdStart)
	}
	records, ignored, err := handle(ctx, log)
	end := time.Now()
	EventLine(ctx, log, e.Source, records, ignored, err, float64(end.Sub(start).Microseconds())/1000)
	metrics.Emit(ctx, log, end, "")
	return err
}

// EventLine writes the one line every invocation by another event than an
// HTTP request ends with: the event's source (aws:sns), its records, how
// many of them were recorded or ignored, and the latency.
func EventLine(ctx context.Context, log *slog.Logger, source string, records, ignored int, err error, latencyMS float64) {
	args := []any{FieldEventSource, source, FieldRecords, records, FieldIgnored, ignored, FieldLatency, latencyMS}
	if err != nil {
		log.ErrorContext(ctx, "event", append(args, "err", err.Error())...)
		return
	}
	log.InfoContext(ctx, "event", args...)
}
