package token_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pufinid/pufinid-api/shared/token"
)

// key is the tests' signing key, fixed, the current key of keys; t0 is
// their clock, fixed.
var (
	key  = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	kid  = token.Thumbprint(key.Public().(ed25519.PublicKey))
	keys = token.KeySet{Keys: []token.Key{{ID: kid, State: token.KeyCurrent, Public: key.Public().(ed25519.PublicKey), Private: key}}}
	t0   = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ctx  = context.Background()
)

const lifetime = 5 * time.Minute

func mustIssuer(t *testing.T, now time.Time) *token.Issuer {
	t.Helper()
	return token.NewIssuer(token.StaticKeys(keys), func() time.Time { return now })
}

func mustMint(t *testing.T, iss *token.Issuer, typ token.Type) string {
	t.Helper()
	s, _, err := iss.Mint(ctx, typ, "user-1", "", lifetime)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// claimsOf is the payload of tok, numbers kept as written.
func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// absent, as a value given to with, removes the claim.
var absent = new(struct{})

// with returns a copy of claims with the given name, value pairs set.
func with(claims map[string]any, kv ...any) map[string]any {
	out := maps.Clone(claims)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == absent {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// sign signs claims as jwt would, with m and k (and kid in the header
// when it is not "").
func sign(t *testing.T, m jwt.SigningMethod, k any, kid string, claims map[string]any) string {
	t.Helper()
	tk := jwt.NewWithClaims(m, jwt.MapClaims(claims))
	if kid != "" {
		tk.Header["kid"] = kid
	}
	s, err := tk.SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signGenuine signs claims with the set's key, as Mint does.
func signGenuine(t *testing.T, claims map[string]any) string {
	t.Helper()
	return sign(t, jwt.SigningMethodEdDSA, key, kid, claims)
}

// signRaw is a token signed with the set's key around exactly the header
// and payload text given, for what a JSON encoder would not write.
func signRaw(header, payload string) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	return input + "." + enc.EncodeToString(ed25519.Sign(key, []byte(input)))
}

// hmacRaw is an HS256 token with k, which jwt would not sign with.
func hmacRaw(k []byte, header, payload string) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, k)
	mac.Write([]byte(input))
	return input + "." + enc.EncodeToString(mac.Sum(nil))
}

var edHeader = `{"alg":"EdDSA","typ":"JWT","kid":"` + kid + `"}`

// mustRefuse fails unless Parse refuses tok with ErrInvalid, the one error
// every bad token gets, and returns no claims.
func mustRefuse(t *testing.T, iss *token.Issuer, tok string, want token.Type) {
	t.Helper()
	c, err := iss.Parse(ctx, tok, want)
	if err != token.ErrInvalid || !reflect.DeepEqual(c, token.Claims{}) {
		t.Fatalf("Parse(%q, %q) = %+v, %v; want ErrInvalid and no claims", tok, want, c, err)
	}
}

// The attack: RFC 7519 makes exp, nbf and iat NumericDates, JSON numbers,
// but jwt.NumericDate reads them through json.Number, which takes a string
// of digits too, so {"exp": "9999999999"} under the right key was a token
// that never expires. Only a holder of the key can sign one, but then any
// other reader of the token (a stricter library sharing the key, a log
// pipeline) sees no valid expiry where this one saw a date far off, and a
// null nbf was read as no nbf at all. Every date that is present and not a
// number, in any case of its name, is refused as any invalid token is;
// numbers however written pass.
func TestParseRefusesDatesThatAreNotNumbers(t *testing.T) {
	t.Parallel()
	iss := mustIssuer(t, t0)
	genuine := claimsOf(t, mustMint(t, iss, token.Access))
	exp, iat := t0.Add(lifetime).Unix(), t0.Unix()
	// payload is the genuine claims as text, dates as given.
	payload := func(dates string) string {
		return `{"iss":"pufinid","sub":"user-1","jti":"j1","token_type":"access",` + dates + `}`
	}
	tests := []struct {
		name   string
		claims map[string]any // signed as jwt signs
		raw    string         // or this payload, signed as it is
		ok     bool
	}{
		{name: "exp a string of digits", claims: with(genuine, "exp", "9999999999")},
		{name: "exp the genuine expiry as a string", claims: with(genuine, "exp", strconv.FormatInt(exp, 10))},
		{name: "exp a string with a fraction", claims: with(genuine, "exp", "9999999999.5")},
		{name: "exp a string in exponent form", claims: with(genuine, "exp", "1e10")},
		{name: "exp an empty string", claims: with(genuine, "exp", "")},
		{name: "exp true", claims: with(genuine, "exp", true)},
		{name: "exp false", claims: with(genuine, "exp", false)},
		{name: "exp null", claims: with(genuine, "exp", nil)},
		{name: "exp an object", claims: with(genuine, "exp", map[string]any{"$date": 9999999999})},
		{name: "exp a list", claims: with(genuine, "exp", []any{9999999999})},
		{name: "nbf a string", claims: with(genuine, "nbf", "0")},
		{name: "nbf null, which would mean no nbf", claims: with(genuine, "nbf", nil)},
		{name: "nbf true", claims: with(genuine, "nbf", true)},
		{name: "nbf an object", claims: with(genuine, "nbf", map[string]any{})},
		{name: "iat a string", claims: with(genuine, "iat", "0")},
		{name: "iat null", claims: with(genuine, "iat", nil)},
		{name: "iat false", claims: with(genuine, "iat", false)},
		{name: "EXP a string beside a numeric exp", claims: with(genuine, "EXP", "9999999999")},
		{name: "Exp a string in place of exp", claims: with(genuine, "exp", absent, "Exp", "9999999999")},
		{name: "Nbf null", claims: with(genuine, "Nbf", nil)},
		{name: "IAT a string in place of iat", claims: with(genuine, "iat", absent, "IAT", "0")},
		{name: "a string after white space", raw: payload(fmt.Sprintf(`"iat":%d,"exp" :  "9999999999"`, iat))},
		{name: "a duplicate exp, the last a string", raw: payload(fmt.Sprintf(`"iat":%d,"exp":%d,"exp":"9999999999"`, iat, exp))},

		{name: "the genuine claims", claims: genuine, ok: true},
		{name: "a past nbf", claims: with(genuine, "nbf", iat-60), ok: true},
		{name: "a negative nbf", claims: with(genuine, "nbf", -1), ok: true},
		{name: "fractional seconds", claims: with(genuine, "exp", float64(exp)+0.5, "iat", float64(iat)-0.5), ok: true},
		{name: "a string claim that is not a date", claims: with(genuine, "expires", "9999999999"), ok: true},
		{name: "numbers after white space and in exponent form", raw: payload(fmt.Sprintf(`"iat": %de0,"exp" :	%d.0`, iat, exp)), ok: true},
		// RFC 7519 4: with duplicate names the last one counts, for the
		// check as for the decoder.
		{name: "a duplicate exp, the last a number", raw: payload(fmt.Sprintf(`"iat":%d,"exp":"9999999999","exp":%d`, iat, exp)), ok: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok := signRaw(edHeader, tc.raw)
			if tc.claims != nil {
				tok = signGenuine(t, tc.claims)
			}
			if !tc.ok {
				mustRefuse(t, iss, tok, token.Access)
				mustRefuse(t, iss, tok, "")
				return
			}
			c, err := iss.Parse(ctx, tok, token.Access)
			if err != nil || c.UserID() != "user-1" || c.ExpiresAt == nil || c.ExpiresAt.Unix() != exp {
				t.Fatalf("Parse = %+v, %v; want user-1's claims, expiring at %d", c, err, exp)
			}
		})
	}
}

var (
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	otherKey = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
	ecKey = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

// Tokens an attacker could make, each from genuine claims so that only the
// forged part differs: other algorithms (with the HS256 key as their
// secret, or keys of their own), another key, edits to a signed token, and
// the genuine token of the wrong type or past its time. Parse refuses every
// one with ErrInvalid. functions/token/tokenapi's TestForgedTokensAreRefused
// sends a set of these through the token routes; this is the whole list,
// against Parse itself.
func TestParseRefusesForgedTokens(t *testing.T) {
	t.Parallel()
	iss := mustIssuer(t, t0)
	access, refresh := mustMint(t, iss, token.Access), mustMint(t, iss, token.Refresh)
	claims := claimsOf(t, access)
	enc := base64.RawURLEncoding
	parts := strings.Split(access, ".")

	// The genuine signature over another payload or another header.
	tamperedPayload := parts[0] + "." + enc.EncodeToString(must(json.Marshal(with(claims, "sub", "mallory")))) + "." + parts[2]
	tamperedHeader := enc.EncodeToString([]byte(`{"alg":"EdDSA","typ":"JWT","kid":"x"}`)) + "." + parts[1] + "." + parts[2]
	hs512Header := enc.EncodeToString([]byte(`{"alg":"HS512","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2]
	// alg none in every case, with the genuine signature or none at all.
	none := func(alg, sig string) string {
		return enc.EncodeToString([]byte(`{"alg":"`+alg+`","typ":"JWT"}`)) + "." + parts[1] + "." + sig
	}

	// Genuine tokens minted one lifetime ago: they expire now, at exp, not
	// a second later.
	earlier := mustIssuer(t, t0.Add(-lifetime))
	expiredAccess, expiredRefresh := mustMint(t, earlier, token.Access), mustMint(t, earlier, token.Refresh)
	tests := []struct {
		name string
		tok  string
		want token.Type
	}{
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, claims), token.Access},
		{"alg none, any type wanted", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, claims), ""},
		{"alg None", none("None", ""), token.Access},
		{"alg NONE with the genuine signature", none("NONE", parts[2]), token.Access},
		{"alg none with the genuine signature", none("none", parts[2]), token.Access},
		// The public key is public: signing HMAC with it must not pass.
		{"HS256 with the public key as its secret", sign(t, jwt.SigningMethodHS256, []byte(key.Public().(ed25519.PublicKey)), kid, claims), token.Access},
		{"HS512 with the public key as its secret", sign(t, jwt.SigningMethodHS512, []byte(key.Public().(ed25519.PublicKey)), kid, claims), token.Access},
		{"HS256 with the seed as its secret", sign(t, jwt.SigningMethodHS256, key.Seed(), kid, claims), token.Access},
		{"RS256", sign(t, jwt.SigningMethodRS256, rsaKey(), kid, claims), token.Access},
		{"PS256", sign(t, jwt.SigningMethodPS256, rsaKey(), kid, claims), token.Access},
		{"ES256", sign(t, jwt.SigningMethodES256, ecKey(), kid, claims), token.Access},
		{"EdDSA by another key, under the set's kid", sign(t, jwt.SigningMethodEdDSA, otherKey(), kid, claims), token.Access},
		{"EdDSA by another key, under its own kid", sign(t, jwt.SigningMethodEdDSA, otherKey(), token.Thumbprint(otherKey().Public().(ed25519.PublicKey)), claims), token.Access},
		{"the set's key without a kid", sign(t, jwt.SigningMethodEdDSA, key, "", claims), token.Access},
		{"HS256 with an empty key", hmacRaw(nil, `{"alg":"HS256","typ":"JWT","kid":"`+kid+`"}`, string(must(json.Marshal(claims)))), token.Access},
		{"tampered payload", tamperedPayload, token.Access},
		{"tampered header", tamperedHeader, token.Access},
		{"header says HS512 over the EdDSA signature", hs512Header, token.Access},
		{"signature dropped", parts[0] + "." + parts[1] + ".", token.Access},
		{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(refresh, ".")[2], token.Access},
		{"refresh token where an access one is wanted", refresh, token.Access},
		{"access token where a refresh one is wanted", access, token.Refresh},
		{"access token expired", expiredAccess, token.Access},
		{"refresh token expired", expiredRefresh, token.Refresh},
		{"not yet valid (nbf)", signGenuine(t, with(claims, "nbf", t0.Add(time.Minute).Unix())), token.Access},
		{"issued in the future", signGenuine(t, with(claims, "iat", t0.Add(time.Minute).Unix())), token.Access},
		{"no expiry", signGenuine(t, with(claims, "exp", absent)), token.Access},
		{"no issue time", signGenuine(t, with(claims, "iat", absent)), token.Access},
		{"no subject", signGenuine(t, with(claims, "sub", absent)), token.Access},
		{"no id", signGenuine(t, with(claims, "jti", absent)), token.Access},
		{"another issuer", signGenuine(t, with(claims, "iss", "someone-else")), token.Access},
		{"no issuer", signGenuine(t, with(claims, "iss", absent)), token.Access},
		{"no token type", signGenuine(t, with(claims, "token_type", absent)), ""},
		{"an unknown token type", signGenuine(t, with(claims, "token_type", "admin")), ""},
		{"a payload that is not an object", signRaw(edHeader, `["user-1"]`), ""},
		{"garbage", "not-a-jwt", ""},
		{"empty", "", ""},
		{"four segments", access + ".x", token.Access},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mustRefuse(t, iss, tc.tok, tc.want)
		})
	}

	// The genuine tokens still pass: each forgery was refused for what
	// was forged.
	for _, c := range []struct {
		tok  string
		want token.Type
	}{{access, token.Access}, {access, ""}, {refresh, token.Refresh}, {refresh, ""}} {
		if _, err := iss.Parse(ctx, c.tok, c.want); err != nil {
			t.Errorf("genuine token, %q wanted: %v", c.want, err)
		}
	}
	if _, err := mustIssuer(t, t0.Add(-time.Second)).Parse(ctx, expiredAccess, token.Access); err != nil {
		t.Errorf("access token a second before its expiry: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// What one token costs: Ed25519 signing and verifying, with the claims'
// JSON and the checks (make bench).
func BenchmarkMint(b *testing.B) {
	iss := token.NewIssuer(token.StaticKeys(keys), func() time.Time { return t0 })
	for b.Loop() {
		if _, _, err := iss.Mint(ctx, token.Access, "user-1", "", lifetime); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	iss := token.NewIssuer(token.StaticKeys(keys), func() time.Time { return t0 })
	tok, _, err := iss.Mint(ctx, token.Access, "user-1", "", lifetime)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := iss.Parse(ctx, tok, token.Access); err != nil {
			b.Fatal(err)
		}
	}
}
