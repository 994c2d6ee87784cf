// Package token mints and verifies the API's JWTs. Tokens are signed with
// Ed25519 (EdDSA) keys of a rotating key set (keys.go): every token names
// its key in kid, the algorithm is pinned to the key (alg "none", HS256 and
// every other algorithm are refused, RFC 8725), and a token of a key that
// left the set verifies nothing. Every token carries its type ("access"
// or "refresh"), an expiry, an issue time and a unique id, and a token of
// one type is never accepted as the other. Its dates (exp, iat, and nbf
// when present) must be JSON numbers, as RFC 7519 has them.
//
// An Issuer reads its key set from a KeySource on first use, cached per
// instance (Cached): the issuing function's is the private set, every
// other function's the public one, so only the issuer can mint.
// Whether a refresh token has been revoked is the store's business, not this
// package's.
package token

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
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

const issuer = "pufinid"

// Claims are the token's claims. Clients must not rely on them (the seed);
// the server does.
type Claims struct {
	jwt.RegisteredClaims
	TokenType Type `json:"token_type"`
	// Organization is the id of the user's organization, in the tokens
	// minted since it was added (older ones lack it). A user's organization
	// is fixed at signup, so a function that needs it (PUF designs) reads
	// the organization's data at once, alongside the profile read that
	// checks the user still exists, instead of after it; it still answers
	// for the profile's organization should the two ever differ.
	Organization string `json:"org,omitempty"`
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

// Issuer signs and verifies tokens with the key sets of its sources.
type Issuer struct {
	keys   KeySource // signs
	verify KeySource // verifies; keys unless VerifyWith
	now    func() time.Time
	parser *jwt.Parser
}

// NewIssuer returns an Issuer that signs and verifies with keys; now is
// the clock (time.Now if nil).
func NewIssuer(keys KeySource, now func() time.Time) *Issuer {
	if now == nil {
		now = time.Now
	}
	return &Issuer{
		keys:   keys,
		verify: keys,
		now:    now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{KeyAlg}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithIssuer(issuer),
			jwt.WithTimeFunc(now),
		),
	}
}

// VerifyWith returns i verifying with src (the published public set) and
// signing as before: the issuing function reads its private keys only to
// sign, so a request that only verifies never waits for them.
func (i *Issuer) VerifyWith(src KeySource) *Issuer {
	c := *i
	c.verify = src
	return &c
}

// Mint signs a token of typ for userID, of organization org ("" for none),
// that lives for lifetime, with the current key; it returns the token and
// its claims (whose ID is a fresh random jti). It needs the private set: a
// verifier's Issuer cannot mint.
func (i *Issuer) Mint(ctx context.Context, typ Type, userID, org string, lifetime time.Duration) (string, Claims, error) {
	set, err := i.keys.KeySet(ctx)
	if err != nil {
		return "", Claims{}, err
	}
	now := i.now().Truncate(time.Second)
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   userID,
			ID:        newID(),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(lifetime)),
		},
		TokenType:    typ,
		Organization: org,
	}
	s, err := SignWith(set, c)
	return s, c, err
}

// Warm starts reading the key set in the background, for a caller about
// to sign after other work (a login hashes the password first): the read
// runs alongside it, and Mint waits for it. An error is Mint's to report.
func (i *Issuer) Warm(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	go func() { _, _ = i.keys.KeySet(ctx) }()
}

// WarmUp readies a cold instance to verify, off the request path (Warm,
// above, is a request's read of the signing keys; WarmUp is init's, of
// the verifying ones): it
// reads the key set verification uses (its first request's first read;
// that request then waits for this read rather than making its own) and,
// meanwhile, has the first Ed25519 verification build the base-point
// tables every later one uses (about 0.4 ms, against 0.07 ms for a
// verification once they exist). lambdafn starts it during init, where
// it overlaps the fetching of the first event. A failed read is the
// request's to make again and report.
func (i *Issuer) WarmUp(ctx context.Context) {
	go warmEd25519()
	_, _ = i.verify.KeySet(ctx)
}

// warmEd25519 verifies RFC 8032's first test vector (section 7.1, TEST
// 1: the empty message), which takes verification's whole path.
func warmEd25519() bool {
	pub, _ := hex.DecodeString("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
	sig, _ := hex.DecodeString("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
	return ed25519.Verify(pub, nil, sig)
}

// ErrInvalid is every reason a token is refused; callers answer the same
// way whatever the reason, so no reason leaks.
var ErrInvalid = errors.New("token invalid")

// Parse verifies s and returns its claims. want restricts the type; "" takes
// either. A token that does not verify is ErrInvalid; a key set that
// cannot be read is the source's error (a 503), not a refusal.
func (i *Issuer) Parse(ctx context.Context, s string, want Type) (Claims, error) {
	set, err := i.verify.KeySet(ctx)
	if err != nil {
		return Claims{}, err
	}
	var c Claims
	t, err := i.parser.ParseWithClaims(s, &c, set.Keyfunc)
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

// JWKS is the public key set the Issuer verifies with, as RFC 7517
// publishes it.
func (i *Issuer) JWKS(ctx context.Context) ([]byte, error) {
	set, err := i.verify.KeySet(ctx)
	if err != nil {
		return nil, err
	}
	return set.JWKS()
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
	c, err := i.Parse(r.Context(), strings.TrimSpace(tok), Access)
	if errors.Is(err, ErrInvalid) {
		return Claims{}, InvalidForAuth()
	}
	return c, err
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
