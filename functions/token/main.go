// Command token is the token group's Lambda function.
package main

import (
	"context"
	"net/http"
	"os"
	"time"

	"github.com/pufinid/pufinid-api/functions/token/tokenapi"
	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/lambdafn"
)

func main() { lambdafn.Start(setup) }

// setup reads the environment and wires the group's handler; main_test.go
// checks the variables it reads against template.yaml.
func setup(ctx context.Context, getenv config.Getenv) (http.Handler, error) {
	log := config.Logger(getenv, os.Stdout)
	st, err := config.Store(ctx, getenv)
	if err != nil {
		return nil, err
	}
	tokens, err := config.Tokens(getenv, log)
	if err != nil {
		return nil, err
	}
	return tokenapi.New(tokenapi.Deps{Store: st, Tokens: tokens, Now: time.Now, Log: log}), nil
}
