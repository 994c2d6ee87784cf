package usersapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/mailer"
)

// Setup builds the group's handler from its function's environment
// (template.yaml sets it), sending email through Amazon SES. It makes no
// network call. lambdafn.Start runs it in Lambda; the tests check the
// variables it reads against the template.
func Setup(ctx context.Context, getenv config.Getenv, log *slog.Logger) (http.Handler, error) {
	ses, err := mailer.OpenSES(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return setupWith(ses, sesSendEstimate)(ctx, getenv, log)
}

// sesSendEstimate is the time an SES v2 SendEmail from Lambda in the same
// region is taken to last until this instance has timed one.
const sesSendEstimate = 60 * time.Millisecond

// SetupWith is Setup sending email through m instead (the event replay's
// outbox).
func SetupWith(m mailer.Mailer) func(context.Context, config.Getenv, *slog.Logger) (http.Handler, error) {
	return setupWith(m, 0)
}

func setupWith(m mailer.Mailer, sendEstimate time.Duration) func(context.Context, config.Getenv, *slog.Logger) (http.Handler, error) {
	return func(ctx context.Context, getenv config.Getenv, log *slog.Logger) (http.Handler, error) {
		st, tokens, err := config.StoreAndTokens(ctx, getenv, log)
		if err != nil {
			return nil, err
		}
		links, err := LinksFromEnv(getenv)
		if err != nil {
			return nil, err
		}
		return New(Deps{Store: st, Tokens: tokens, Mailer: m, Links: links, Log: log, SendEstimate: sendEstimate}), nil
	}
}
