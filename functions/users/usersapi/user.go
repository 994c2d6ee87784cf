package usersapi

import (
	"context"
	"encoding/json"
	"net/http"
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

// userBody is a's body given the current terms.
func userBody(a pufinid.Account, current []pufinid.Term) User {
	u := a.User
	theme := u.Theme
	if len(theme) == 0 || !json.Valid(theme) {
		theme = json.RawMessage(`{}`)
	}
	return User{
		ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username, Email: u.Email,
		TermsNotAccepted: a.NotAccepted(current), IsVerified: u.IsVerified,
		Phone: u.Phone, Postcode: u.Postcode, Country: u.Country, Gender: u.Gender, Age: u.Age,
		OrganizationName: u.OrganizationName, Theme: theme,
	}
}

// caller authenticates the request and checks that its {id} names the
// caller ("me" or their own id): a missing or bad token is a 403, another
// user's id a 404 that says nothing about that user.
func (h *handler) caller(r *http.Request) (string, error) {
	c, err := h.Tokens.Authenticate(r)
	if err != nil {
		return "", err
	}
	if id := r.PathValue("id"); id != "me" && !strings.EqualFold(id, c.UserID()) {
		return "", apierror.NotFoundErr()
	}
	return c.UserID(), nil
}

// account reads the caller's account and the current terms: two DynamoDB
// requests, one round trip. A token whose user is gone is a 403, as for any
// invalid token.
func (h *handler) account(ctx context.Context, userID string) (pufinid.Account, []pufinid.Term, error) {
	acct, all, err := h.Store.AccountAndTerms(ctx, userID)
	if err != nil {
		return acct, nil, token.UserGone(err)
	}
	return acct, pufinid.CurrentTerms(all, h.Now()), nil
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
