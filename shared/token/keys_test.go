package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// clock is the injected time of the rotation tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func mustKey(t *testing.T, c *clock) Key {
	t.Helper()
	k, err := NewKey(rand.Reader, c.now())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// verifier parses tokens against a public set, as every function but the
// issuer will: the set's JWKS, read back.
func verifier(t *testing.T, s KeySet, c *clock) func(string) error {
	t.Helper()
	doc, err := s.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParseKeySet(doc)
	if err != nil {
		t.Fatal(err)
	}
	p := jwt.NewParser(jwt.WithValidMethods([]string{KeyAlg}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(c.now))
	return func(tok string) error {
		_, err := p.ParseWithClaims(tok, &Claims{}, pub.Keyfunc)
		return err
	}
}

func mint(t *testing.T, s KeySet, c *clock, life time.Duration) string {
	t.Helper()
	now := c.now()
	tok, err := SignWith(s, Claims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: "u1", ID: newID(), IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(life)),
	}, TokenType: Refresh})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// The whole procedure, on the injected clock: a first key; a rotation
// (add, wait for the caches, promote, wait the longest refresh lifetime,
// retire) during which nobody is logged out; and a retired key's tokens
// refused even where they have not expired.
func TestRotationLogsNobodyOutAndRetiredKeysVerifyNothing(t *testing.T) {
	t.Parallel()
	const (
		cacheTTL   = 5 * time.Minute // verifiers' cache of the public set
		maxRefresh = 7 * 24 * time.Hour
	)
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}

	// The first key: added and promoted at once.
	s, err := KeySet{}.AddNext(mustKey(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if s, err = s.Promote(c.now(), cacheTTL); err != nil {
		t.Fatalf("the first key: %v", err)
	}
	first, _ := s.Current()

	// Day 1: a new key is published. Tokens are still signed by the first.
	c.advance(24 * time.Hour)
	if s, err = s.AddNext(mustKey(t, c)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddNext(mustKey(t, c)); !errors.Is(err, ErrNextPending) {
		t.Errorf("a second next key: err %v, want ErrNextPending", err)
	}
	if cur, _ := s.Current(); cur.ID != first.ID {
		t.Errorf("adding a key changed the signing key")
	}
	// Too soon: a verifier may still cache the set without it.
	c.advance(cacheTTL - time.Second)
	if _, err := s.Promote(c.now(), cacheTTL); !errors.Is(err, ErrTooSoon) {
		t.Errorf("promote before the caches have the key: err %v, want ErrTooSoon", err)
	}
	c.advance(time.Second)
	// A verifier that cached the set since the key was added accepts
	// tokens of the new key as soon as it signs.
	cached := verifier(t, s, c)
	// The first key's last tokens: one of the longest lifetime, and one
	// longer than any organization's (a policy changed meanwhile).
	old := mint(t, s, c, maxRefresh)
	overlong := mint(t, s, c, maxRefresh+24*time.Hour)
	if s, err = s.Promote(c.now(), cacheTTL); err != nil {
		t.Fatal(err)
	}
	second, _ := s.Current()
	if second.ID == first.ID {
		t.Fatal("promote kept the old key current")
	}
	fresh := mint(t, s, c, time.Hour)
	if err := cached(fresh); err != nil {
		t.Errorf("a verifier with the set from before the promotion refuses the new key's token: %v", err)
	}
	// The old token keeps working across the rotation, everywhere.
	if err := verifier(t, s, c)(old); err != nil {
		t.Errorf("a token signed before the rotation is refused after it: %v", err)
	}

	// Retiring too early drops nothing: tokens of the first key may live.
	c.advance(maxRefresh - time.Hour)
	if got, retired := s.Retire(c.now(), maxRefresh); len(retired) != 0 || len(got.Keys) != 2 {
		t.Errorf("retire before the longest lifetime dropped %v", retired)
	}
	if err := verifier(t, s, c)(old); err != nil {
		t.Errorf("the old token, still live, is refused: %v", err)
	}
	c.advance(time.Hour)
	s, retired := s.Retire(c.now(), maxRefresh)
	if len(retired) != 1 || retired[0] != first.ID {
		t.Fatalf("retired %v, want the first key", retired)
	}
	// A token of the retired key is refused, even one whose own expiry
	// is still ahead.
	if err := verifier(t, s, c)(overlong); err == nil || !errors.Is(err, jwt.ErrTokenUnverifiable) && !errors.Is(err, ErrInvalid) {
		t.Errorf("a live token of a retired key: err %v, want it refused for its key", err)
	}
	if err := verifier(t, s, c)(fresh); err == nil {
		t.Error("the new key's token expired an hour after it was signed, yet is accepted")
	}
}

func TestKeyfuncPinsTheAlgorithmToTheKey(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Now()}
	s, _ := KeySet{}.AddNext(mustKey(t, c))
	s, _ = s.Promote(c.now(), 0)
	k, _ := s.Current()
	good := mint(t, s, c, time.Hour)
	verify := verifier(t, s, c)
	claims := jwt.MapClaims{"iss": issuer, "sub": "u1", "jti": "x", "iat": c.now().Unix(), "exp": c.now().Add(time.Hour).Unix(), "token_type": "access"}
	forge := func(method jwt.SigningMethod, kid any, key any) string {
		tk := jwt.NewWithClaims(method, claims)
		if kid != nil {
			tk.Header["kid"] = kid
		}
		sig, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name string
		tok  string
	}{
		// HS256 keyed with the public key's bytes: the classic confusion.
		{"HS256 with the public key as its secret", forge(jwt.SigningMethodHS256, k.ID, []byte(k.Public))},
		{"alg none", forge(jwt.SigningMethodNone, k.ID, jwt.UnsafeAllowNoneSignatureType)},
		{"no kid", forge(jwt.SigningMethodEdDSA, nil, k.Private)},
		{"an unknown kid", forge(jwt.SigningMethodEdDSA, "not-a-key", k.Private)},
		{"a kid that is not a string", forge(jwt.SigningMethodEdDSA, 7, k.Private)},
		{"the set's kid, another key's signature", forge(jwt.SigningMethodEdDSA, k.ID, otherPriv)},
		{"a tampered payload", good[:strings.Index(good, ".")+1] + "eyJzdWIiOiJ1MiJ9" + good[strings.LastIndex(good, "."):]},
	}
	for _, tc := range tests {
		if err := verify(tc.tok); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if err := verify(good); err != nil {
		t.Errorf("the set's own token: %v", err)
	}
}

// The private document keeps everything the issuer needs; the JWKS keeps
// nothing private and is RFC 7517's shape.
func TestKeySetDocuments(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	s, _ := KeySet{}.AddNext(mustKey(t, c))
	s, _ = s.Promote(c.now(), 0)
	s, _ = s.AddNext(mustKey(t, c))

	priv, err := s.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseKeySet(priv)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range s.Keys {
		b := back.Keys[i]
		if b.ID != k.ID || b.State != k.State || !b.Since.Equal(k.Since) || !b.Private.Equal(k.Private) {
			t.Errorf("key %d read back as %+v, want %+v", i, b, k)
		}
	}

	pub, err := s.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(pub, &doc); err != nil || len(doc.Keys) != 2 {
		t.Fatalf("JWKS %s: %v", pub, err)
	}
	for _, k := range doc.Keys {
		if _, ok := k["d"]; ok {
			t.Errorf("the JWKS holds a private key: %s", pub)
		}
		for m, want := range map[string]string{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig"} {
			if k[m] != want {
				t.Errorf("JWKS key %s = %v, want %s", m, k[m], want)
			}
		}
		if strings.Contains(string(pub), "pufinid_") {
			t.Errorf("the JWKS holds the rotation's state: %s", pub)
		}
	}
	// RFC 7638's own example (appendix A.3 of RFC 8037): the thumbprint
	// of its Ed25519 key.
	x, _ := unb64("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", ed25519.PublicKeySize)
	if got, want := Thumbprint(ed25519.PublicKey(x)), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Errorf("Thumbprint = %s, want RFC 8037's %s", got, want)
	}
}

func TestParseKeySetRefusesWhatIsNotAnEd25519Set(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Now()}
	k := mustKey(t, c)
	other := mustKey(t, c)
	good := `{"kty":"OKP","crv":"Ed25519","x":"` + b64(k.Public) + `","kid":"` + k.ID + `","alg":"EdDSA","use":"sig"}`
	tests := map[string]string{
		"not JSON":              `{`,
		"an RSA key":            strings.Replace(good, `"OKP"`, `"RSA"`, 1),
		"another algorithm":     strings.Replace(good, `"EdDSA"`, `"HS256"`, 1),
		"an encryption key":     strings.Replace(good, `"sig"`, `"enc"`, 1),
		"a kid not its key's":   strings.Replace(good, k.ID, other.ID, 1),
		"the same key twice":    good + "," + good,
		"a short x":             strings.Replace(good, b64(k.Public), "AAAA", 1),
		"a private key not x's": strings.Replace(good, `"kid"`, `"d":"`+b64(other.Private.Seed())+`","pufinid_state":"current","kid"`, 1),
	}
	for name, keys := range tests {
		if _, err := ParseKeySet([]byte(`{"keys":[` + keys + `]}`)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseKeySet([]byte(`{"keys":[` + good + `]}`)); err != nil {
		t.Errorf("a good public key: %v", err)
	}
}
