package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pufinid/pufinid-api/shared/web"
)

// decode sends body to DecodeObject as a JSON request and, when it is
// refused, renders the refusal as the API would answer it.
func decode(t *testing.T, contentType string, body []byte) (*web.Input, *httptest.ResponseRecorder) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/users/", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	in, err := web.DecodeObject(req)
	if err == nil {
		return in, nil
	}
	rec := httptest.NewRecorder()
	web.Error(rec, req, err)
	return nil, rec
}

// detailOf is the "detail" of a rendered refusal.
func detailOf(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q is not a detail: %v", rec.Body, err)
	}
	return body.Detail
}

// The attack: bytes that are not UTF-8, which encoding/json would quietly
// decode as U+FFFD, so that "ad\xffa@example.com" became an account's email
// "ad\uFFFDa@example.com" that its owner can never type. Every such body is
// a 400 JSON parse error, wherever the bad byte is, even in a field the
// route ignores: the body as a whole is not JSON text (RFC 8259 8.1).
func TestDecodeObjectRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want string // the detail
	}{
		{"stray continuation byte in a value", "{\"email\": \"ad\x80a@example.com\"}",
			"JSON parse error - Invalid UTF-8 in the request body: 0x80 (at byte 14)"},
		{"0xff in a value", "{\"email\": \"ad\xffa@example.com\"}",
			"JSON parse error - Invalid UTF-8 in the request body: 0xff (at byte 14)"},
		{"truncated three-byte sequence", "{\"first_name\": \"\xe2\x82\"}",
			"JSON parse error - Invalid UTF-8 in the request body: 0xe2 (at byte 17)"},
		{"truncated at the end of the body", "{\"first_name\": \"Ada\"}\xe2",
			"JSON parse error - Invalid UTF-8 in the request body: 0xe2 (at byte 22)"},
		{"overlong encoding of a slash", "{\"first_name\": \"\xc0\xaf\"}",
			"JSON parse error - Invalid UTF-8 in the request body: 0xc0 (at byte 17)"},
		{"surrogate encoded as UTF-8 (CESU-8)", "{\"first_name\": \"\xed\xa0\x80\"}",
			"JSON parse error - Invalid UTF-8 in the request body: 0xed (at byte 17)"},
		{"past U+10FFFF", "{\"first_name\": \"\xf4\x90\x80\x80\"}",
			"JSON parse error - Invalid UTF-8 in the request body: 0xf4 (at byte 17)"},
		{"Latin-1 text", "{\"last_name\": \"M\xfcller\"}",
			"JSON parse error - Invalid UTF-8 in the request body: 0xfc (at byte 17)"},
		{"in a key", "{\"em\xffail\": \"ada@example.com\"}",
			"JSON parse error - Invalid UTF-8 in the request body: 0xff (at byte 5)"},
		{"in a field the route ignores", "{\"email\": \"ada@example.com\", \"x\": \"\xff\"}",
			"JSON parse error - Invalid UTF-8 in the request body: 0xff (at byte 36)"},
		{"between values", "{\"email\": \"ada@example.com\"\xa0}",
			"JSON parse error - Invalid UTF-8 in the request body: 0xa0 (at byte 28)"},
		{"not an object either", "[\"\xff\"]",
			"JSON parse error - Invalid UTF-8 in the request body: 0xff (at byte 3)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, rec := decode(t, "application/json", []byte(tc.body))
			if in != nil {
				t.Fatalf("%q decoded; want a 400", tc.body)
			}
			if rec.Code != http.StatusBadRequest || detailOf(t, rec) != tc.want {
				t.Errorf("%q: %d %s; want 400 %q", tc.body, rec.Code, rec.Body, tc.want)
			}
		})
	}
}

// The same attack through JSON's own escapes: "\ud800" names half of a
// UTF-16 surrogate pair, which is no character; encoding/json decodes an
// unpaired one as U+FFFD. Every string holding one, key or value, is
// refused; a real pair (an emoji outside the BMP) is one character and
// passes, and so does a literal backslash followed by "ud800".
func TestDecodeObjectRefusesUnpairedSurrogateEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want string // the detail of a refusal; "" to accept
		got  string // the "v" decoded when accepted
	}{
		{name: "lone high surrogate in an email", body: `{"v": "ad\ud800a@example.com"}`,
			want: `JSON parse error - Unpaired surrogate escape \ud800 in a string (at byte 10)`},
		{name: "lone low surrogate", body: `{"v": "\udc00"}`,
			want: `JSON parse error - Unpaired surrogate escape \udc00 in a string (at byte 8)`},
		{name: "upper-case hex", body: `{"v": "\uD83D"}`,
			want: `JSON parse error - Unpaired surrogate escape \uD83D in a string (at byte 8)`},
		{name: "high surrogate at the end of a string", body: `{"v": "smile\ud83d"}`,
			want: `JSON parse error - Unpaired surrogate escape \ud83d in a string (at byte 13)`},
		{name: "high surrogate then a plain character", body: `{"v": "\ud83dx\ude00"}`,
			want: `JSON parse error - Unpaired surrogate escape \ud83d in a string (at byte 8)`},
		{name: "high surrogate then a non-surrogate escape", body: `{"v": "\ud83d\u0041"}`,
			want: `JSON parse error - Unpaired surrogate escape \ud83d in a string (at byte 8)`},
		{name: "two high surrogates", body: `{"v": "\ud83d\ud83d"}`,
			want: `JSON parse error - Unpaired surrogate escape \ud83d in a string (at byte 8)`},
		{name: "pair in the wrong order", body: `{"v": "\ude00\ud83d"}`,
			want: `JSON parse error - Unpaired surrogate escape \ude00 in a string (at byte 8)`},
		{name: "a good pair, then a lone half", body: `{"v": "\ud83d\ude00\ud83d"}`,
			want: `JSON parse error - Unpaired surrogate escape \ud83d in a string (at byte 20)`},
		{name: "after an escaped backslash", body: `{"v": "\\\ud800"}`,
			want: `JSON parse error - Unpaired surrogate escape \ud800 in a string (at byte 10)`},
		{name: "in a key", body: `{"\ud800": 1}`,
			want: `JSON parse error - Unpaired surrogate escape \ud800 in a string (at byte 3)`},
		{name: "in a list", body: `{"terms_accepted": ["tos", "\udfff"]}`,
			want: `JSON parse error - Unpaired surrogate escape \udfff in a string (at byte 29)`},
		{name: "in a field the route ignores", body: `{"v": "ok", "x": {"y": "\udbff"}}`,
			want: `JSON parse error - Unpaired surrogate escape \udbff in a string (at byte 25)`},

		{name: "a real pair is one character", body: `{"v": "\ud83d\ude00"}`, got: "\U0001F600"},
		{name: "upper-case pair", body: `{"v": "\uD83D\uDE00"}`, got: "\U0001F600"},
		{name: "the highest code point", body: `{"v": "\udbff\udfff"}`, got: "\U0010FFFF"},
		{name: "escaped backslash: the text \\ud800", body: `{"v": "\\ud800"}`, got: `\ud800`},
		{name: "escaped quote does not end the string", body: `{"v": "\"\ud83d\ude00"}`, got: "\"\U0001F600"},
		{name: "BMP escapes either side of the surrogates", body: `{"v": "\u00e9\ud7ff\ue000"}`, got: "\u00e9\ud7ff\ue000"},
		{name: "surrogate-like text outside any escape", body: `{"v": "ud800 \\u"}`, got: `ud800 \u`},
		{name: "a replacement character the client meant", body: `{"v": "\ufffd ` + "\uFFFD" + `"}`, got: "\uFFFD \uFFFD"},
		{name: "UTF-8 outside the BMP", body: `{"v": "` + "Ad\U0001F600a" + `"}`, got: "Ad\U0001F600a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, rec := decode(t, "application/json", []byte(tc.body))
			if tc.want != "" {
				if in != nil {
					t.Fatalf("%s decoded; want a 400", tc.body)
				}
				if rec.Code != http.StatusBadRequest || detailOf(t, rec) != tc.want {
					t.Errorf("%s: %d %s; want 400 %q", tc.body, rec.Code, rec.Body, tc.want)
				}
				return
			}
			if in == nil {
				t.Fatalf("%s refused: %d %s", tc.body, rec.Code, rec.Body)
			}
			if got, ok := in.String("v", web.Str{Required: true, NoTrim: true}); !ok || got != tc.got {
				t.Errorf("%s: v = %q (ok %v); want %q", tc.body, got, ok, tc.got)
			}
		})
	}
}

// The checks do not change what comes first: a body that is not JSON by
// its Content-Type is still a 415, whatever its bytes, and one too large
// is still a 413.
func TestDecodeObjectChecksTheMediaTypeAndSizeBeforeTheText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, contentType string
		body              []byte
		status            int
	}{
		{"text/plain with invalid UTF-8", "text/plain", []byte("{\"a\": \"\xff\"}"), http.StatusUnsupportedMediaType},
		{"text/plain with a lone surrogate", "text/plain", []byte(`{"a": "\ud800"}`), http.StatusUnsupportedMediaType},
		{"too large with invalid UTF-8", "application/json",
			append([]byte(`{"a": "`), bytes.Repeat([]byte{0xff}, web.MaxBodyBytes)...), http.StatusRequestEntityTooLarge},
		{"+json media type is checked too", "application/merge-patch+json", []byte("{\"a\": \"\xff\"}"), http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, rec := decode(t, tc.contentType, tc.body)
			if in != nil || rec.Code != tc.status {
				t.Fatalf("decoded %v, answer %v; want %d", in != nil, rec, tc.status)
			}
		})
	}
}

// FuzzDecodeObjectNeverDecodesLossily checks the refusals against
// encoding/json itself: a body made only of valid JSON and UTF-8 that holds
// no U+FFFD of its own (raw or escaped) decodes to a value holding U+FFFD
// exactly when it has an unpaired surrogate escape, and exactly then
// DecodeObject refuses it. Bytes that are not UTF-8 are always refused.
func FuzzDecodeObjectNeverDecodesLossily(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a": "b"}`, `{"a": "\ud800"}`, `{"a": "\udc00"}`, `{"a": "\ud83d\ude00"}`, `{"a": "\\ud800"}`,
		`{"\ud800\udc00": ["\ud800", {"b": "\\\udc00"}]}`, `{"a": "\ud83dx"}`, `{"a": "\"\ud800"}`,
		"{\"a\": \"\xff\"}", "{\"a\": \"\xed\xa0\x80\"}", `"\ud800"`, `["\ud800"]`, `{"a": "\u`, `{"a": "\ud800\u`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > web.MaxBodyBytes || len(bytes.TrimSpace(body)) == 0 {
			return
		}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		_, err := web.DecodeObject(req)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		surrogate := strings.Contains(msg, "JSON parse error - Unpaired surrogate escape")
		if !utf8.Valid(body) {
			if !strings.Contains(msg, "JSON parse error - Invalid UTF-8") {
				t.Fatalf("%q: err %v; want the invalid UTF-8 refusal", body, err)
			}
			return
		}
		if !json.Valid(body) || bytes.Contains(body, []byte("\uFFFD")) || bytes.Contains(bytes.ToLower(body), []byte("ufffd")) {
			return // nothing to compare with, or a U+FFFD the client sent
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("json.Valid but Unmarshal: %v", err)
		}
		if lossy := holdsReplacement(v); lossy != surrogate {
			t.Fatalf("%q: encoding/json decodes U+FFFD: %v; DecodeObject: %v", body, lossy, err)
		}
	})
}

// holdsReplacement reports whether a decoded JSON value has U+FFFD in any
// string or key.
func holdsReplacement(v any) bool {
	switch t := v.(type) {
	case string:
		return strings.ContainsRune(t, utf8.RuneError)
	case []any:
		for _, e := range t {
			if holdsReplacement(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range t {
			if strings.ContainsRune(k, utf8.RuneError) || holdsReplacement(e) {
				return true
			}
		}
	}
	return false
}
