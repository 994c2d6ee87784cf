package usersapi

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/token"
)

// User is the user body every user route answers.
type User struct {
	ID               string          `json:"id"`
	FirstName        *string         `json:"first_name"`
	LastName         *string         `json:"last_name"`
	Username         *string         `json:"username"`
	Email            string          `json:"email"`
	TermsNotAccepted []string        `json:"terms_not_accepted"`
	IsVerified       bool            `json:"is_verified"`
	Phone            *string         `json:"phone"`
	Postcode         *string         `json:"postcode"`
	Country          *string         `json:"country"`
	Gender           *string         `json:"gender"`
	Age              *string         `json:"age"`
	OrganizationName string          `json:"organization_name"`
	Theme            json.RawMessage `json:"theme"`
}

// userBody is a's body given the current terms. The profile fields are
// copied through pufinid.ProfileFields, into the members profileMembers
// found for them.
func userBody(a pufinid.Account, current []pufinid.Term) User {
	u := a.User
	theme := u.Theme
	if len(theme) == 0 || !json.Valid(theme) {
		theme = json.RawMessage(`{}`)
	}
	b := User{
		ID: u.ID, Username: u.Username, Email: u.Email,
		TermsNotAccepted: a.NotAccepted(current), IsVerified: u.IsVerified,
		OrganizationName: u.OrganizationName, Theme: theme,
	}
	v := reflect.ValueOf(&b).Elem()
	for i, f := range pufinid.ProfileFields {
		v.Field(profileMembers[i]).Set(reflect.ValueOf(*f.Of(&u)))
	}
	return b
}

// profileMembers are the indexes in User of the members of the profile
// fields, in the order of pufinid.ProfileFields, looked up once by JSON
// name. User declares them itself because the contract orders the body's
// members (the names before username, the rest after is_verified); a
// profile field User has no *string member for stops the package from
// loading, so no test or deployment runs with a body that leaves one out.
var profileMembers = func() []int {
	t := reflect.TypeFor[User]()
	byName := map[string]int{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		byName[name] = i
	}
	out := make([]int, len(pufinid.ProfileFields))
	for j, f := range pufinid.ProfileFields {
		i, ok := byName[f.Name]
		if !ok || t.Field(i).Type != reflect.TypeFor[*string]() {
			panic("usersapi: the user body has no *string member for the profile field " + f.Name)
		}
		out[j] = i
	}
	return out
}()

// caller authenticates the request and checks that its {id} names the
// caller ("me" or their own id): a missing or bad token is a 403, another
// user's id a 404 that says nothing about that user.
func (d *deps) caller(r *http.Request) (string, error) {
	c, err := d.Tokens.Authenticate(r)
	if err != nil {
		return "", err
	}
	if id := r.PathValue("id"); id != "me" && !strings.EqualFold(id, c.UserID()) {
		return "", apierror.NotFoundErr()
	}
	return c.UserID(), nil
}

// account reads the caller's account and the current terms: one Query of
// the account, and of the terms once per version and instance, at once. A token whose user is gone is a 403, as for any
// invalid token.
func (d *deps) account(ctx context.Context, userID string) (pufinid.Account, []pufinid.Term, error) {
	acct, all, err := d.Store.AccountAndTerms(ctx, userID)
	if err != nil {
		return acct, nil, token.UserGone(err)
	}
	return acct, pufinid.CurrentTerms(all, d.Now()), nil
}

// firstErr is the first non-nil error: an *apierror.Error keeps its code.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
