package pufinid

import "time"

// Lifetimes are how long the tokens the API issues stay valid. Every
// lifetime the API enforces, and every default, is declared here, once:
// the token routes mint with them, the users routes stamp emailed tokens
// with them and the emails say them (worded from these durations), and the
// fixture loader fills them in.
//
// An organization sets its users' Access and Refresh lifetimes. The
// organization and each user (who gets a copy at signup) store them as
// whole seconds, access_token_lifetime and refresh_token_lifetime, where
// zero or less means the default: items written without them still read.
// The emailed tokens' lifetimes are everyone's.
type Lifetimes struct {
	Access        time.Duration // access tokens
	Refresh       time.Duration // refresh tokens, and their record in the table
	ConfirmEmail  time.Duration // the token the confirmation email carries
	ResetPassword time.Duration // the token the password reset email carries
}

// DefaultLifetimes apply where an organization sets none (Access and
// Refresh are simplejwt's defaults, as the seed shows them), and to every
// emailed token.
var DefaultLifetimes = Lifetimes{
	Access:        300 * time.Second,
	Refresh:       86400 * time.Second,
	ConfirmEmail:  72 * time.Hour,
	ResetPassword: time.Hour,
}

// MaxRefresh is the longest refresh lifetime (and so access lifetime) an
// organization may set. A signing key is retired 30 days after it stopped
// signing (secretkeys.DefaultRetireAfter, which a test holds to at least
// this, the key set's cache time and an hour more), and a refresh token
// must expire before the key that signed it is retired, or its user is
// logged out early. The fixture loader refuses longer lifetimes, and a
// longer one stored anyway is cut to this.
const MaxRefresh = 29 * 24 * time.Hour

// WithDefaults is l with each lifetime that is not set (zero or less)
// replaced by its default, and an access or refresh lifetime over
// MaxRefresh cut to it.
func (l Lifetimes) WithDefaults() Lifetimes {
	or := func(d, def time.Duration) time.Duration {
		if d <= 0 {
			return def
		}
		return d
	}
	return Lifetimes{
		Access:        min(or(l.Access, DefaultLifetimes.Access), MaxRefresh),
		Refresh:       min(or(l.Refresh, DefaultLifetimes.Refresh), MaxRefresh),
		ConfirmEmail:  or(l.ConfirmEmail, DefaultLifetimes.ConfirmEmail),
		ResetPassword: or(l.ResetPassword, DefaultLifetimes.ResetPassword),
	}
}

// Seconds are l's access and refresh lifetimes in whole seconds, the form
// organizations and users store them in.
func (l Lifetimes) Seconds() (access, refresh int) {
	return int(l.Access / time.Second), int(l.Refresh / time.Second)
}

// storedLifetimes are the lifetimes of an item storing accessSecs and
// refreshSecs, with the defaults for what it does not set.
func storedLifetimes(accessSecs, refreshSecs int) Lifetimes {
	return Lifetimes{
		Access:  time.Duration(accessSecs) * time.Second,
		Refresh: time.Duration(refreshSecs) * time.Second,
	}.WithDefaults()
}

// Lifetimes are the lifetimes of the organization's users' tokens.
func (o Organization) Lifetimes() Lifetimes {
	return storedLifetimes(o.AccessTokenLifetime, o.RefreshTokenLifetime)
}

// Lifetimes are the lifetimes of the user's tokens: their organization's
// as it was when they signed up.
func (u User) Lifetimes() Lifetimes {
	return storedLifetimes(u.AccessTokenLifetime, u.RefreshTokenLifetime)
}
