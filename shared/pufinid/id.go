package pufinid

import (
	"io"

	"github.com/google/uuid"
)

// ParseID returns s, a UUID id (design, organization, user), in the
// lowercase 8-4-4-4-12 form ids are stored in. Only that form is accepted,
// in any case: braces, "urn:uuid:" and hyphenless forms cannot name
// anything, as in DRF's UUID path converter.
func ParseID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return u.String(), true
}

// NewID is a random (version 4) UUID read from rnd.
func NewID(rnd io.Reader) (string, error) {
	u, err := uuid.NewRandomFromReader(rnd)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
