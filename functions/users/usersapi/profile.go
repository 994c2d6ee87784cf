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

// profileFields pairs each field of the body a user may change with the
// profile field it sets; names come first.
var profileFields = []struct {
	json  string
	field store.ProfileField
	name  bool
}{
	{"first_name", store.FieldFirstName, true},
	{"last_name", store.FieldLastName, true},
	{"phone", store.FieldPhone, false},
	{"postcode", store.FieldPostcode, false},
	{"country", store.FieldCountry, false},
	{"gender", store.FieldGender, false},
	{"age", store.FieldAge, false},
}

// Messages of the profile routes.
const (
	msgWrongPassword = "The password is incorrect."
)

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	id, err := h.caller(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	h.answerUser(w, r, http.StatusOK, id)
}

// answerUser reads the user and answers their body with status.
func (h *handler) answerUser(w http.ResponseWriter, r *http.Request, status int, id string) {
	acct, current, err := h.account(r.Context(), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, status, userBody(acct, current))
}

func (h *handler) put(w http.ResponseWriter, r *http.Request)   { h.update(w, r, true) }
func (h *handler) patch(w http.ResponseWriter, r *http.Request) { h.update(w, r, false) }

// update is PUT (full: every field required, null allowed for the optional
// ones) and PATCH (any subset, no nulls). Read-only and unknown fields are
// ignored. The write is conditional on the user existing, so a deleted
// user's token cannot bring a profile back.
func (h *handler) update(w http.ResponseWriter, r *http.Request, full bool) {
	id, err := h.caller(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	in, err := web.DecodeObject(r)
	if err != nil {
		h.refuse(w, r, id, err)
		return
	}
	set := map[store.ProfileField]*string{}
	for _, f := range profileFields {
		if !full && !in.Has(f.json) {
			continue
		}
		rule := optionalRule
		if f.name {
			rule = nameRule
		}
		rule.Required, rule.AllowNull = full, full
		if s, ok := in.String(f.json, rule); ok {
			set[f.field] = &s
		} else if full && in.IsNull(f.json) {
			set[f.field] = nil
		}
	}
	if err := in.Err(); err != nil {
		h.refuse(w, r, id, err)
		return
	}
	if err := h.Store.UpdateProfile(r.Context(), id, set); err != nil {
		err = token.UserGone(err)
		web.Error(w, r, err)
		return
	}
	h.answerUser(w, r, http.StatusOK, id)
}

// delete removes the caller and all their data once they confirm with
// their password; afterwards their email is free to sign up again, their
// refresh tokens are gone and their access tokens get 403.
func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	id, err := h.caller(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	in, err := web.DecodeObject(r)
	if err != nil {
		h.refuse(w, r, id, err)
		return
	}
	pw, _ := in.String("password", web.Str{Required: true, NoTrim: true})
	if err := in.Err(); err != nil {
		h.refuse(w, r, id, err)
		return
	}
	acct, err := h.Store.Account(r.Context(), id)
	if err != nil {
		err = token.UserGone(err)
		web.Error(w, r, err)
		return
	}
	ok, err := h.checkPassword(r, pw, acct.User)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if !ok {
		web.Error(w, r, apierror.Field("password", msgWrongPassword))
		return
	}
	if err := h.Store.DeleteUser(r.Context(), acct.User); err != nil {
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
}

// refuse answers err, the caller's mistake in the body, unless their
// account is gone: as in DRF, authentication (which finds the user) comes
// before the body, so a deleted user's token gets its 403 whatever it
// sends. Only refusals pay for the read.
func (h *handler) refuse(w http.ResponseWriter, r *http.Request, id string, err error) {
	if _, aerr := h.Store.Account(r.Context(), id); aerr != nil {
		err = token.UserGone(aerr)
	}
	web.Error(w, r, err)
}

// checkPassword checks pw as u's password under the caps on password
// checks (store.Reserve): the check is reserved before the password is
// looked at, so a capped one is a 429 error however many run at once, and
// a wrong one stays counted as this source's failure.
func (h *handler) checkPassword(r *http.Request, pw string, u pufinid.User) (bool, error) {
	ctx := r.Context()
	c, err := h.Store.PasswordCheckFor(ctx, u.ID, web.SourceIP(r))
	if err != nil {
		return false, err
	}
	if err := h.Store.Reserve(ctx, c); err != nil {
		if apierror.Is(err, apierror.Throttled) {
			web.Logger(ctx).Info("password check throttled", "user_id", u.ID)
		}
		return false, err
	}
	if !passwordMatches(ctx, pw, u) {
		web.Logger(ctx).Info("password check failed", "user_id", u.ID)
		return false, nil
	}
	h.Store.CheckSucceeded(ctx, c)
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
