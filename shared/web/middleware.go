package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/pufinid/pufinid-api/shared/telemetry"
)

type loggerKey struct{}

// Logger returns the request's logger (carrying the invocation's fields),
// or the default logger outside a request.
func Logger(ctx context.Context) *slog.Logger { return LoggerOr(ctx, slog.Default()) }

// LoggerOr returns the request's logger, or fallback outside a request.
func LoggerOr(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return fallback
}

// RequestID is API Gateway's id of the request, or "" outside API Gateway.
func RequestID(ctx context.Context) string {
	if gw, ok := core.GetAPIGatewayV2ContextFromContext(ctx); ok {
		return gw.RequestID
	}
	return ""
}

// SourceIP is the client address API Gateway saw.
func SourceIP(r *http.Request) string {
	if gw, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && gw.HTTP.SourceIP != "" {
		return gw.HTTP.SourceIP
	}
	// Not behind API Gateway (a handler served directly): the peer, without
	// its port, which changes with every connection.
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// Serve wraps a group's router with what every request gets: a logger
// with the invocation's fields (package telemetry), a metrics recorder
// emitted when the request ends, one request line (method, path, route,
// status, latency; never the body or query, which may hold secrets), and a
// recover that turns a panic into a logged 500 instead of a crashed
// invocation.
func Serve(log *slog.Logger, h http.Handler) http.Handler {
	// In Lambda one process serves one function, so the handler's first
	// request is the execution environment's cold start; the local server
	// builds one handler per function, and says the same of each.
	var served atomic.Bool
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		inv := invocation(r.Context())
		inv.ColdStart = !served.Swap(true)
		l := inv.Logger(log)
		ctx, metrics := telemetry.WithRecorder(context.WithValue(r.Context(), loggerKey{}, l))
		r = r.WithContext(ctx)
		if inv.ColdStart {
			telemetry.Count(ctx, telemetry.ColdStart)
		}
		// Every answer: no MIME sniffing, and no caching by default, since
		// most carry a token or a user's data; a handler whose answer may be
		// cached says so itself.
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				l.Error("panic", "panic", p)
				if !sw.wrote {
					JSON(sw, r, http.StatusInternalServerError, map[string]string{"detail": "A server error occurred."})
				}
			}
			switch {
			case sw.status >= 500:
				telemetry.Count(ctx, telemetry.ServerErrors)
			case sw.status >= 400:
				telemetry.Count(ctx, telemetry.ClientErrors)
			}
			route := routeKey(ctx)
			end := time.Now()
			telemetry.RequestLine(ctx, l, r.Method, r.URL.Path, route, sw.status, float64(end.Sub(start).Microseconds())/1000)
			metrics.Emit(ctx, l, end, route)
		}()
		h.ServeHTTP(sw, r)
	})
}

// invocation reads what Lambda and API Gateway say of the request.
func invocation(ctx context.Context) telemetry.Invocation {
	inv := telemetry.Invocation{APIGWRequestID: RequestID(ctx)}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		inv.AWSRequestID = lc.AwsRequestID
	}
	// aws-lambda-go passes the X-Ray trace header under this key:
	// "Root=1-...;Parent=...;Sampled=1"; the logs carry its root.
	if h, ok := ctx.Value("x-amzn-trace-id").(string); ok {
		for part := range strings.SplitSeq(h, ";") {
			if root, found := strings.CutPrefix(part, "Root="); found {
				inv.XRayTraceID = root
			}
		}
	}
	return inv
}

// routeKey is API Gateway's route key of the request ("GET
// /v1/terms/{slug}"): one of the template's routes, so a bounded set, fit
// for a metric's dimension.
func routeKey(ctx context.Context) string {
	if gw, ok := core.GetAPIGatewayV2ContextFromContext(ctx); ok && gw.RouteKey != "" {
		return gw.RouteKey
	}
	return "-"
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.wrote = true
	}
	return w.ResponseWriter.Write(b)
}
