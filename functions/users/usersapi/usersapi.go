// Package usersapi is the users group's HTTP handler: signup, the caller's
// own profile (get, replace, update, delete), email confirmation, password
// change and reset, and the two routes that send emails (resend the
// confirmation, send a reset link).
//
// Uniqueness of emails and usernames, single use of emailed tokens, the
// limits on emails and the removal of a deleted user are all decided by
// DynamoDB conditional writes in package store, never by a read followed by
// a write here, so they hold across every Lambda instance.
//
// The email-sending routes answer the same whether or not an address has an
// account, with the same DynamoDB work for both, and a request that sends
// nothing waits about as long as sending takes (see pace), so neither the
// answer nor its timing tells who has an account.
package usersapi

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/mailer"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/token"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Deps are what the group needs.
type Deps struct {
	Store  *store.Store
	Tokens *token.Issuer
	Mailer mailer.Mailer
	Links  Links
	Now    func() time.Time // time.Now if nil
	Rand   io.Reader        // user ids and email tokens; crypto/rand if nil
	Log    *slog.Logger
	// SendEstimate is how long sending an email is taken to last until a
	// send has been timed (see pace): without it, the first requests of a
	// new instance for an address with no account would answer at once.
	SendEstimate time.Duration
}

// Links are the templates of the links the emails carry: "{email}" and
// "{token}" are replaced by the query-escaped address and token, e.g.
// "https://app.example.com/confirm-email?email={email}&token={token}".
type Links struct {
	ConfirmEmail  string
	ResetPassword string
}

// LinksFromEnv reads CONFIRM_EMAIL_URL and RESET_PASSWORD_URL; each must be
// an absolute http(s) URL carrying "{token}".
func LinksFromEnv(getenv config.Getenv) (Links, error) {
	var l Links
	for _, v := range []struct {
		name string
		dst  *string
	}{{config.EnvConfirmEmailURL, &l.ConfirmEmail}, {config.EnvResetPasswordURL, &l.ResetPassword}} {
		s, err := config.Require(getenv, v.name)
		if err != nil {
			return Links{}, err
		}
		u, err := url.Parse(strings.NewReplacer("{email}", "e", "{token}", "t").Replace(s))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !strings.Contains(s, "{token}") {
			return Links{}, fmt.Errorf("config: %s must be an http(s) URL containing {token}, got %q", v.name, s)
		}
		*v.dst = s
	}
	return l, nil
}

// link fills template with email and tok.
func link(template, email, tok string) string {
	return strings.NewReplacer("{email}", url.QueryEscape(email), "{token}", url.QueryEscape(tok)).Replace(template)
}

// deps are the group's Deps with what its handlers share: the estimate of
// how long sending an email takes.
type deps struct {
	Deps
	pace *pace
}

// Routes lists the group's whole surface.
func Routes(d Deps) *web.Router {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Rand == nil {
		d.Rand = rand.Reader
	}
	shared := &deps{Deps: d, pace: &pace{avg: d.SendEstimate}}
	r := web.NewRouter()
	r.Handle(http.MethodPost, "/v1/users", handleSignup(shared))
	r.Handle(http.MethodGet, "/v1/users/{id}", handleGet(shared))
	r.Handle(http.MethodPut, "/v1/users/{id}", handleUpdate(shared, true))
	r.Handle(http.MethodPatch, "/v1/users/{id}", handleUpdate(shared, false))
	r.Handle(http.MethodDelete, "/v1/users/{id}", handleDelete(shared))
	r.Handle(http.MethodPost, "/v1/users/confirm-email", handleConfirmEmail(shared))
	r.Handle(http.MethodPost, "/v1/users/resend-confirm-email", handleSendEmail(shared, store.PurposeConfirm, msgConfirmSent))
	r.Handle(http.MethodPost, "/v1/users/send-reset-password-email", handleSendEmail(shared, store.PurposeReset, msgResetSent))
	r.Handle(http.MethodPost, "/v1/users/change-password", handleChangePassword(shared))
	r.Handle(http.MethodPost, "/v1/users/reset-password", handleResetPassword(shared))
	return r
}

// New returns the group's handler, as its Lambda and the local server run it.
func New(d Deps) http.Handler { return web.Serve(d.Log, Routes(d)) }
