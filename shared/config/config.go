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

	"github.com/pufinid/pufinid-api/shared/apierror"
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
	// SigningKeys, if set, is the private signing key set of the token
	// function in place of the AWS Secrets Manager secret it reads in
	// Lambda (shared/secretkeys): the local server's ephemeral keys, the
	// tests'. The other functions verify with the public set published in
	// the table, wherever they run.
	SigningKeys token.KeySource
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

// Verifier is the token Issuer of a function that only verifies: the
// public key set published in the table (store.PublicKeys), read on first
// use and kept token.DefaultCacheTTL. It cannot mint.
func Verifier(st *store.Store, env Env) *token.Issuer {
	return token.NewIssuer(PublishedKeys(st, env), env.Clock())
}

// PublishedKeys is the public key set published in st's table, read on
// first use and kept token.DefaultCacheTTL.
func PublishedKeys(st *store.Store, env Env) token.KeySource {
	return token.Cached(publishedKeys{st}, token.DefaultCacheTTL, env.Clock())
}

// publishedKeys is the table's public key set as a token.KeySource.
type publishedKeys struct{ st *store.Store }

func (p publishedKeys) KeySet(ctx context.Context) (token.KeySet, error) {
	doc, found, err := p.st.PublicKeys(ctx)
	if err != nil {
		return token.KeySet{}, err
	}
	if !found {
		// Nothing published (a deployment whose keys were never made,
		// README "Signing keys"): no token verifies.
		return token.KeySet{}, nil
	}
	set, err := token.ParseKeySet(doc)
	if err != nil {
		return token.KeySet{}, apierror.UnavailableErr(fmt.Errorf("config: the published key set: %w", err))
	}
	return set, nil
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

// StoreAndVerifier is Store and its Verifier, for the functions that
// take tokens but do not issue them.
func StoreAndVerifier(ctx context.Context, env Env) (*store.Store, *token.Issuer, error) {
	st, err := Store(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	return st, Verifier(st, env), nil
}
