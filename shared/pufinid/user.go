package pufinid

import (
	"encoding/json"
	"slices"
	"time"
)

// User is an account. Organization fields are copied from the organization
// at signup so that reading a user is one request.
type User struct {
	ID                   string          `dynamodbav:"id"`
	FirstName            *string         `dynamodbav:"first_name"` // null only after a PUT that sets it so
	LastName             *string         `dynamodbav:"last_name"`
	Username             *string         `dynamodbav:"username"`
	Email                string          `dynamodbav:"email"`
	IsVerified           bool            `dynamodbav:"is_verified"`
	Phone                *string         `dynamodbav:"phone"`
	Postcode             *string         `dynamodbav:"postcode"`
	Country              *string         `dynamodbav:"country"`
	Gender               *string         `dynamodbav:"gender"`
	Age                  *string         `dynamodbav:"age"`
	OrganizationID       string          `dynamodbav:"organization_id"`
	OrganizationName     string          `dynamodbav:"organization_name"`
	Theme                json.RawMessage `dynamodbav:"theme"`
	AccessTokenLifetime  int             `dynamodbav:"access_token_lifetime"`
	RefreshTokenLifetime int             `dynamodbav:"refresh_token_lifetime"`
	PasswordHash         string          `dynamodbav:"password_hash"`
	CreatedAt            time.Time       `dynamodbav:"created_at"`
}

// Acceptance records that a user accepted one version of a term.
type Acceptance struct {
	Slug          string    `dynamodbav:"slug"`
	VersionNumber int       `dynamodbav:"version_number"`
	AcceptedAt    time.Time `dynamodbav:"accepted_at"`
}

// Account is a user with the terms they accepted: what one read returns.
type Account struct {
	User        User
	Acceptances []Acceptance
}

// AcceptedAt returns when the account accepted term's version, if it did.
// Accepting an older version does not count for a newer one.
func (a Account) AcceptedAt(t Term) (time.Time, bool) {
	i := slices.IndexFunc(a.Acceptances, func(x Acceptance) bool { return x.Slug == t.Slug })
	if i < 0 || a.Acceptances[i].VersionNumber < t.VersionNumber {
		return time.Time{}, false
	}
	return a.Acceptances[i].AcceptedAt, true
}

// NotAccepted returns the slugs of current terms the account has not
// accepted in their current version.
func (a Account) NotAccepted(current []Term) []string {
	out := []string{}
	for _, t := range current {
		if _, ok := a.AcceptedAt(t); !ok {
			out = append(out, t.Slug)
		}
	}
	return out
}
