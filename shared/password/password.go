// Package password owns how user passwords are stored and which ones are
// accepted: argon2id hashes in PHC string format (so the parameters can be
// raised later and old hashes upgraded on the next login), constant-time
// verification, equal-cost verification for unknown users, and Django's
// password validators with Django's messages, plus one of its own that
// refuses a password with nothing visible in it.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// The current parameters: OWASP's argon2id recommendation (19 MiB, 2
// passes, 1 lane). Raising them makes Verify report needsRehash for older
// hashes, and the login upgrades them.
const (
	memoryKiB  = 19456
	iterations = 2
	lanes      = 1
	saltBytes  = 16
	keyBytes   = 32
)

// Bounds on the parameters Verify accepts from a stored hash, so that a
// corrupt or hostile hash string cannot make one login allocate gigabytes
// or spin for minutes.
const (
	maxMemoryKiB  = 1 << 20 // 1 GiB
	maxIterations = 64
	maxKeyBytes   = 128
	minSaltBytes  = 8
	maxSaltBytes  = 64
)

// ErrMalformed is returned by Verify for a string that is not an argon2id
// PHC hash this package can check.
var ErrMalformed = errors.New("password: malformed argon2id hash")

var b64 = base64.RawStdEncoding

// Hash returns the PHC string of pw under the current parameters with a
// fresh random salt.
func Hash(pw string) (string, error) {
	salt := make([]byte, saltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, iterations, memoryKiB, lanes, keyBytes)
	return encode(memoryKiB, iterations, lanes, salt, key), nil
}

func encode(m uint32, t uint32, p uint8, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, m, t, p, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// params are the parts of a PHC string.
type params struct {
	memory, time uint32
	lanes        uint8
	salt, key    []byte
}

func decode(encoded string) (params, error) {
	// "$argon2id$v=19$m=..,t=..,p=..$salt$hash" splits into 6 with a leading "".
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return params{}, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version ||
		parts[2] != fmt.Sprintf("v=%d", version) {
		return params{}, ErrMalformed
	}
	var p params
	var m, t, l uint64
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &l); err != nil || n != 3 ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", m, t, l) {
		return params{}, ErrMalformed
	}
	// argon2 needs at least 8 KiB per lane.
	if l < 1 || l > 255 || t < 1 || t > maxIterations || m < 8*l || m > maxMemoryKiB {
		return params{}, ErrMalformed
	}
	p.memory, p.time, p.lanes = uint32(m), uint32(t), uint8(l)
	var err error
	if p.salt, err = b64.Strict().DecodeString(parts[4]); err != nil || len(p.salt) < minSaltBytes || len(p.salt) > maxSaltBytes {
		return params{}, ErrMalformed
	}
	if p.key, err = b64.Strict().DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > maxKeyBytes {
		return params{}, ErrMalformed
	}
	return p, nil
}

// Verify reports whether pw matches encoded, an argon2id PHC string with any
// parameters. needsRehash is true when pw matches but encoded was made with
// weaker parameters than Hash uses now, so the caller should store Hash(pw).
// err is ErrMalformed for a string that cannot be checked.
func Verify(pw, encoded string) (ok, needsRehash bool, err error) {
	p, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	key := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.lanes, uint32(len(p.key)))
	if subtle.ConstantTimeCompare(key, p.key) != 1 {
		return false, false, nil
	}
	weaker := p.memory < memoryKiB || p.time < iterations || p.lanes < lanes ||
		len(p.salt) < saltBytes || len(p.key) < keyBytes
	return true, weaker, nil
}

// dummyHash is a hash under the current parameters of a password nobody
// knows (32 random bytes, discarded). Logins for unknown users verify
// against it so they cost the same as logins for known users and their
// timing does not tell whether an account exists.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$ag2y4C0lX1iS7DXzCo4O7Q$z0ko9XwwbigeY2hTfufmd8rHxf27L2KJOo6ShD54oE0"

// VerifyDummy does the work of Verify against a hash no password matches.
func VerifyDummy(pw string) {
	_, _, _ = Verify(pw, dummyHash)
}
