// Command users is the users group's Lambda function.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pufinid/pufinid-api/functions/users/usersapi"
	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/mailer"
)

func main() {
	ctx := context.Background()
	log := config.Logger(os.Getenv, os.Stdout)
	st, err := config.Store(ctx, os.Getenv)
	if err != nil {
		config.Fatal(log, err)
	}
	tokens, err := config.Tokens(os.Getenv, log)
	if err != nil {
		config.Fatal(log, err)
	}
	ses, err := mailer.OpenSES(ctx, os.Getenv)
	if err != nil {
		config.Fatal(log, err)
	}
	links, err := usersapi.LinksFromEnv(os.Getenv)
	if err != nil {
		config.Fatal(log, err)
	}
	h := usersapi.New(usersapi.Deps{Store: st, Tokens: tokens, Mailer: ses, Links: links, Log: log})
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}
