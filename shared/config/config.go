// Package config reads a function's settings from its environment. Each
// reader takes the environment's lookup function (os.Getenv in Lambda, a
// map in tests), directly or inside an Env, and reads only its own
// variables, so a function reads exactly the variables its Setup asks for,
// and template.yaml can be checked against them.
package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/pufinid/pufinid-api/shared/mailer"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/telemetry"
	"github.com/pufinid/pufinid-api/shared/token"
)

// Getenv looks a variable up; "" means unset.
type Getenv func(string) string

// The environment variables the functions read.
const (
	EnvTable            = "TABLE_NAME"
	EnvDynamoDBEndpoint = "DYNAMODB_ENDPOINT"
	EnvSigningKey       = "JWT_SIGNING_KEY"
	EnvLogLevel         = "LOG_LEVEL"
	// EnvReferenceTTL is how long an instance trusts the reference data
	// it read (a Go duration; 1m if unset): the store's copy of the
	// snapshot pointer and the cache of public answers.
	EnvReferenceTTL = "REFERENCE_CACHE_TTL"
	// The users function's email links (usersapi.LinksFromEnv).
	EnvConfirmEmailURL  = "CONFIRM_EMAIL_URL"
	EnvResetPasswordURL = "RESET_PASSWORD_URL"
	// EnvLambdaName is set by the Lambda runtime itself: it tells a
	// deployed function from a local process.
	EnvLambdaName = "AWS_LAMBDA_FUNCTION_NAME"
	// EnvLambdaMemory is set by the Lambda runtime too: the function's
	// memory in MB.
	EnvLambdaMemory = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
)

// DevSigningKey is the local server's key. It is public, so a function
// running in Lambda refuses it.
const DevSigningKey = "pufinid-local-development-key-not-for-deployment"

// InLambda reports whether the process runs in the Lambda runtime.
func InLambda(getenv Getenv) bool { return getenv(EnvLambdaName) != "" }

// Logger returns the JSON logger every function logs with; LOG_LEVEL
// (debug, info, warn, error) sets its level.
func Logger(getenv Getenv, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(getenv(EnvLogLevel))); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// FunctionLogger is Logger with the fields of the function Lambda runs
// (telemetry.FunctionLogger): what a function's lines carry in Lambda.
func FunctionLogger(getenv Getenv, w io.Writer) *slog.Logger {
	return telemetry.FunctionLogger(Logger(getenv, w), getenv(EnvLambdaName), getenv(EnvLambdaMemory))
}

// Env is what a function's Setup builds its handler from: the process
// environment and the logger, and the few parts the local server and the
// tests put in place of AWS's. In Lambda only Getenv and Log are set, so
// the local server runs the very wiring a deployed function runs.
type Env struct {
	Getenv Getenv
	Log    *slog.Logger
	// Now is the clock of the tokens, the store's writes and the
	// handlers; nil means time.Now. Tests move time forward with it.
	Now func() time.Time
	// DynamoDBMiddleware is added to the DynamoDB client's stack: how the
	// local server injects DynamoDB's transient answers.
	DynamoDBMiddleware []func(*middleware.Stack) error
	// Mailer, if set, sends the email in place of Amazon SES: the local
	// outbox. A function that sends none ignores it.
	Mailer mailer.Mailer
}

// Clock is e.Now, or time.Now if unset.
func (e Env) Clock() func() time.Time {
	if e.Now != nil {
		return e.Now
	}
	return time.Now
}

// Store opens the table named by TABLE_NAME, at DYNAMODB_ENDPOINT if set
// (LocalStack, the embedded store) or else AWS's DynamoDB. No network call.
func Store(ctx context.Context, env Env) (*store.Store, error) {
	table := env.Getenv(EnvTable)
	if table == "" {
		return nil, fmt.Errorf("config: %s is not set", EnvTable)
	}
	ttl, err := ReferenceTTL(env.Getenv)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, store.Options{Table: table, Endpoint: env.Getenv(EnvDynamoDBEndpoint), Getenv: env.Getenv,
		Now: env.Now, APIOptions: env.DynamoDBMiddleware, ReferenceTTL: ttl})
}

// ReferenceTTL reads REFERENCE_CACHE_TTL: store.DefaultReferenceTTL if
// unset, else a duration from 1s to 1h.
func ReferenceTTL(getenv Getenv) (time.Duration, error) {
	v := strings.TrimSpace(getenv(EnvReferenceTTL))
	if v == "" {
		return store.DefaultReferenceTTL, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second || d > time.Hour {
		return 0, fmt.Errorf("config: %s %q: want a duration from 1s to 1h, such as 60s", EnvReferenceTTL, v)
	}
	return d, nil
}

// Tokens returns the token issuer for JWT_SIGNING_KEY, on env's clock.
// Outside Lambda a missing key falls back to DevSigningKey, with a warning
// in the log; in Lambda a missing, short or development key is an error,
// so a deployed function refuses to start rather than sign with a public
// key.
func Tokens(env Env) (*token.Issuer, error) {
	key := env.Getenv(EnvSigningKey)
	switch {
	case InLambda(env.Getenv) && (key == "" || key == DevSigningKey):
		return nil, fmt.Errorf("config: %s must be set to a secret key of at least %d bytes", EnvSigningKey, token.MinKeyBytes)
	case key == "":
		env.Log.Warn("JWT_SIGNING_KEY is not set: signing with the public development key; never deploy like this")
		key = DevSigningKey
	}
	return token.NewIssuer([]byte(key), env.Clock())
}

// Fatal logs err and exits: for mains whose setup failed.
func Fatal(log *slog.Logger, err error) {
	log.Error("startup failed", "err", err)
	os.Exit(1)
}

// ErrMissing reports a required variable that is unset.
var ErrMissing = errors.New("config: required variable unset")

// Require returns the value of name or an error naming it.
func Require(getenv Getenv, name string) (string, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return "", fmt.Errorf("%w: %s", ErrMissing, name)
	}
	return v, nil
}

// StoreAndTokens is Store and Tokens, for the functions that take tokens.
func StoreAndTokens(ctx context.Context, env Env) (*store.Store, *token.Issuer, error) {
	st, err := Store(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	tokens, err := Tokens(env)
	if err != nil {
		return nil, nil, err
	}
	return st, tokens, nil
}
