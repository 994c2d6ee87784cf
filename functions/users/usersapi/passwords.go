package usersapi

import (
	"errors"
	"net/http"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/password"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/token"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Messages of the password routes; the old-password one is Django's.
const (
	msgWrongOldPassword = "Your old password was entered incorrectly. Please enter it again."
	msgPasswordChanged  = "Your password has been changed."
	msgPasswordReset    = "Your password has been reset. You can log in with the new password."
)

// readNewPassword reads new_password and new_password_confirm under the
// signup rules; the password is compared with u's fields when u is known.
func readNewPassword(in *web.Input, u *pufinid.User) string {
	pw, ok := in.String("new_password", passwordRule)
	confirm, confirmOK := in.String("new_password_confirm", web.Str{Required: true, NoTrim: true})
	if ok && confirmOK && pw != confirm {
		in.Errs.Add("new_password_confirm", msgPasswordsDiffer)
	}
	if ok {
		var attrs map[string]string
		if u != nil {
			attrs = passwordAttrs(*u)
		}
		for _, msg := range password.Validate(pw, attrs) {
			in.Errs.Add("new_password", msg)
		}
	}
	return pw
}

// handleChangePassword sets a new password for the caller, who proves they
// know the old one, and ends every session (refresh token) they have.
func handleChangePassword(d *deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		c, err := d.Tokens.Authenticate(r)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		in, err := web.DecodeObject(r)
		if err != nil {
			d.refuse(w, r, c.UserID(), err)
			return
		}
		old, oldOK := in.String("old_password", web.Str{Required: true, NoTrim: true})
		acct, err := d.Store.Account(ctx, c.UserID())
		if err != nil {
			web.Error(w, r, token.UserGone(err))
			return
		}
		u := acct.User
		pw := readNewPassword(in, &u)
		if oldOK {
			ok, err := d.checkPassword(r, old, u)
			if err != nil {
				web.Error(w, r, err)
				return
			}
			if !ok {
				in.Errs.Add("old_password", msgWrongOldPassword)
			}
		}
		if err := in.Err(); err != nil {
			web.Error(w, r, err)
			return
		}
		hash, err := password.Hash(pw)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		// One write sets the new password and revokes every refresh token,
		// so no session outlives the change, and a login that checked the
		// old password cannot record one after it (the store conditions
		// it on the hash it checked).
		err = d.Store.ChangePassword(ctx, u.ID, u.PasswordHash, hash)
		if errors.Is(err, store.ErrUserChanged) {
			// Changed (or deleted) since it was checked: the old password the
			// client gave is no longer the password.
			err = apierror.Field("old_password", msgWrongOldPassword)
		}
		if err != nil {
			web.Error(w, r, err)
			return
		}
		web.Logger(ctx).Info("password changed", "user_id", u.ID)
		web.JSON(w, r, http.StatusOK, map[string]string{"detail": msgPasswordChanged})
	})
}

// handleResetPassword sets a new password with a token from a reset email
// and ends every session. A request refused for any other reason
// (passwords that differ, a weak password) leaves the token usable.
func handleResetPassword(d *deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		in, err := web.DecodeObject(r)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		email, emailOK := in.Email("email")
		secret, secretOK := in.String("token", web.Str{Required: true})
		var (
			u       pufinid.User
			tokenOK bool
		)
		if emailOK && secretOK {
			if u, tokenOK, err = d.checkEmailToken(ctx, email, secret, store.PurposeReset); err != nil {
				web.Error(w, r, err)
				return
			}
			if !tokenOK {
				in.Errs.Add("token", msgBadToken)
			}
		}
		var known *pufinid.User
		if tokenOK {
			known = &u
		}
		pw := readNewPassword(in, known)
		if err := in.Err(); err != nil {
			web.Error(w, r, err)
			return
		}
		hash, err := password.Hash(pw)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		// As for a change: the password and the end of every session are
		// one write, with the use of the token.
		err = d.Store.ResetPassword(ctx, u.ID, hashToken(secret), hash, d.Now())
		if errors.Is(err, store.ErrEmailTokenInvalid) {
			err = apierror.Field("token", msgBadToken) // used by a parallel request meanwhile
		}
		if err != nil {
			web.Error(w, r, err)
			return
		}
		web.Logger(ctx).Info("password reset", "user_id", u.ID)
		web.JSON(w, r, http.StatusOK, map[string]string{"detail": msgPasswordReset})
	})
}
