package usersapi

import (
	"context"
	"net/http"
	"time"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/mailer/sesmail"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Setup builds the group's handler from its function's environment
// (template.yaml sets it), sending email through Amazon SES unless env
// gives a Mailer (the local outbox). It makes no network call.
// lambdafn.Start runs it in Lambda; the tests check the variables it reads
// against the template.
func Setup(ctx context.Context, env config.Env) (http.Handler, error) {
	st, tokens, err := config.StoreAndVerifier(ctx, env)
	if err != nil {
		return nil, err
	}
	links, err := LinksFromEnv(env.Getenv)
	if err != nil {
		return nil, err
	}
	m, sendEstimate := env.Mailer, time.Duration(0)
	if m == nil {
		if m, err = sesmail.Open(ctx, env.Getenv); err != nil {
			return nil, err
		}
		sendEstimate = sesSendEstimate
	}
	return web.WithWarmUp(New(Deps{Store: st, Tokens: tokens, Mailer: m, Links: links, Now: env.Clock(), Log: env.Log, SendEstimate: sendEstimate}), web.InOrder(tokens.WarmUp, st.WarmUpTerms)), nil
}

// sesSendEstimate is the time an SES v2 SendEmail from Lambda in the same
// region is taken to last until this instance has timed one.
const sesSendEstimate = 60 * time.Millisecond
