package telemetry

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of the API's metrics.
const Namespace = "PufinID"

// Metric is one of the API's metrics, a count.
type Metric string

// The metrics. Each is a count per request; CloudWatch sums them.
const (
	ColdStart       Metric = "ColdStart"       // a function's first invocation in its execution environment
	SignUps         Metric = "SignUps"         // accounts created
	LoginSucceeded  Metric = "LoginSucceeded"  // tokens issued for a username and password
	LoginFailed     Metric = "LoginFailed"     // wrong credentials (401)
	LoginThrottled  Metric = "LoginThrottled"  // password checks refused by the throttle (429)
	TokenRefreshed  Metric = "TokenRefreshed"  // access tokens issued for a refresh token
	EmailSent       Metric = "EmailSent"       // emails SES accepted
	EmailThrottled  Metric = "EmailThrottled"  // emails not sent because the address had its share
	EmailFailed     Metric = "EmailFailed"     // emails SES refused or could not be reached for
	EmailSuppressed Metric = "EmailSuppressed" // emails not sent because SES reported the address as bouncing or complaining
	// What SES reports back (the email feedback function), per recipient.
	EmailBounced     Metric = "EmailBounced"     // hard bounces: the address is suppressed
	EmailSoftBounced Metric = "EmailSoftBounced" // soft bounces, counted only
	EmailComplained  Metric = "EmailComplained"  // complaints: the address is suppressed
	EmailDelivered   Metric = "EmailDelivered"   // deliveries
	// Messages on the feedback topic that are no SES report it can use.
	EmailFeedbackIgnored Metric = "EmailFeedbackIgnored"
	ClientErrors         Metric = "4xx"             // answers 400 to 499, by route
	ServerErrors         Metric = "5xx"             // answers 500 and up, by route
	DynamoDBRetries      Metric = "DynamoDBRetries" // DynamoDB calls repeated after a transient answer
)

// Metrics lists every metric, in the order of the docs.
var Metrics = []Metric{
	ColdStart, SignUps, LoginSucceeded, LoginFailed, LoginThrottled, TokenRefreshed,
	EmailSent, EmailThrottled, EmailFailed, EmailSuppressed, EmailBounced, EmailSoftBounced, EmailComplained,
	EmailDelivered, EmailFeedbackIgnored, ClientErrors, ServerErrors, DynamoDBRetries,
}

// Dimensions are the dimension sets of each metric: every metric has the
// service; 4xx and 5xx also the route (API Gateway's route key, a bounded
// set, never the raw path); ColdStart also the function. Every distinct
// combination is a CloudWatch custom metric, billed monthly, so none has
// more than these.
func (m Metric) Dimensions() []string {
	switch m {
	case ClientErrors, ServerErrors:
		return []string{FieldService, FieldRoute}
	case ColdStart:
		return []string{FieldService, FieldFunctionName}
	}
	return []string{FieldService}
}

type recorderKey struct{}

// Recorder keeps one request's counts until Emit.
type Recorder struct {
	mu     sync.Mutex
	counts map[Metric]float64
}

// WithRecorder returns ctx carrying a new Recorder for one request.
func WithRecorder(ctx context.Context) (context.Context, *Recorder) {
	r := &Recorder{counts: map[Metric]float64{}}
	return context.WithValue(ctx, recorderKey{}, r), r
}

// Count adds one to m for ctx's request; outside a request (no Recorder)
// it does nothing.
func Count(ctx context.Context, m Metric) { Add(ctx, m, 1) }

// Add adds n to m for ctx's request.
func Add(ctx context.Context, m Metric, n float64) {
	r, ok := ctx.Value(recorderKey{}).(*Recorder)
	if !ok || n == 0 {
		return
	}
	r.mu.Lock()
	r.counts[m] += n
	r.mu.Unlock()
}

// Emit writes the request's counts as one Embedded Metric Format line
// through log, whose fields carry the service and function dimensions
// (FunctionLogger's); route is the request's route key. Nothing is written
// when nothing was counted. The line bypasses the logger's level: a
// LOG_LEVEL of warn must not turn the metrics off.
func (r *Recorder) Emit(ctx context.Context, log *slog.Logger, now time.Time, route string) {
	r.mu.Lock()
	counts := make(map[Metric]float64, len(r.counts))
	for m, n := range r.counts {
		counts[m] = n
	}
	r.mu.Unlock()
	if len(counts) == 0 {
		return
	}
	// One directive per dimension set, each naming its metrics; the values
	// and dimensions are the line's top-level fields.
	type metricDef struct {
		Name string
		Unit string
	}
	type directive struct {
		Namespace  string
		Dimensions [][]string
		Metrics    []metricDef
	}
	var directives []directive
	attrs := []slog.Attr{}
	for _, m := range Metrics {
		n, ok := counts[m]
		if !ok {
			continue
		}
		dims := m.Dimensions()
		i := slices.IndexFunc(directives, func(d directive) bool { return slices.Equal(d.Dimensions[0], dims) })
		if i < 0 {
			directives = append(directives, directive{Namespace: Namespace, Dimensions: [][]string{dims}})
			i = len(directives) - 1
		}
		directives[i].Metrics = append(directives[i].Metrics, metricDef{Name: string(m), Unit: "Count"})
		attrs = append(attrs, slog.Float64(string(m), n))
	}
	for _, d := range directives {
		if slices.Contains(d.Dimensions[0], FieldRoute) {
			attrs = append(attrs, slog.String(FieldRoute, route))
			break
		}
	}
	attrs = append(attrs, slog.Any("_aws", map[string]any{
		"Timestamp":         now.UnixMilli(),
		"CloudWatchMetrics": directives,
	}))
	rec := slog.NewRecord(now, slog.LevelInfo, "metrics", 0)
	rec.AddAttrs(attrs...)
	_ = log.Handler().Handle(ctx, rec)
}
