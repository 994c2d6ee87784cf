package tokenapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/pufinid/pufinid-api/shared/config"
)

// Setup builds the group's handler from its function's environment
// (template.yaml sets it). It makes no network call. lambdafn.Start runs it
// in Lambda; the tests check the variables it reads against the template.
func Setup(ctx context.Context, getenv config.Getenv, log *slog.Logger) (http.Handler, error) {
	st, tokens, err := config.StoreAndTokens(ctx, getenv, log)
	if err != nil {
		return nil, err
	}
	return New(Deps{Store: st, Tokens: tokens, Log: log}), nil
}
