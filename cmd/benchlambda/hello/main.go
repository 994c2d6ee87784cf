// Command hello is the cold-start benchmark's yardstick: the smallest
// aws-lambda-go function answering an API Gateway HTTP API event, built
// with the same flags as the real functions. cmd/benchlambda measures every
// function against it.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: 200,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       `{"hello":"world"}`,
	}, nil
}

func main() { lambda.Start(handle) }
