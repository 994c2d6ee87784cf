// Command appsprofile is the apps profile group's Lambda function.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pufinid/pufinid-api/functions/appsprofile/appsprofileapi"
	"github.com/pufinid/pufinid-api/shared/config"
)

func main() {
	log := config.Logger(os.Getenv, os.Stdout)
	st, err := config.Store(context.Background(), os.Getenv)
	if err != nil {
		config.Fatal(log, err)
	}
	lambda.Start(httpadapter.NewV2(appsprofileapi.New(appsprofileapi.Deps{Store: st, Log: log})).ProxyWithContext)
}
