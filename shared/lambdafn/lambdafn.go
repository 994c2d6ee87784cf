// Package lambdafn starts a group's http.Handler as a Lambda function, the
// same way for every function: the handler is built by the function's setup
// from the process environment, then served through aws-lambda-go-api-proxy's
// HTTP API (payload 2.0) adapter.
package lambdafn

import (
	"context"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Setup reads a function's environment and builds its handler. It makes no
// network call: Lambda init should do no work a request does not need.
// Lambda gives it the process environment; the local server, the event
// replay and the tests run the same Setup with their own env.
type Setup func(ctx context.Context, env config.Env) (http.Handler, error)

// Start runs setup and serves its handler; a setup error is logged and ends
// the process, so a misconfigured function fails its init visibly.
func Start(setup Setup) {
	log := config.Logger(os.Getenv, os.Stdout)
	h, err := setup(context.Background(), config.Env{Getenv: os.Getenv, Log: log})
	if err != nil {
		config.Fatal(log, err)
	}
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}

// Group is one endpoint group as the tools see it: the function of
// template.yaml that serves it, the Setup its main runs, and the routes
// its router registers. The list of groups is package functions'; the
// local server, the event replay, the benchmark and the cross-checks all
// take it from there.
type Group struct {
	// Function is the group's logical id in template.yaml.
	Function string
	// Setup is what the function's main passes to Start.
	Setup Setup
	// Routes lists the group's router (web.Router.Routes), for the checks
	// against template.yaml and the OpenAPI document.
	Routes func() []web.Route
	// Sample is a representative event of the group, under events/: a read
	// of the table, the kind of request a cold start usually meets.
	Sample string
}
