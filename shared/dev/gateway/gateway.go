// Package gateway does locally what API Gateway's HTTP API does in AWS:
// it matches a request to a route of template.yaml the way API Gateway
// selects routes, turns the request into the payload 2.0 event a Lambda
// receives, and turns the function's response event back into an HTTP
// answer. The local server and the tests use it, so every request they make
// goes through the same aws-lambda-go-api-proxy adapter as in Lambda.
package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/uuid"
)

// Route is one HttpApi event of a function in template.yaml.
type Route struct {
	Function string // logical id of the function
	Method   string // GET, POST..., or ANY
	Path     string // "/v1/terms/{slug}", "/v1/terms/{proxy+}"
}

// Key is the route key, as in the event's routeKey.
func (r Route) Key() string { return r.Method + " " + r.Path }

// Table matches requests to routes.
type Table struct{ routes []Route }

// NewTable returns a table of routes.
func NewTable(routes []Route) *Table { return &Table{routes: slices.Clone(routes)} }

// Routes lists the table's routes.
func (t *Table) Routes() []Route { return slices.Clone(t.routes) }

// Match finds the route API Gateway would pick for method and path, and the
// path parameters it fills. As API Gateway does, it ignores a trailing
// slash, prefers the most specific path (literal over {param} over
// {greedy+}, segment by segment) and then an exact method over ANY.
func (t *Table) Match(method, path string) (Route, map[string]string, bool) {
	segs := splitPath(path)
	var (
		best       Route
		bestParams map[string]string
		bestScore  []int
		found      bool
	)
	for _, rt := range t.routes {
		if rt.Method != "ANY" && rt.Method != method && !(method == http.MethodHead && rt.Method == http.MethodGet) {
			continue
		}
		params, score, ok := matchPath(splitPath(rt.Path), segs)
		if !ok {
			continue
		}
		if rt.Method == method {
			score = append(score, 1)
		} else {
			score = append(score, 0)
		}
		if !found || slices.Compare(score, bestScore) > 0 {
			best, bestParams, bestScore, found = rt, params, score, true
		}
	}
	return best, bestParams, found
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// matchPath matches request segments against a route's; score ranks how
// specific the match is, segment by segment (2 literal, 1 param, 0 greedy).
func matchPath(route, req []string) (map[string]string, []int, bool) {
	params := map[string]string{}
	score := make([]int, 0, len(route))
	for i, seg := range route {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "+}") {
			if i >= len(req) {
				return nil, nil, false // a greedy variable needs at least one segment
			}
			params[strings.TrimSuffix(seg[1:], "+}")] = strings.Join(req[i:], "/")
			return params, append(score, 0), true
		}
		if i >= len(req) {
			return nil, nil, false
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if req[i] == "" {
				return nil, nil, false
			}
			params[seg[1:len(seg)-1]] = req[i]
			score = append(score, 1)
			continue
		}
		if seg != req[i] {
			return nil, nil, false
		}
		score = append(score, 2)
	}
	if len(route) != len(req) {
		return nil, nil, false
	}
	return params, score, true
}

// Event builds the payload 2.0 event API Gateway sends for r on route.
func Event(r *http.Request, route Route, params map[string]string, requestID string, now time.Time) (events.APIGatewayV2HTTPRequest, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return events.APIGatewayV2HTTPRequest{}, err
	}
	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lk] = strings.Join(vs, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	sourceIP := r.RemoteAddr
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = h
	}
	if _, ok := headers["x-forwarded-proto"]; !ok {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		headers["x-forwarded-proto"] = scheme
	}
	if len(body) > 0 {
		headers["content-length"] = fmt.Sprint(len(body))
	}
	query := map[string]string{}
	for k, vs := range r.URL.Query() {
		query[k] = strings.Join(vs, ",")
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       route.Key(),
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Cookies:        cookies,
		Headers:        headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     route.Key(),
			AccountID:    "000000000000",
			Stage:        "$default",
			RequestID:    requestID,
			APIID:        "local",
			DomainName:   r.Host,
			DomainPrefix: strings.Split(r.Host, ".")[0],
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(query) > 0 {
		ev.QueryStringParameters = query
	}
	if len(params) > 0 {
		ev.PathParameters = params
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev, nil
}

// WriteResponse writes a function's response event as the HTTP answer.
func WriteResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) error {
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return err
		}
		body = b
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		w.Header().Del(k)
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, err := io.Copy(w, bytes.NewReader(body))
	return err
}

// Invocation returns ctx as Lambda gives it to a function's handler: with
// the invocation's context (a new request id, the function's ARN), so the
// logs of a local run carry what a deployed function's do.
func Invocation(ctx context.Context, function string) context.Context {
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       uuid.NewString(),
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:" + function,
	})
}
