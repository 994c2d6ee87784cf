package termsapi

import (
	"context"
	"net/http"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/refcache"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Setup builds the group's handler from its function's environment
// (template.yaml sets it). It makes no network call. lambdafn.Start runs it
// in Lambda; the tests check the variables it reads against the template.
func Setup(ctx context.Context, env config.Env) (http.Handler, error) {
	st, tokens, err := config.StoreAndVerifier(ctx, env)
	if err != nil {
		return nil, err
	}
	// Answers are kept as long as the store trusts the data behind them.
	return web.WithWarmUp(New(Deps{Cache: refcache.New(st.ReferenceTTL()), Store: st, Tokens: tokens, Now: env.Clock(), Log: env.Log}), web.InOrder(tokens.WarmUp, st.WarmUpTerms)), nil
}
