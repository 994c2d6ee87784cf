package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/emailaddr"
)

// DRF's field messages, word for word, so clients written against the
// original service keep working.
const (
	MsgRequired  = "This field is required."
	MsgNull      = "This field may not be null."
	MsgBlank     = "This field may not be blank."
	MsgNotString = "Not a valid string."
	MsgEmail     = "Enter a valid email address."
)

// Input is a decoded JSON object whose fields are read one by one, each
// reader recording DRF-style errors in Errs instead of failing fast, so one
// answer lists every problem of the body. Unknown fields are ignored.
type Input struct {
	raw  map[string]json.RawMessage
	Errs apierror.FieldErrors
}

// Err returns the collected field errors, or nil.
func (in *Input) Err() error { return in.Errs.Err() }

// Has reports whether the body names field at all (null included).
func (in *Input) Has(field string) bool {
	_, ok := in.raw[field]
	return ok
}

// IsNull reports whether field is present and null.
func (in *Input) IsNull(field string) bool {
	v, ok := in.raw[field]
	return ok && bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// Str describes how a string field is read, after DRF's CharField.
type Str struct {
	Required   bool
	AllowNull  bool
	AllowBlank bool
	NoTrim     bool // passwords keep their spaces
	Min, Max   int  // in characters; 0 means no bound
}

// String reads field as DRF's CharField does: numbers are accepted as their
// text, surrounding whitespace is trimmed unless NoTrim, and the length is
// counted in characters. ok is false when the field is absent, null, or
// invalid; an error is recorded where the rules say so.
func (in *Input) String(field string, o Str) (s string, ok bool) {
	v, present := in.raw[field]
	if !present {
		if o.Required {
			in.Errs.Add(field, MsgRequired)
		}
		return "", false
	}
	if in.IsNull(field) {
		if !o.AllowNull {
			in.Errs.Add(field, MsgNull)
		}
		return "", false
	}
	var anyv any
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	if err := dec.Decode(&anyv); err != nil {
		in.Errs.Add(field, MsgNotString)
		return "", false
	}
	switch t := anyv.(type) {
	case string:
		s = t
	case json.Number:
		s = t.String()
	default:
		in.Errs.Add(field, MsgNotString)
		return "", false
	}
	if !o.NoTrim {
		s = strings.TrimSpace(s)
	}
	if s == "" {
		if !o.AllowBlank {
			in.Errs.Add(field, MsgBlank)
			return "", false
		}
		return "", true
	}
	n := utf8.RuneCountInString(s)
	if o.Max > 0 && n > o.Max {
		in.Errs.Add(field, fmt.Sprintf("Ensure this field has no more than %d characters.", o.Max))
		return "", false
	}
	if o.Min > 0 && n < o.Min {
		in.Errs.Add(field, fmt.Sprintf("Ensure this field has at least %d characters.", o.Min))
		return "", false
	}
	return s, true
}

// Email reads a required email field and checks its form. Only a bare
// address is accepted ("a@b.c", not "Name <a@b.c>"); it is returned as given,
// trimmed.
func (in *Input) Email(field string) (string, bool) {
	s, ok := in.String(field, Str{Required: true, Max: 254})
	if !ok {
		return "", false
	}
	if !ValidEmail(s) {
		in.Errs.Add(field, MsgEmail)
		return "", false
	}
	return s, true
}

// ValidEmail reports whether s is an address the API accepts: one plain
// address with an ASCII domain, nothing invisible in it (shared/emailaddr
// has the rules, and the canonical form addresses are compared in).
func ValidEmail(s string) bool { return emailaddr.Valid(s) }

// StringList reads a list of strings, each at most maxLen characters. ok is
// false when absent or invalid.
func (in *Input) StringList(field string, maxLen int) ([]string, bool) {
	v, present := in.raw[field]
	if !present {
		return nil, false
	}
	if in.IsNull(field) {
		in.Errs.Add(field, MsgNull)
		return nil, false
	}
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		var anyv any
		_ = json.Unmarshal(v, &anyv)
		in.Errs.Add(field, fmt.Sprintf("Expected a list of items but got type %q.", jsonTypeName(anyv)))
		return nil, false
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		var s string
		if err := json.Unmarshal(it, &s); err != nil {
			in.Errs.Add(field, MsgNotString)
			return nil, false
		}
		if maxLen > 0 && utf8.RuneCountInString(s) > maxLen {
			in.Errs.Add(field, fmt.Sprintf("Ensure this field has no more than %d characters.", maxLen))
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}
