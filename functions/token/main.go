// Command token is the token group's Lambda function.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pufinid/pufinid-api/functions/token/tokenapi"
	"github.com/pufinid/pufinid-api/shared/config"
)

func main() {
	log := config.Logger(os.Getenv, os.Stdout)
	st, err := config.Store(context.Background(), os.Getenv)
	if err != nil {
		config.Fatal(log, err)
	}
	tokens, err := config.Tokens(os.Getenv, log)
	if err != nil {
		config.Fatal(log, err)
	}
	h := tokenapi.New(tokenapi.Deps{Store: st, Tokens: tokens, Now: time.Now, Log: log})
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}
