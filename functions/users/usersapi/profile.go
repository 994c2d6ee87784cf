package usersapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/password"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/token"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Field rules from the seed. Signup requires both names; PUT requires every
// field but takes null for each, names included (the seed's "string or
// null"); PATCH takes no nulls. The optional fields also take, as Django's
// CharField(blank=True) does, an empty string.
var (
	nameRule     = web.Str{Required: true, Min: 2, Max: 100}
	optionalRule = web.Str{AllowNull: true, AllowBlank: true, Max: 20}
)

// ruleOf is the signup rule of a profile field (pufinid.ProfileFields, the
// one list of the fields signup, PUT and PATCH read).
func ruleOf(f pufinid.ProfileField) web.Str {
	if f.IsName {
		return nameRule
	}
	return optionalRule
}

// Messages of the profile routes.
const (
	msgWrongPassword = "The password is incorrect."
)

// handleGet answers the caller's own user body.
func handleGet(d *deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := d.caller(r)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		d.answerUser(w, r, http.StatusOK, id)
	})
}

// answerUser reads the user and answers their body with status.
func (d *deps) answerUser(w http.ResponseWriter, r *http.Request, status int, id string) {
	acct, current, err := d.account(r.Context(), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, status, userBody(acct, current))
}

// handleUpdate is PUT (full: every profile field required, null allowed
// for the optional ones) and PATCH (any subset, no nulls). Read-only and
// unknown fields are ignored. The write is conditional on the user
// existing, so a deleted user's token cannot bring a profile back.
func handleUpdate(d *deps, full bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, in, ok := d.callerAndBody(w, r)
		if !ok {
			return
		}
		set := map[string]*string{}
		for _, f := range pufinid.ProfileFields {
			if !full && !in.Has(f.Name) {
				continue
			}
			rule := ruleOf(f)
			rule.Required, rule.AllowNull = full, full
			if s, ok := in.String(f.Name, rule); ok {
				set[f.Name] = &s
			} else if full && in.IsNull(f.Name) {
				set[f.Name] = nil
			}
		}
		if err := in.Err(); err != nil {
			d.refuse(w, r, id, err)
			return
		}
		if err := d.Store.UpdateProfile(r.Context(), id, set); err != nil {
			err = token.UserGone(err)
			web.Error(w, r, err)
			return
		}
		d.answerUser(w, r, http.StatusOK, id)
	})
}

// handleDelete removes the caller and all their data once they confirm with
// their password; afterwards their email is free to sign up again, their
// refresh tokens are gone and their access tokens get 403.
func handleDelete(d *deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, in, ok := d.callerAndBody(w, r)
		if !ok {
			return
		}
		pw, _ := in.String("password", web.Str{Required: true, NoTrim: true})
		if err := in.Err(); err != nil {
			d.refuse(w, r, id, err)
			return
		}
		acct, err := d.Store.Account(r.Context(), id)
		if err != nil {
			err = token.UserGone(err)
			web.Error(w, r, err)
			return
		}
		ok, err = d.checkPassword(r, pw, acct.User)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		if !ok {
			web.Error(w, r, apierror.Field("password", msgWrongPassword))
			return
		}
		if err := d.Store.DeleteUser(r.Context(), acct.User); err != nil {
			// Deleted meanwhile (a second click) or the password changed: the
			// token no longer stands for the account it was checked against.
			if errors.Is(err, store.ErrUserChanged) {
				err = token.InvalidForAuth()
			}
			web.Error(w, r, err)
			return
		}
		web.Logger(r.Context()).Info("user deleted", "user_id", id)
		web.NoContent(w)
	})
}

// refuse answers err, the caller's mistake in the body, unless their
// account is gone: as in DRF, authentication (which finds the user) comes
// before the body, so a deleted user's token gets its 403 whatever it
// sends. Only refusals pay for the read.
func (d *deps) refuse(w http.ResponseWriter, r *http.Request, id string, err error) {
	if _, aerr := d.Store.Account(r.Context(), id); aerr != nil {
		err = token.UserGone(aerr)
	}
	web.Error(w, r, err)
}

// checkPassword checks pw as u's password under the caps on password
// checks (store.Reserve): the check is reserved before the password is
// looked at, so a capped one is a 429 error however many run at once, and
// a wrong one stays counted as this source's failure.
func (d *deps) checkPassword(r *http.Request, pw string, u pufinid.User) (bool, error) {
	ctx := r.Context()
	c, err := d.Store.PasswordCheckFor(ctx, u.ID, web.SourceIP(r))
	if err != nil {
		return false, err
	}
	if err := d.Store.Reserve(ctx, c); err != nil {
		if apierror.Is(err, apierror.Throttled) {
			web.Logger(ctx).Info("password check throttled", "user_id", u.ID)
		}
		return false, err
	}
	if !passwordMatches(ctx, pw, u) {
		web.Logger(ctx).Info("password check failed", "user_id", u.ID)
		return false, nil
	}
	d.Store.CheckSucceeded(ctx, c)
	return true, nil
}

// passwordMatches checks pw against u's stored hash. A hash that cannot be
// checked is logged (never its text) and matches nothing.
func passwordMatches(ctx context.Context, pw string, u pufinid.User) bool {
	ok, _, err := password.Verify(pw, u.PasswordHash)
	if err != nil {
		web.Logger(ctx).Error("stored password hash cannot be checked", "user_id", u.ID, "err", err)
		return false
	}
	return ok
}

// callerAndBody authenticates the request (caller) and decodes its JSON
// object, answering the error itself when either fails: the start of
// every write to the caller's own account.
func (d *deps) callerAndBody(w http.ResponseWriter, r *http.Request) (string, *web.Input, bool) {
	id, err := d.caller(r)
	if err != nil {
		web.Error(w, r, err)
		return "", nil, false
	}
	in, err := web.DecodeObject(r)
	if err != nil {
		d.refuse(w, r, id, err)
		return "", nil, false
	}
	return id, in, true
}
