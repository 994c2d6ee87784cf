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

// ProfileField is a field of the profile that a user sets themselves: given
// at signup, replaced by PUT and changed by PATCH, and answered in every
// user body. ProfileFields lists them all, and everything that handles
// them goes through that list, so adding one is one line there and one
// field of User (and of the users group's body).
type ProfileField struct {
	// Name is the field's JSON member in requests and bodies, and the
	// DynamoDB attribute it is stored in: the dynamodbav tag of the field
	// Of returns (the store's tests check the two agree).
	Name string
	// IsName marks a first or last name, which signup requires; the other
	// fields are optional.
	IsName bool
	// Of returns u's field.
	Of func(u *User) **string
}

// ProfileFields are the profile fields in the contract's order, names first.
var ProfileFields = []ProfileField{
	{"first_name", true, func(u *User) **string { return &u.FirstName }},
	{"last_name", true, func(u *User) **string { return &u.LastName }},
	{"phone", false, func(u *User) **string { return &u.Phone }},
	{"postcode", false, func(u *User) **string { return &u.Postcode }},
	{"country", false, func(u *User) **string { return &u.Country }},
	{"gender", false, func(u *User) **string { return &u.Gender }},
	{"age", false, func(u *User) **string { return &u.Age }},
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
