// Package lambdafn starts a function the same way for every function: the
// handler is built by the function's setup from the process environment,
// then served. An endpoint group's http.Handler is served through
// aws-lambda-go-api-proxy's HTTP API (payload 2.0) adapter; a function
// that AWS invokes with other events (an SNS subscription's) serves its
// lambda.Handler as it is.
//
// A group whose handler has a warm-up (web.WarmUpper) gets it started in
// the background before the first event is fetched: on a cold start the
// first DynamoDB read then overlaps the Runtime API round trip instead of
// following it (measured in make bench-lambda, paired in one run: 0.05 to
// 0.3 of a hello-world start less per function), and it is a read the
// first request makes anyway, which joins it.
package lambdafn

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Setup reads a function's environment and builds its handler. It makes no
// network call: Lambda init should do no work a request does not need (a
// warm-up, started after it, reads only what the first request will).
// Lambda gives it the process environment; the local server, the event
// replay and the tests run the same Setup with their own env.
type Setup func(ctx context.Context, env config.Env) (http.Handler, error)

// Start runs setup and serves its handler; a setup error is logged and ends
// the process, so a misconfigured function fails its init visibly.
func Start(setup Setup) {
	h := build(setup)
	WarmUp(h)
	proxy := httpadapter.NewV2(h).ProxyWithContext
	if eh, ok := h.(EventHandler); ok {
		lambda.Start(withEvents{http: lambda.NewHandler(proxy), events: eh})
		return
	}
	lambda.Start(proxy)
}

// warmUpTimeout bounds a warm-up: its reads take milliseconds, and a
// request that waits for one (an outage: the SDK retrying) then makes
// its own attempt.
const warmUpTimeout = time.Second

// WarmUp starts h's warm-up if it has one (web.WarmUpper): Start runs it
// during init, while aws-lambda-go fetches the first event, and the
// in-process replay as Start does. done is closed when it has ended.
func WarmUp(h http.Handler) (done <-chan struct{}) {
	ch := make(chan struct{})
	w, ok := h.(web.WarmUpper)
	if !ok {
		close(ch)
		return ch
	}
	ctx, cancel := context.WithTimeout(context.Background(), warmUpTimeout)
	go func() {
		defer close(ch)
		defer cancel()
		// A warm-up only reads ahead: a panic in it is the first
		// request's to meet (and the router's to answer), not init's
		// to end the process over.
		defer func() { _ = recover() }()
		w.WarmUp(ctx)
	}()
	return ch
}

// EventHandler is a group's handler that also takes events other than
// HTTP requests: the token function is its signing keys' rotation
// function, which Secrets Manager invokes.
type EventHandler interface {
	http.Handler
	HandleEvent(ctx context.Context, payload []byte) ([]byte, error)
}

// withEvents sends API Gateway's requests to the HTTP adapter and every
// other payload to the group's HandleEvent.
type withEvents struct {
	http   lambda.Handler
	events EventHandler
}

func (w withEvents) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if IsHTTPEvent(payload) {
		return w.http.Invoke(ctx, payload)
	}
	return w.events.HandleEvent(ctx, payload)
}

// IsHTTPEvent reports whether payload is an API Gateway HTTP API request
// (payload 2.0 always has a routeKey; no other event this project's
// functions take has one).
func IsHTTPEvent(payload []byte) bool { return bytes.Contains(payload, []byte(`"routeKey"`)) }

// EventSetup reads the environment of a function invoked with events
// other than HTTP requests, and builds its handler: Lambda's event in,
// the function's answer out. Like Setup, it makes no network call.
type EventSetup func(ctx context.Context, env config.Env) (lambda.Handler, error)

// StartEvents runs setup and serves its handler.
func StartEvents(setup EventSetup) { lambda.Start(build(setup)) }

// build runs a setup on the process environment; an error is logged and
// ends the process, so a misconfigured function fails its init visibly.
func build[H any](setup func(context.Context, config.Env) (H, error)) H {
	log := config.FunctionLogger(os.Getenv, os.Stdout)
	h, err := setup(context.Background(), config.Env{Getenv: os.Getenv, Log: log})
	if err != nil {
		config.Fatal(log, err)
	}
	return h
}
