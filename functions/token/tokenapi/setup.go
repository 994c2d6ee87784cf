package tokenapi

import (
	"context"
	"net/http"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/secretkeys"
	"github.com/pufinid/pufinid-api/shared/token"
)

// Setup builds the group's handler from its function's environment
// (template.yaml sets it). It makes no network call: the private key set
// is read from AWS Secrets Manager on the first token signed, unless env
// gives it (the local server, the tests). lambdafn.Start runs
// it in Lambda; the tests check the variables it reads against the
// template.
func Setup(ctx context.Context, env config.Env) (http.Handler, error) {
	st, err := config.Store(ctx, env)
	if err != nil {
		return nil, err
	}
	keys := env.SigningKeys
	if keys == nil {
		if keys, err = secretkeys.Open(env.Getenv, secretkeys.Options{Now: env.Now}); err != nil {
			return nil, err
		}
	}
	// Tokens are verified, and the JWKS answered, with the published public
	// set, as every function does: only signing waits for the secret.
	tokens := token.NewIssuer(keys, env.Clock()).VerifyWith(config.PublishedKeys(st, env))
	return New(Deps{Store: st, Tokens: tokens, Log: env.Log}), nil
}
