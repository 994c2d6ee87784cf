package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/pufinid/pufinid-api/functions/appsprofile/appsprofileapi"
	"github.com/pufinid/pufinid-api/functions/faq/faqapi"
	"github.com/pufinid/pufinid-api/functions/pufdesigns/pufdesignsapi"
	"github.com/pufinid/pufinid-api/functions/terms/termsapi"
	"github.com/pufinid/pufinid-api/functions/token/tokenapi"
	"github.com/pufinid/pufinid-api/functions/users/usersapi"
	"github.com/pufinid/pufinid-api/shared/mailer"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/token"
	"github.com/pufinid/pufinid-api/shared/web"
)

// deps is everything a group may need; each group takes its share, the
// way its Lambda's main wires it from the environment.
type deps struct {
	Store  *store.Store
	Tokens *token.Issuer
	Mailer mailer.Mailer
	Links  usersapi.Links
	Log    *slog.Logger
	Now    func() time.Time
}

// group is one endpoint group's handler package.
type group struct {
	// handler builds the group's handler as its Lambda's main does.
	handler func(d deps) http.Handler
	// routes lists what the group's Go router registers (for the tests
	// that compare it with template.yaml).
	routes func() []web.Route
}

// groups maps each function of template.yaml, by logical id, to its
// handler package. Wired: every function (AppsProfileFunction, FaqFunction,
// PufDesignsFunction, TermsFunction, TokenFunction, UsersFunction). A
// function missing here is logged as a warning at startup and its routes
// answer 404; the tests fail unless it is listed as pending there.
var groups = map[string]group{
	"FaqFunction": {
		handler: func(d deps) http.Handler { return faqapi.New(faqapi.Deps{Store: d.Store, Log: d.Log}) },
		routes:  func() []web.Route { return faqapi.Routes(faqapi.Deps{}).Routes() },
	},
	"AppsProfileFunction": {
		handler: func(d deps) http.Handler {
			return appsprofileapi.New(appsprofileapi.Deps{Store: d.Store, Log: d.Log})
		},
		routes: func() []web.Route { return appsprofileapi.Routes(appsprofileapi.Deps{}).Routes() },
	},
	"PufDesignsFunction": {
		handler: func(d deps) http.Handler {
			return pufdesignsapi.New(pufdesignsapi.Deps{Store: d.Store, Tokens: d.Tokens, Log: d.Log})
		},
		routes: func() []web.Route { return pufdesignsapi.Routes(pufdesignsapi.Deps{}).Routes() },
	},
	"TermsFunction": {
		handler: func(d deps) http.Handler {
			return termsapi.New(termsapi.Deps{Store: d.Store, Tokens: d.Tokens, Now: d.Now, Log: d.Log})
		},
		routes: func() []web.Route { return termsapi.Routes(termsapi.Deps{}).Routes() },
	},
	"TokenFunction": {
		handler: func(d deps) http.Handler {
			return tokenapi.New(tokenapi.Deps{Store: d.Store, Tokens: d.Tokens, Log: d.Log})
		},
		routes: func() []web.Route { return tokenapi.Routes(tokenapi.Deps{}).Routes() },
	},
	"UsersFunction": {
		handler: func(d deps) http.Handler {
			return usersapi.New(usersapi.Deps{Store: d.Store, Tokens: d.Tokens, Mailer: d.Mailer, Links: d.Links, Now: d.Now, Log: d.Log})
		},
		routes: func() []web.Route { return usersapi.Routes(usersapi.Deps{}).Routes() },
	},
}
