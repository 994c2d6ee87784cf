package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/pufinid/pufinid-api/shared/apierror"
)

// MaxBodyBytes is the largest request body accepted (the contract's 64 KiB).
const MaxBodyBytes = 64 << 10

// DecodeObject reads a JSON object body. It answers 415 for a body that is
// not JSON by its Content-Type, 413 past MaxBodyBytes, 400 with DRF's "JSON
// parse error - ..." for malformed JSON, and 400 non_field_errors when the
// JSON is not an object. An empty body with no content type is an empty
// object, as DRF treats it.
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
