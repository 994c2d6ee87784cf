package usersapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
	"unicode"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/emailaddr"
	"github.com/pufinid/pufinid-api/shared/password"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/telemetry"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Signup's messages.
const (
	msgPasswordsDiffer = "Passwords do not match."
	msgEmailNotASCII   = "Enter an email address made only of ASCII characters: PufinID's email cannot reach others."
	msgUsernameChars   = "Enter a valid username. This value may contain only letters, numbers, and ./+/-/_ characters."
	msgUsernameAt      = "A username may not contain \"@\": a login with \"@\" is read as an email address."
	msgUnknownOrg      = "No organization has this code."
	// AcceptAll in terms_accepted accepts every current term.
	AcceptAll = "*"
)

// Password rules: the seed's lengths; password.Validate adds Django's rules.
var passwordRule = web.Str{Required: true, NoTrim: true, Min: 8, Max: 100}

// signupInput is a signup body after its fields were read.
type signupInput struct {
	user     pufinid.User
	password string
	terms    []string
	orgCode  *string
}

// readSignup reads every field, recording each problem in in.Errs.
func readSignup(in *web.Input) signupInput {
	var s signupInput
	for _, f := range pufinid.ProfileFields {
		// Both names are always set ("" when refused, which fails the
		// request): a user made by signup has names, never null.
		if v, ok := in.String(f.Name, ruleOf(f)); ok || f.IsName {
			*f.Of(&s.user) = &v
		}
	}
	if name, ok := in.String("username", web.Str{AllowNull: true, Min: 2, Max: 100}); ok {
		if msg := usernameProblem(name); msg != "" {
			in.Errs.Add("username", msg)
		} else {
			s.user.Username = &name
		}
	}
	var emailOK bool
	s.user.Email, emailOK = in.Email("email")
	if emailOK && !emailaddr.Sendable(s.user.Email) {
		in.Errs.Add("email", msgEmailNotASCII)
	}
	pw, pwOK := in.String("password", passwordRule)
	confirm, confirmOK := in.String("password_confirm", passwordRule)
	if pwOK && confirmOK && pw != confirm {
		in.Errs.Add("password_confirm", msgPasswordsDiffer)
	}
	s.password = pw
	s.terms, _ = in.StringList("terms_accepted", 255)
	if code, ok := in.String("organization_code", optionalRule); ok && code != "" {
		s.orgCode = &code
	}
	// Django's password validators, with the user's other fields to compare.
	if pwOK && !in.Errs.Has("password_confirm") {
		for _, msg := range password.Validate(pw, passwordAttrs(s.user)) {
			in.Errs.Add("password", msg)
		}
	}
	return s
}

// usernameProblem explains why name cannot be a username, or is "". Django's
// characters minus "@": the login reads a value with "@" as an email, so
// such a username could never log in by name.
func usernameProblem(name string) string {
	for _, r := range name {
		switch {
		case r == '@':
			return msgUsernameAt
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '.', r == '_', r == '-', r == '+':
		default:
			return msgUsernameChars
		}
	}
	return ""
}

// passwordAttrs are the user's fields a password must not resemble.
func passwordAttrs(u pufinid.User) map[string]string {
	attrs := map[string]string{password.AttrEmail: u.Email}
	if u.FirstName != nil {
		attrs[password.AttrFirstName] = *u.FirstName
	}
	if u.LastName != nil {
		attrs[password.AttrLastName] = *u.LastName
	}
	if u.Username != nil {
		attrs[password.AttrUsername] = *u.Username
	}
	return attrs
}

// handleSignup creates an account in one DynamoDB transaction (profile,
// email and username claims, term acceptances, confirmation token), then
// emails the confirmation link. An email that cannot be sent is logged and
// the account stands: the answer is still 201 and resend-confirm-email
// works.
func handleSignup(d *deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		in, err := web.DecodeObject(r)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		s := readSignup(in)
		// The organization and the terms are checked even when other fields
		// failed, so one answer lists every problem.
		org, current, err := d.signupReferences(ctx, s.orgCode)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		if s.orgCode != nil && org == nil {
			in.Errs.Add("organization_code", msgUnknownOrg)
		}
		accepted := acceptances(in, s.terms, current, d.Now())
		if err := in.Err(); err != nil {
			web.Error(w, r, err)
			return
		}

		u := s.user
		if u.ID, err = pufinid.NewID(d.Rand); err != nil {
			web.Error(w, r, err)
			return
		}
		u.OrganizationID, u.OrganizationName, u.Theme = org.ID, org.Name, org.Theme
		u.AccessTokenLifetime, u.RefreshTokenLifetime = org.AccessTokenLifetime, org.RefreshTokenLifetime
		u.CreatedAt = d.Now().UTC()
		if u.PasswordHash, err = password.Hash(s.password); err != nil {
			web.Error(w, r, err)
			return
		}
		secret, stored, err := d.newEmailToken(store.PurposeConfirm)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		if err := d.Store.CreateUser(ctx, u, accepted, store.WithEmailToken(store.PurposeConfirm, stored)); err != nil {
			web.Error(w, r, err)
			return
		}
		telemetry.Count(ctx, telemetry.SignUps)
		log := web.Logger(ctx).With("user_id", u.ID)
		log.Info("user signed up", "organization_id", u.OrganizationID)
		if err := d.sendConfirmation(ctx, u, secret); err != nil {
			log.Error("signup: confirmation email not sent; the account exists and resend-confirm-email can send it", "err", err)
		}
		web.JSON(w, r, http.StatusCreated, userBody(pufinid.Account{User: u, Acceptances: accepted}, current))
	})
}

// sendConfirmation emails the confirmation link of a new account, unless
// Amazon SES reported its address as bouncing or complaining (an earlier
// account's): one eventually consistent read. A suppressed address waits
// as long as a send would, so the answer does not tell.
func (d *deps) sendConfirmation(ctx context.Context, u pufinid.User, secret string) error {
	isSuppressed, err := d.Store.IsSuppressed(ctx, u.Email)
	if err != nil {
		return err
	}
	if isSuppressed {
		suppressed(ctx, u.ID, store.PurposeConfirm)
		d.pace.wait(ctx)
		return nil
	}
	return d.sendToken(ctx, store.PurposeConfirm, recipient{Address: u.Email, OrganizationName: u.OrganizationName, Theme: u.Theme}, secret)
}

// signupReferences reads the organization signup joins (nil for an unknown
// code) and the current terms, in parallel: one round trip (the terms only
// once per version and instance: store.Store.Terms).
func (d *deps) signupReferences(ctx context.Context, code *string) (*pufinid.Organization, []pufinid.Term, error) {
	var (
		org          pufinid.Organization
		terms        []pufinid.Term
		orgErr, tErr error
		wg           sync.WaitGroup
	)
	wg.Go(func() { terms, tErr = d.Store.Terms(ctx) })
	org, orgErr = d.Store.OrganizationByCode(ctx, code)
	wg.Wait()
	if errors.Is(orgErr, store.ErrNotFound) {
		if code == nil {
			// Reference data without a Demo organization: the deployment is
			// broken, not the request.
			orgErr = apierror.UnavailableErr(errors.New("no Demo organization (code null) in the table; load the fixtures"))
		} else {
			return nil, pufinid.CurrentTerms(terms, d.Now()), tErr
		}
	}
	if err := firstErr(orgErr, tErr); err != nil {
		return nil, nil, err
	}
	return &org, pufinid.CurrentTerms(terms, d.Now()), nil
}

// acceptances turns terms_accepted into acceptances of the current
// versions: "*" accepts every current term; any other entry must be the
// slug of a current term, else it is named in a 400.
func acceptances(in *web.Input, slugs []string, current []pufinid.Term, now time.Time) []pufinid.Acceptance {
	all := slices.Contains(slugs, AcceptAll)
	var out []pufinid.Acceptance
	for _, t := range current {
		if all || slices.Contains(slugs, t.Slug) {
			out = append(out, pufinid.Acceptance{Slug: t.Slug, VersionNumber: t.VersionNumber, AcceptedAt: now.UTC()})
		}
	}
	for _, slug := range slugs {
		known := slices.ContainsFunc(current, func(t pufinid.Term) bool { return t.Slug == slug })
		if slug != AcceptAll && !known {
			in.Errs.Add("terms_accepted", fmt.Sprintf("No current term has the slug %q.", slug))
		}
	}
	return out
}
