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

// setup is a handler package's Setup.
type setup = func(ctx context.Context, getenv config.Getenv, log *slog.Logger) (http.Handler, error)

// handlers builds each function's handler in process, from the same
// environment its bootstrap gets, with the same Setup its main.go runs;
// only the mailer differs (the in-process run keeps emails in an Outbox,
// where the bootstrap sends them through SES to the emulator). A function
// of template.yaml missing here is reported as not replayable in process.
var handlers = map[string]func(mail mailer.Mailer) setup{
	"AppsProfileFunction": func(mailer.Mailer) setup { return appsprofileapi.Setup },
	"FaqFunction":         func(mailer.Mailer) setup { return faqapi.Setup },
	"PufDesignsFunction":  func(mailer.Mailer) setup { return pufdesignsapi.Setup },
	"TermsFunction":       func(mailer.Mailer) setup { return termsapi.Setup },
	"TokenFunction":       func(mailer.Mailer) setup { return tokenapi.Setup },
	"UsersFunction":       func(m mailer.Mailer) setup { return usersapi.SetupWith(m) },
}
