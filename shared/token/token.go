// Package token mints and verifies the API's JWTs. The signing algorithm is
// pinned to HS256 (alg "none" and every other algorithm are refused), every
// token carries its type ("access" or "refresh"), an expiry, an issue time
// and a unique id, and a token of one type is never accepted as the other.
// Its dates (exp, iat, and nbf when present) must be JSON numbers, as RFC
// 7519 has them.
// Whether a refresh token has been revoked is the store's business, not this
// package's.
package token

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pufinid/pufinid-api/shared/apierror"
)

// Type tells access tokens from refresh tokens.
type Type string

// The two token types, named as simplejwt names them.
const (
	Access  Type = "access"
	Refresh Type = "refresh"
)

// MinKeyBytes is the shortest signing key accepted: HS256 wants 256 bits.
const MinKeyBytes = 32

const issuer = "pufinid"

// Claims are the token's claims. Clients must not rely on them (the seed);
// the server does.
type Claims struct {
	jwt.RegisteredClaims
	TokenType Type `json:"token_type"`
}

// dateClaims are the registered claims RFC 7519 defines as NumericDate.
var dateClaims = [...]string{"exp", "nbf", "iat"}

// UnmarshalJSON decodes the claims as jwt.RegisteredClaims would, but first
// refuses an exp, nbf or iat that is present and not a JSON number. RFC 7519
// makes them NumericDates, JSON numbers; jwt.NumericDate reads one through
// json.Number, which also takes a string of digits, so without this check
// {"exp": "9999999999"} would be a valid expiry, and a null nbf would
// quietly mean no nbf at all. Names are matched without regard to case, as
// encoding/json matches "EXP" to the exp field. Parse answers ErrInvalid,
// as for any other bad token.
func (c *Claims) UnmarshalJSON(b []byte) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return err
	}
	for name, v := range members {
		for _, date := range dateClaims {
			if strings.EqualFold(name, date) && !isNumber(v) {
				return fmt.Errorf("token: claim %q is not a NumericDate", name)
			}
		}
	}
	type plain Claims // the same fields without this method
	return json.Unmarshal(b, (*plain)(c))
}

// isNumber reports whether v, a well-formed JSON value, is a number: in
// JSON's grammar only a number starts with a minus sign or a digit.
func isNumber(v json.RawMessage) bool {
	v = bytes.TrimLeft(v, " \t\r\n")
	return len(v) > 0 && (v[0] == '-' || '0' <= v[0] && v[0] <= '9')
}

// UserID is the subject.
func (c Claims) UserID() string { return c.Subject }

// Issuer signs and verifies tokens with one key.
type Issuer struct {
	key    []byte
	now    func() time.Time
	parser *jwt.Parser
}

// NewIssuer returns an Issuer for key; now is the clock (time.Now if nil).
func NewIssuer(key []byte, now func() time.Time) (*Issuer, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("token: signing key has %d bytes, at least %d are needed", len(key), MinKeyBytes)
	}
	if now == nil {
		now = time.Now
	}
	return &Issuer{
		key: key,
		now: now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithIssuer(issuer),
			jwt.WithTimeFunc(now),
		),
	}, nil
}

// Mint signs a token of typ for userID that lives for lifetime; it returns
// the token and its claims (whose ID is a fresh random jti).
func (i *Issuer) Mint(typ Type, userID string, lifetime time.Duration) (string, Claims, error) {
	now := i.now().Truncate(time.Second)
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   userID,
			ID:        newID(),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(lifetime)),
		},
		TokenType: typ,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(i.key)
	return s, c, err
}

// ErrInvalid is every reason a token is refused; callers answer the same
// way whatever the reason, so no reason leaks.
var ErrInvalid = errors.New("token invalid")

// Parse verifies s and returns its claims. want restricts the type; "" takes
// either.
func (i *Issuer) Parse(s string, want Type) (Claims, error) {
	var c Claims
	t, err := i.parser.ParseWithClaims(s, &c, func(*jwt.Token) (any, error) { return i.key, nil })
	if err != nil || !t.Valid {
		return Claims{}, ErrInvalid
	}
	if c.Subject == "" || c.ID == "" || c.IssuedAt == nil {
		return Claims{}, ErrInvalid
	}
	if c.TokenType != Access && c.TokenType != Refresh {
		return Claims{}, ErrInvalid
	}
	if want != "" && c.TokenType != want {
		return Claims{}, ErrInvalid
	}
	return c, nil
}

// Authenticate reads "Authorization: Bearer <access token>". Every failure
// is a 403, as the contract says for routes that need a token.
func (i *Issuer) Authenticate(r *http.Request) (Claims, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Claims{}, apierror.New(apierror.Forbidden, "Authentication credentials were not provided.")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" || strings.Contains(strings.TrimSpace(tok), " ") {
		return Claims{}, &apierror.Error{Code: apierror.Forbidden,
			Message: "Authorization header must contain two space-delimited values", TokenCode: "bad_authorization_header"}
	}
	c, err := i.Parse(strings.TrimSpace(tok), Access)
	if err != nil {
		return Claims{}, InvalidForAuth()
	}
	return c, nil
}

// InvalidForAuth is the 403 for a bad token on a route that needs one; also
// used when the token is fine but its user no longer exists.
func InvalidForAuth() *apierror.Error {
	return &apierror.Error{Code: apierror.Forbidden,
		Message: "Given token not valid for any token type", TokenCode: "token_not_valid"}
}

// Optional is Authenticate for routes where a token is optional: no header
// means anonymous (ok false, no error); a header that is present must be valid.
func (i *Issuer) Optional(r *http.Request) (c Claims, ok bool, err error) {
	if r.Header.Get("Authorization") == "" {
		return Claims{}, false, nil
	}
	c, err = i.Authenticate(r)
	return c, err == nil, err
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// UserGone maps the store's not-found for the token's own user to the 403
// of an invalid token: a deleted user's tokens are dead everywhere. Other
// errors pass through.
func UserGone(err error) error {
	if apierror.Is(err, apierror.NotFound) {
		return InvalidForAuth()
	}
	return err
}
