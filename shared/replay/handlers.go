package replay

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/pufinid/pufinid-api/functions/appsprofile/appsprofileapi"
	"github.com/pufinid/pufinid-api/functions/faq/faqapi"
	"github.com/pufinid/pufinid-api/functions/pufdesigns/pufdesignsapi"
	"github.com/pufinid/pufinid-api/functions/terms/termsapi"
	"github.com/pufinid/pufinid-api/functions/token/tokenapi"
	"github.com/pufinid/pufinid-api/functions/users/usersapi"
	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/mailer"
)

// handlers builds each function's handler in process, from the same
// environment its bootstrap gets, the way its main.go does; only the
// mailer differs (the in-process run keeps emails in an Outbox, where the
// bootstrap sends them through SES to the emulator). A function of
// template.yaml missing here is reported as not replayable in process.
var handlers = map[string]func(ctx context.Context, getenv config.Getenv, mail mailer.Mailer, log *slog.Logger) (http.Handler, error){
	"AppsProfileFunction": func(ctx context.Context, getenv config.Getenv, _ mailer.Mailer, log *slog.Logger) (http.Handler, error) {
		st, err := config.Store(ctx, getenv)
		if err != nil {
			return nil, err
		}
		return appsprofileapi.New(appsprofileapi.Deps{Store: st, Log: log}), nil
	},
	"FaqFunction": func(ctx context.Context, getenv config.Getenv, _ mailer.Mailer, log *slog.Logger) (http.Handler, error) {
		st, err := config.Store(ctx, getenv)
		if err != nil {
			return nil, err
		}
		return faqapi.New(faqapi.Deps{Store: st, Log: log}), nil
	},
	"PufDesignsFunction": func(ctx context.Context, getenv config.Getenv, _ mailer.Mailer, log *slog.Logger) (http.Handler, error) {
		st, err := config.Store(ctx, getenv)
		if err != nil {
			return nil, err
		}
		tokens, err := config.Tokens(getenv, log)
		if err != nil {
			return nil, err
		}
		return pufdesignsapi.New(pufdesignsapi.Deps{Store: st, Tokens: tokens, Log: log}), nil
	},
	"TermsFunction": func(ctx context.Context, getenv config.Getenv, _ mailer.Mailer, log *slog.Logger) (http.Handler, error) {
		st, err := config.Store(ctx, getenv)
		if err != nil {
			return nil, err
		}
		tokens, err := config.Tokens(getenv, log)
		if err != nil {
			return nil, err
		}
		return termsapi.New(termsapi.Deps{Store: st, Tokens: tokens, Log: log}), nil
	},
	"TokenFunction": func(ctx context.Context, getenv config.Getenv, _ mailer.Mailer, log *slog.Logger) (http.Handler, error) {
		st, err := config.Store(ctx, getenv)
		if err != nil {
			return nil, err
		}
		tokens, err := config.Tokens(getenv, log)
		if err != nil {
			return nil, err
		}
		return tokenapi.New(tokenapi.Deps{Store: st, Tokens: tokens, Log: log}), nil
	},
	"UsersFunction": func(ctx context.Context, getenv config.Getenv, mail mailer.Mailer, log *slog.Logger) (http.Handler, error) {
		st, err := config.Store(ctx, getenv)
		if err != nil {
			return nil, err
		}
		tokens, err := config.Tokens(getenv, log)
		if err != nil {
			return nil, err
		}
		links, err := usersapi.LinksFromEnv(getenv)
		if err != nil {
			return nil, err
		}
		return usersapi.New(usersapi.Deps{Store: st, Tokens: tokens, Mailer: mail, Links: links, Log: log}), nil
	},
}
