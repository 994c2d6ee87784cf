package token

// Signing keys that rotate without logging anyone out: a key set of
// Ed25519 keys (EdDSA, RFC 8037), each named by its RFC 7638 thumbprint
// (the kid every token carries) and in one state of its rotation:
//
//	next      published and accepted, not signing yet
//	current   signs every new token (exactly one, once the set is in use)
//	previous  accepted until every token it signed has expired
//
// A rotation is three steps apart in time (README, "Rotating the signing
// keys"): AddNext publishes a new key; Promote, once every verifier's cache
// has seen it (minPublished), makes it current and the current one
// previous; Retire drops a previous key once the longest refresh lifetime
// has passed since it stopped signing, so no live token refers to it. A
// token whose kid is not in the set is refused: a retired key verifies
// nothing.
//
// The private document (MarshalPrivate) is what the issuing function
// holds; JWKS is the public set (RFC 7517) every verifier and
// /.well-known/jwks.json get.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// KeyState is where a key is in its rotation.
type KeyState string

// The states of a key. KeyPublic is a key of a public set (JWKS), which
// carries no state: it verifies, whatever its state in the private set.
const (
	KeyNext     KeyState = "next"
	KeyCurrent  KeyState = "current"
	KeyPrevious KeyState = "previous"
	KeyPublic   KeyState = ""
)

// KeyAlg is the one algorithm of every key: RFC 8725 pins the algorithm
// to the key, so a token naming another is refused before any check.
const KeyAlg = "EdDSA"

// Key is one signing key.
type Key struct {
	ID     string // the RFC 7638 thumbprint of its public key
	State  KeyState
	Since  time.Time // when it entered State
	Public ed25519.PublicKey
	// Private is nil in a public set.
	Private ed25519.PrivateKey
}

// NewKey makes a key from rand's entropy, in state next since now.
func NewKey(rand io.Reader, now time.Time) (Key, error) {
	pub, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return Key{}, fmt.Errorf("token: new key: %w", err)
	}
	return Key{ID: Thumbprint(pub), State: KeyNext, Since: now.UTC().Truncate(time.Second), Public: pub, Private: priv}, nil
}

// FirstKeySet is a new deployment's set: one new key, current at once
// (the local server's, the tests', cmd/keys init's).
func FirstKeySet(rand io.Reader, now time.Time) (KeySet, error) {
	k, err := NewKey(rand, now)
	if err != nil {
		return KeySet{}, err
	}
	s, err := KeySet{}.AddNext(k)
	if err != nil {
		return KeySet{}, err
	}
	return s.Promote(now, 0)
}

// Thumbprint is the RFC 7638 thumbprint of an Ed25519 public key: the
// SHA-256 of its JWK's required members in lexical order, base64url.
func Thumbprint(pub ed25519.PublicKey) string {
	h := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + b64(pub) + `"}`))
	return b64(h[:])
}

// KeySet is the keys a deployment signs and verifies with.
type KeySet struct {
	Keys []Key
}

// Current is the key that signs.
func (s KeySet) Current() (Key, bool) { return s.inState(KeyCurrent) }

// Lookup finds the key a token names; any state verifies.
func (s KeySet) Lookup(kid string) (Key, bool) {
	i := slices.IndexFunc(s.Keys, func(k Key) bool { return k.ID == kid })
	if i < 0 {
		return Key{}, false
	}
	return s.Keys[i], true
}

func (s KeySet) inState(st KeyState) (Key, bool) {
	i := slices.IndexFunc(s.Keys, func(k Key) bool { return k.State == st })
	if i < 0 {
		return Key{}, false
	}
	return s.Keys[i], true
}

// Public is the set without its private keys.
func (s KeySet) Public() KeySet {
	out := KeySet{Keys: slices.Clone(s.Keys)}
	for i := range out.Keys {
		out.Keys[i].Private = nil
	}
	return out
}

// Errors of the rotation steps.
var (
	ErrNextPending = errors.New("token: a next key is already published; promote it first")
	ErrNoNext      = errors.New("token: no next key to promote; add one first")
	ErrTooSoon     = errors.New("token: the next key was published too recently for every verifier to have it")
)

// AddNext publishes k (a NewKey) as the next key.
func (s KeySet) AddNext(k Key) (KeySet, error) {
	if _, ok := s.inState(KeyNext); ok {
		return s, ErrNextPending
	}
	if k.Private == nil || k.State != KeyNext {
		return s, errors.New("token: AddNext takes a new private key")
	}
	if _, dup := s.Lookup(k.ID); dup {
		return s, fmt.Errorf("token: key %s is in the set already", k.ID)
	}
	out := KeySet{Keys: append(slices.Clone(s.Keys), k)}
	return out, out.Validate()
}

// Promote makes the next key current and the current one previous, at
// now. The next key must have been published for minPublished, the
// longest a verifier caches the public set: a token it signs is then
// verifiable everywhere. A set with no current key (the first) promotes
// at once: no verifier can hold a token to check against an older set.
func (s KeySet) Promote(now time.Time, minPublished time.Duration) (KeySet, error) {
	next, ok := s.inState(KeyNext)
	if !ok {
		return s, ErrNoNext
	}
	_, hasCurrent := s.Current()
	if hasCurrent && next.Since.Add(minPublished).After(now) {
		return s, ErrTooSoon
	}
	out := KeySet{Keys: slices.Clone(s.Keys)}
	at := now.UTC().Truncate(time.Second)
	for i, k := range out.Keys {
		switch k.State {
		case KeyCurrent:
			out.Keys[i].State, out.Keys[i].Since = KeyPrevious, at
		case KeyNext:
			out.Keys[i].State, out.Keys[i].Since = KeyCurrent, at
		}
	}
	return out, out.Validate()
}

// Retire drops every previous key that stopped signing at least
// maxLifetime ago (the longest refresh token lifetime of any
// organization): every token it signed has expired. It returns the set
// and the ids it dropped.
func (s KeySet) Retire(now time.Time, maxLifetime time.Duration) (KeySet, []string) {
	var out KeySet
	var retired []string
	for _, k := range s.Keys {
		if k.State == KeyPrevious && !k.Since.Add(maxLifetime).After(now) {
			retired = append(retired, k.ID)
			continue
		}
		out.Keys = append(out.Keys, k)
	}
	return out, retired
}

// Validate checks the set's shape: unique ids that are their keys'
// thumbprints, at most one next and one current key, private keys that
// match their public keys.
func (s KeySet) Validate() error {
	seen := map[string]bool{}
	count := map[KeyState]int{}
	for _, k := range s.Keys {
		switch {
		case len(k.Public) != ed25519.PublicKeySize:
			return fmt.Errorf("token: key %q: not an Ed25519 public key", k.ID)
		case k.ID != Thumbprint(k.Public):
			return fmt.Errorf("token: key %q: its id is not its thumbprint", k.ID)
		case seen[k.ID]:
			return fmt.Errorf("token: key %s twice", k.ID)
		case k.State != KeyNext && k.State != KeyCurrent && k.State != KeyPrevious && !(k.State == KeyPublic && k.Private == nil):
			return fmt.Errorf("token: key %s: state %q", k.ID, k.State)
		case k.Private != nil && (len(k.Private) != ed25519.PrivateKeySize || !bytes.Equal(k.Private.Public().(ed25519.PublicKey), k.Public)):
			return fmt.Errorf("token: key %s: the private key is not the public key's", k.ID)
		}
		seen[k.ID] = true
		count[k.State]++
	}
	if count[KeyNext] > 1 || count[KeyCurrent] > 1 {
		return fmt.Errorf("token: %d next and %d current keys, want at most one of each", count[KeyNext], count[KeyCurrent])
	}
	return nil
}

// jwk is one key as a JSON Web Key (RFC 7517, RFC 8037), with the
// rotation's state in members of its own in the private document.
type jwk struct {
	Kty   string   `json:"kty"`
	Crv   string   `json:"crv"`
	X     string   `json:"x"`
	D     string   `json:"d,omitempty"`
	Kid   string   `json:"kid"`
	Alg   string   `json:"alg"`
	Use   string   `json:"use"`
	State KeyState `json:"pufinid_state,omitempty"`
	Since int64    `json:"pufinid_since,omitempty"`
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

func (s KeySet) document(private bool) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	doc := jwkSet{Keys: []jwk{}}
	for _, k := range s.Keys {
		j := jwk{Kty: "OKP", Crv: "Ed25519", X: b64(k.Public), Kid: k.ID, Alg: KeyAlg, Use: "sig"}
		if private {
			if k.Private == nil {
				return nil, fmt.Errorf("token: key %s has no private key", k.ID)
			}
			j.D, j.State, j.Since = b64(k.Private.Seed()), k.State, k.Since.Unix()
		}
		doc.Keys = append(doc.Keys, j)
	}
	return json.Marshal(doc)
}

// MarshalPrivate is the set as the issuing function holds it: every key
// with its private part and rotation state.
func (s KeySet) MarshalPrivate() ([]byte, error) { return s.document(true) }

// JWKS is the public set: RFC 7517's JSON Web Key Set, each key with its
// kid, alg and use, no private part and no state (a verifier accepts
// every key it lists).
func (s KeySet) JWKS() ([]byte, error) { return s.document(false) }

// ParseKeySet reads MarshalPrivate's document, or JWKS's: a public set,
// whose keys are KeyPublic.
func ParseKeySet(b []byte) (KeySet, error) {
	var doc jwkSet
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		return KeySet{}, fmt.Errorf("token: key set: %w", err)
	}
	var s KeySet
	for _, j := range doc.Keys {
		if j.Kty != "OKP" || j.Crv != "Ed25519" || j.Alg != KeyAlg || (j.Use != "" && j.Use != "sig") {
			return KeySet{}, fmt.Errorf("token: key %q: want an Ed25519 signing key for %s", j.Kid, KeyAlg)
		}
		pub, err := unb64(j.X, ed25519.PublicKeySize)
		if err != nil {
			return KeySet{}, fmt.Errorf("token: key %q: x: %w", j.Kid, err)
		}
		k := Key{ID: j.Kid, Public: ed25519.PublicKey(pub), State: j.State}
		if j.D != "" {
			seed, err := unb64(j.D, ed25519.SeedSize)
			if err != nil {
				return KeySet{}, fmt.Errorf("token: key %q: d: %w", j.Kid, err)
			}
			k.Private = ed25519.NewKeyFromSeed(seed)
			k.Since = time.Unix(j.Since, 0).UTC()
		} else {
			k.State = KeyPublic
		}
		s.Keys = append(s.Keys, k)
	}
	return s, s.Validate()
}

// SignWith signs c with the set's current key, naming it in the header's
// kid.
func SignWith(s KeySet, c Claims) (string, error) {
	k, ok := s.Current()
	if !ok || k.Private == nil {
		return "", errors.New("token: no current private key to sign with")
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = k.ID
	return t.SignedString(k.Private)
}

// Keyfunc is jwt's key lookup for s: the token's kid must name a key of
// the set, and its alg must be that key's (RFC 8725 3.1). Without a kid,
// or with an unknown one, there is no key: a retired key verifies nothing.
func (s KeySet) Keyfunc(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	k, ok := s.Lookup(kid)
	if !ok {
		return nil, ErrInvalid
	}
	if t.Method.Alg() != KeyAlg {
		return nil, ErrInvalid
	}
	return k.Public, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unb64(s string, size int) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(b) != size {
		return nil, fmt.Errorf("%d bytes, want %d", len(b), size)
	}
	return b, nil
}
