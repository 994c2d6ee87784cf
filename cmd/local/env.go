package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
	"github.com/pufinid/pufinid-api/shared/mailer"
	"github.com/pufinid/pufinid-api/shared/mailer/sesmail"
	"github.com/pufinid/pufinid-api/shared/secretkeys"
	"github.com/pufinid/pufinid-api/shared/telemetry"
	"github.com/pufinid/pufinid-api/shared/token"
)

// localEnv is what the local server gives every function's Setup: the
// environment template.yaml gives the function in Lambda, with local
// values (the table, the DynamoDB endpoint, the email links; the signing
// keys in place of their secret), over the server's own process environment; the server's clock
// and injected DynamoDB faults; and the outbox in place of SES. So each
// group runs the very wiring its Lambda runs, with only the mailer
// swapped.
type localEnv struct {
	getenv     config.Getenv     // the server's process environment
	values     map[string]string // set by the server, over getenv
	log        *slog.Logger
	now        func() time.Time
	middleware []func(*middleware.Stack) error
	mail       mailer.Mailer
	// keys is the token function's private key set (ephemeral, made for
	// this run) in place of its Secrets Manager secret.
	keys token.KeySource
	// corsOrigins are the origins browsers may call the API from (nil:
	// defaultCORSOrigins).
	corsOrigins []string
}

// forFunction is f's environment. A variable the template gives f that the
// server has no value for (nor the process environment) is an error, so
// a new variable cannot go unnoticed locally.
func (e localEnv) forFunction(f samtemplate.Function) (config.Env, error) {
	getenv := func(name string) string {
		if v, ok := e.values[name]; ok {
			return v
		}
		return e.getenv(name)
	}
	for _, name := range f.EnvNames() {
		if _, ok := e.values[name]; !ok && e.getenv(name) == "" && !optionalLocally[name] {
			return config.Env{}, fmt.Errorf("template.yaml gives %s the variable %s, which the local server has no value for: set it in the environment or give it one in cmd/local", f.LogicalID, name)
		}
	}
	return config.Env{Getenv: getenv, Log: telemetry.FunctionLogger(e.log, f.LogicalID, ""), Now: e.now,
		DynamoDBMiddleware: e.middleware, Mailer: e.mail, SigningKeys: e.keys}, nil
}

// optionalLocally are variables of the template the local server may
// leave unset: the SES settings, since the outbox takes the users
// function's email, and the signing keys' secret, since the server makes
// its own keys.
var optionalLocally = map[string]bool{
	sesmail.EnvFromAddress: true, sesmail.EnvConfigurationSet: true, sesmail.EnvEndpoint: true,
	secretkeys.EnvSecret: true, secretkeys.EnvEndpoint: true,
}
