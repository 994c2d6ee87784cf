package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

type loggerKey struct{}

// Logger returns the request's logger (carrying its request id), or the
// default logger outside a request.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
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

// Serve wraps a group's router with what every request gets: a logger that
// carries the request id, one access log line (method, route, status,
// duration; never the body or query, which may hold secrets), and a recover
// that turns a panic into a logged 500 instead of a crashed invocation.
func Serve(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		l := log.With("request_id", RequestID(r.Context()))
		r = r.WithContext(context.WithValue(r.Context(), loggerKey{}, l))
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
			l.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
				"duration_ms", float64(time.Since(start).Microseconds())/1000)
		}()
		h.ServeHTTP(sw, r)
	})
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
