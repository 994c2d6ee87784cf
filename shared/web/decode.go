package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/pufinid/pufinid-api/shared/apierror"
)

// MaxBodyBytes is the largest request body accepted (the contract's 64 KiB).
const MaxBodyBytes = 64 << 10

// DecodeObject reads a JSON object body. It answers 415 for a body that is
// not JSON by its Content-Type, 413 past MaxBodyBytes, 400 with DRF's "JSON
// parse error - ..." for malformed JSON, and 400 non_field_errors when the
// JSON is not an object. An empty body with no content type is an empty
// object, as DRF treats it.
//
// The body must be valid UTF-8 and its strings must not hold an unpaired
// UTF-16 surrogate escape ("\ud800"): encoding/json would silently turn
// either into U+FFFD, so an account could be created with a mangled email
// or name. Both are a "JSON parse error - ...", DRF's answer to a body
// that is not UTF-8.
func DecodeObject(r *http.Request) (*Input, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, apierror.New(apierror.Invalid, "Could not read the request body.")
	}
	if len(body) > MaxBodyBytes {
		return nil, apierror.New(apierror.TooLarge, "Request body too large: the limit is 64 KiB.")
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" && len(bytes.TrimSpace(body)) == 0 {
		return &Input{raw: map[string]json.RawMessage{}, Errs: apierror.FieldErrors{}}, nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !isJSONSuffix(mt)) {
		return nil, apierror.New(apierror.UnsupportedMedia, fmt.Sprintf("Unsupported media type %q in request.", ct))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, apierror.New(apierror.Invalid, "JSON parse error - Expecting value: line 1 column 1 (char 0)")
	}
	if err := checkText(body); err != nil {
		return nil, err
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, apierror.New(apierror.Invalid, "JSON parse error - "+parseMessage(err))
	}
	if dec.More() {
		return nil, apierror.New(apierror.Invalid, "JSON parse error - Extra data after the JSON value")
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, &apierror.Error{Code: apierror.Invalid, Fields: map[string][]string{
			"non_field_errors": {fmt.Sprintf("Invalid data. Expected a dictionary, but got %s.", jsonTypeName(v))},
		}}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, apierror.New(apierror.Invalid, "JSON parse error - "+parseMessage(err))
	}
	return &Input{raw: raw, Errs: apierror.FieldErrors{}}, nil
}

// checkText refuses a body encoding/json would decode lossily: a byte that
// is not UTF-8 anywhere in it (in a string, a key, an ignored field or
// between values alike), or a \uXXXX escape naming half of a surrogate pair
// without the other half. Offsets are counted as the syntax errors' are:
// the bytes read up to and including the offending one.
func checkText(body []byte) error {
	if !utf8.Valid(body) {
		i := invalidUTF8(body)
		return apierror.New(apierror.Invalid,
			fmt.Sprintf("JSON parse error - Invalid UTF-8 in the request body: 0x%02x (at byte %d)", body[i], i+1))
	}
	if i := unpairedSurrogate(body); i >= 0 {
		return apierror.New(apierror.Invalid,
			fmt.Sprintf("JSON parse error - Unpaired surrogate escape %s in a string (at byte %d)", body[i:i+6], i+1))
	}
	return nil
}

// invalidUTF8 returns the index of the first byte of b that does not start
// a valid UTF-8 sequence; b must not be valid UTF-8.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return 0
}

// unpairedSurrogate returns the index of the first \uXXXX escape in a JSON
// string that is a high surrogate (D800-DBFF) not followed at once by a
// low-surrogate escape (DC00-DFFF), or a low surrogate not preceded by a
// high one; -1 if there is none. It lexes strings as JSON does (a quote
// opens and closes one, a backslash escapes the next character), so
// backslashes outside strings and malformed escapes are left for the
// decoder to refuse. It never reads past the end of body, whatever it is.
func unpairedSurrogate(body []byte) int {
	inString := false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case !inString:
			inString = c == '"'
		case c == '"':
			inString = false
		case c == '\\':
			r, ok := hexEscape(body, i)
			switch {
			case !ok:
				i++ // a one-character escape (\n, \", \\...): skip what it escapes
			case r >= 0xD800 && r <= 0xDBFF:
				if lo, ok := hexEscape(body, i+6); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					i += 11 // the pair, as one character
					continue
				}
				return i
			case r >= 0xDC00 && r <= 0xDFFF:
				return i
			default:
				i += 5
			}
		}
	}
	return -1
}

// hexEscape decodes the \uXXXX escape at body[i:], if one is there.
func hexEscape(body []byte, i int) (rune, bool) {
	if i < 0 || i+6 > len(body) || body[i] != '\\' || body[i+1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range body[i+2 : i+6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func isJSONSuffix(mt string) bool {
	return len(mt) > 5 && mt[len(mt)-5:] == "+json"
}

func parseMessage(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s (at byte %d)", syn.Error(), syn.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end of JSON input"
	}
	return err.Error()
}

// jsonTypeName names a decoded JSON value the way DRF names Python types.
func jsonTypeName(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "str"
	case json.Number:
		return "int"
	case bool:
		return "bool"
	case nil:
		return "NoneType"
	}
	return "dict"
}
