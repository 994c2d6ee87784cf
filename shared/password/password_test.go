package password

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/trustelem/zxcvbn/frequency"
	"golang.org/x/crypto/argon2"
)

func mustHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := Hash(pw)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	return h
}

func TestHashIsPHCWithCurrentParameters(t *testing.T) {
	t.Parallel()
	h := mustHash(t, "correct horse battery staple")
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=19456,t=2,p=1" {
		t.Fatalf("hash %q is not argon2id PHC with m=19456,t=2,p=1", h)
	}
	p, err := decode(h)
	if err != nil {
		t.Fatalf("decode own hash: %v", err)
	}
	if len(p.salt) != 16 || len(p.key) != 32 {
		t.Errorf("salt %d bytes, key %d bytes; want 16 and 32", len(p.salt), len(p.key))
	}
	if h2 := mustHash(t, "correct horse battery staple"); h2 == h {
		t.Errorf("two hashes of one password are equal: salt is not random")
	}
}

// weakHash builds a hash with older, weaker parameters, as a stored hash
// from before a parameter raise would be.
func weakHash(pw string, m, tm uint32, p uint8) string {
	salt := []byte("0123456789abcdef")
	return encode(m, tm, p, salt, argon2.IDKey([]byte(pw), salt, tm, m, p, 32))
}

func TestVerify(t *testing.T) {
	t.Parallel()
	const pw = "correct horse battery staple"
	current := mustHash(t, pw)
	tests := []struct {
		name        string
		pw, encoded string
		ok, rehash  bool
		malformed   bool
	}{
		{name: "right password matches", pw: pw, encoded: current, ok: true},
		{name: "wrong password does not match", pw: pw + "!", encoded: current},
		{name: "empty password does not match", pw: "", encoded: current},
		{name: "case matters", pw: strings.ToUpper(pw), encoded: current},
		// The reference implementation's argon2id vector (phc-winner-argon2 test.c).
		{name: "reference vector matches and its 8-byte salt asks for a rehash", pw: "password",
			encoded: "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ok: true, rehash: true},
		{name: "reference vector refuses another password", pw: "passwore",
			encoded: "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"},
		{name: "less memory asks for a rehash", pw: pw, encoded: weakHash(pw, 8192, 2, 1), ok: true, rehash: true},
		{name: "fewer passes asks for a rehash", pw: pw, encoded: weakHash(pw, 19456, 1, 1), ok: true, rehash: true},
		{name: "stronger parameters need no rehash", pw: pw, encoded: weakHash(pw, 19456, 3, 2), ok: true},
		{name: "weak hash with a wrong password neither matches nor asks for a rehash", pw: "nope", encoded: weakHash(pw, 8192, 1, 1)},
		{name: "empty string is malformed", pw: pw, encoded: "", malformed: true},
		{name: "argon2i is refused", pw: "password",
			encoded: "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", malformed: true},
		{name: "old version 16 is refused", pw: pw, encoded: strings.Replace(current, "v=19", "v=16", 1), malformed: true},
		{name: "missing part is malformed", pw: pw, encoded: current[:strings.LastIndex(current, "$")], malformed: true},
		{name: "parameters out of order are malformed", pw: pw, encoded: strings.Replace(current, "m=19456,t=2,p=1", "t=2,m=19456,p=1", 1), malformed: true},
		{name: "absurd memory is refused before hashing", pw: pw, encoded: strings.Replace(current, "m=19456", "m=4294967295", 1), malformed: true},
		{name: "zero lanes is refused", pw: pw, encoded: strings.Replace(current, "p=1", "p=0", 1), malformed: true},
		{name: "bad base64 salt is malformed", pw: pw, encoded: strings.Replace(current, "$v=19$m=19456,t=2,p=1$", "$v=19$m=19456,t=2,p=1$!!", 1), malformed: true},
		{name: "bcrypt hash is malformed", pw: pw, encoded: "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", malformed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := Verify(tc.pw, tc.encoded)
			if tc.malformed {
				if err == nil || ok {
					t.Fatalf("Verify = %v, %v, %v; want ErrMalformed", ok, rehash, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tc.ok || rehash != tc.rehash {
				t.Errorf("Verify = ok %v, rehash %v; want %v, %v", ok, rehash, tc.ok, tc.rehash)
			}
		})
	}
}

func TestDummyHashCostsWhatARealHashCosts(t *testing.T) {
	t.Parallel()
	p, err := decode(dummyHash)
	if err != nil {
		t.Fatalf("dummy hash does not decode: %v", err)
	}
	if p.memory != memoryKiB || p.time != iterations || p.lanes != lanes || len(p.key) != keyBytes {
		t.Errorf("dummy hash parameters m=%d t=%d p=%d key=%d differ from Hash's", p.memory, p.time, p.lanes, len(p.key))
	}
	for _, pw := range []string{"", "password", "correct horse battery staple"} {
		if ok, _, _ := Verify(pw, dummyHash); ok {
			t.Errorf("dummy hash matches %q", pw)
		}
	}
	VerifyDummy("anything") // must not panic
}

func TestValidate(t *testing.T) {
	t.Parallel()
	// The user of Django's own validator tests.
	user := map[string]string{
		AttrUsername:  "testclient",
		AttrFirstName: "Test",
		AttrLastName:  "Client",
		AttrEmail:     "testclient@example.com",
	}
	similar := func(label string) string { return "The password is too similar to the " + label + "." }
	tests := []struct {
		name  string
		pw    string
		attrs map[string]string
		want  []string
	}{
		{name: "strong password passes", pw: "Tr0ub4dor&3-horse", attrs: user},
		{name: "long passphrase passes", pw: "correct horse battery staple", attrs: user},
		{name: "short password is refused", pw: "aZ9!xQ", want: []string{msgTooShort}},
		{name: "seven characters are too short", pw: "aZ9!xQ7", want: []string{msgTooShort}},
		{name: "eight characters are enough", pw: "aZ9!xQ7#"},
		{name: "length counts characters, not bytes", pw: "ÄÖÜßéèà", want: []string{msgTooShort}},
		{name: "common password is refused", pw: "password", want: []string{msgCommon}},
		{name: "common check ignores case and surrounding space", pw: "  PassWord ", want: []string{msgCommon}},
		{name: "common from deep in the list is refused", pw: "sunshine1", want: []string{msgCommon}},
		{name: "entirely numeric and common", pw: "12345678", want: []string{msgCommon, msgNumeric}},
		{name: "entirely numeric and uncommon", pw: "80271946350", want: []string{msgNumeric}},
		{name: "short numeric collects every message", pw: "4821", want: []string{msgTooShort, msgNumeric}},
		{name: "empty password is too short", pw: "", want: []string{msgTooShort}},
		{name: "same as username is too similar", pw: "testclient", attrs: user, want: []string{similar("username")}},
		{name: "email domain is too similar to the email address", pw: "example.com", attrs: user, want: []string{similar("email address")}},
		{name: "similarity ignores case", pw: "TestClient", attrs: user, want: []string{similar("username")}},
		{name: "first name part is compared", pw: "Samantha-Jo!", attrs: map[string]string{AttrFirstName: "Samantha Jo"},
			want: []string{similar("first name")}},
		{name: "short attribute cannot make a long password similar", pw: "bobbobbobbobbobbobbobbob", attrs: map[string]string{AttrFirstName: "Bo"}},
		{name: "username is reported before email", pw: "testclient1", attrs: user, want: []string{similar("username")}},
		{name: "empty attribute is skipped", pw: "Tr0ub4dor&3-horse", attrs: map[string]string{AttrLastName: ""}},
		{name: "unknown labels are checked too", pw: "pufinid-corp", attrs: map[string]string{"organization": "PufinID Corp"},
			want: []string{similar("organization")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Validate(tc.pw, tc.attrs)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || len(got) != len(tc.want) {
				t.Errorf("Validate(%q) = %q; want %q", tc.pw, got, tc.want)
			}
		})
	}
}

// The attack: a password that passes the length check but is no secret and
// cannot be seen, made of spaces, or of characters that draw nothing
// (zero-width spaces, format controls, marks with no base, Hangul fillers).
// Each is refused with the invisible message; one visible character among
// them is enough to pass, as spaces between words are.
func TestValidateRefusesInvisiblePasswords(t *testing.T) {
	t.Parallel()
	rep := func(s string) string { return strings.Repeat(s, minLength) }
	tests := []struct {
		name  string
		pw    string
		attrs map[string]string
		want  []string
	}{
		{name: "spaces", pw: rep(" "), want: []string{msgInvisible}},
		{name: "tabs", pw: rep("\t"), want: []string{msgInvisible}},
		{name: "newlines and carriage returns", pw: rep("\r\n"), want: []string{msgInvisible}},
		{name: "zero-width spaces U+200B", pw: rep("\u200b"), want: []string{msgInvisible}},
		{name: "no-break spaces U+00A0", pw: rep("\u00a0"), want: []string{msgInvisible}},
		{name: "ideographic spaces U+3000", pw: rep("\u3000"), want: []string{msgInvisible}},
		{name: "word joiners U+2060", pw: rep("\u2060"), want: []string{msgInvisible}},
		{name: "byte order marks U+FEFF", pw: rep("\ufeff"), want: []string{msgInvisible}},
		{name: "soft hyphens U+00AD", pw: rep("\u00ad"), want: []string{msgInvisible}},
		{name: "right-to-left overrides U+202E", pw: rep("\u202e"), want: []string{msgInvisible}},
		{name: "zero-width joiners U+200D", pw: rep("\u200d"), want: []string{msgInvisible}},
		{name: "Mongolian vowel separators U+180E", pw: rep("\u180e"), want: []string{msgInvisible}},
		{name: "line and paragraph separators", pw: rep("\u2028\u2029"), want: []string{msgInvisible}},
		{name: "en quads to hair spaces", pw: "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a", want: []string{msgInvisible}},
		{name: "NUL and other control characters", pw: rep("\x00\x1b\x7f\u0085"), want: []string{msgInvisible}},
		{name: "combining acute accents with no base", pw: rep("\u0301"), want: []string{msgInvisible}},
		{name: "combining enclosing circles with no base", pw: rep("\u20dd"), want: []string{msgInvisible}},
		{name: "variation selectors", pw: rep("\ufe0f"), want: []string{msgInvisible}},
		{name: "combining grapheme joiners U+034F", pw: rep("\u034f"), want: []string{msgInvisible}},
		{name: "Hangul fillers U+3164", pw: rep("\u3164"), want: []string{msgInvisible}},
		{name: "halfwidth Hangul fillers U+FFA0", pw: rep("\uffa0"), want: []string{msgInvisible}},
		{name: "blank Braille patterns U+2800", pw: rep("\u2800"), want: []string{msgInvisible}},
		{name: "tag characters", pw: "\U000e0070\U000e0061\U000e0073\U000e0073\U000e0077\U000e006f\U000e0072\U000e0064", want: []string{msgInvisible}},
		{name: "a mix of them all", pw: " \t\u200b\u00a0\u3000\u2060\ufeff\u00ad\u0301\u3164", want: []string{msgInvisible}},
		{name: "too short and invisible gets both messages", pw: "   ", want: []string{msgTooShort, msgInvisible}},
		{name: "the user's attributes do not change it", pw: rep(" "), attrs: map[string]string{AttrFirstName: "Ada"}, want: []string{msgInvisible}},

		{name: "a passphrase with spaces passes", pw: "correct horse battery staple"},
		{name: "surrounding spaces are allowed", pw: "   Tr0ub4dor&3   "},
		{name: "one visible character among invisible ones is enough", pw: "\u200b\u200b\u200bx\u200b\u200b\u200b\u200b"},
		{name: "accents on letters are visible", pw: rep("e\u0301")},
		{name: "punctuation is visible", pw: rep(".")},
		{name: "spacing marks draw on their own", pw: rep("\u0903")},
		{name: "private use characters may be drawn", pw: rep("\ue000")},
		{name: "the empty password is only too short", pw: "", want: []string{msgTooShort}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Validate(tc.pw, tc.attrs)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Validate(%+q) = %q; want %q", tc.pw, got, tc.want)
			}
		})
	}
}

// The rule refuses no password a user can see: every letter, number,
// punctuation character and symbol counts as visible, but for the few that
// Unicode itself says are drawn as nothing (the Hangul fillers) and the
// blank Braille pattern.
func TestOnlyCharactersThatDrawNothingAreInvisible(t *testing.T) {
	t.Parallel()
	blank := func(r rune) bool {
		return unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || r == '\u2800'
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S, unicode.Mc) && !blank(r) && isInvisible(r) {
			t.Errorf("%U %q is visible, but counts as invisible", r, r)
		}
	}
	for _, r := range []rune{'a', 'Z', '7', '_', '.', '\u00e9', '\u4e2d', '\U0001F600', '\ufffd', '\ue000'} {
		if isInvisible(r) {
			t.Errorf("%U %q counts as invisible", r, r)
		}
	}
}

var updateCommon = flag.Bool("update-common", false, "rewrite common-passwords.txt from zxcvbn's list")

func TestCommonListIsTheShippedOne(t *testing.T) {
	t.Parallel()
	want := frequency.FrequencyLists["passwords"]
	if *updateCommon {
		if err := os.WriteFile("common-passwords.txt", []byte(strings.Join(want, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if n := len(commonPasswords()); n < 20000 {
		t.Fatalf("common password list has %d entries; want the library's full list", n)
	}
	if got := strings.Split(strings.TrimSuffix(commonList, "\n"), "\n"); !slices.Equal(got, want) {
		t.Fatalf("common-passwords.txt (%d entries) is not zxcvbn's list (%d): go test ./shared/password -run CommonList -args -update-common", len(got), len(want))
	}
}

func TestQuickRatioMatchesDifflib(t *testing.T) {
	t.Parallel()
	// Values from Python's difflib.SequenceMatcher(a=..., b=...).quick_ratio().
	tests := []struct {
		a, b string
		want float64
	}{
		{"abcd", "bcde", 0.75},
		{"testclient", "testclient", 1},
		{"example.com", "example", 14.0 / 18.0},
		{"aaaa", "a", 0.4},
		{"", "", 1},
		{"abc", "", 0},
	}
	for _, tc := range tests {
		if got := quickRatio([]rune(tc.a), []rune(tc.b)); got != tc.want {
			t.Errorf("quickRatio(%q, %q) = %v; want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// BenchmarkHash and BenchmarkVerify are the hashing cost of a signup and a
// login, reported apart from the endpoint benchmarks.
func BenchmarkHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := mustHash(b, "correct horse battery staple")
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, _ := Verify("correct horse battery staple", h); !ok {
			b.Fatal("no match")
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	attrs := map[string]string{AttrUsername: "testclient", AttrEmail: "testclient@example.com"}
	commonPasswords()
	b.ReportAllocs()
	for b.Loop() {
		Validate("Tr0ub4dor&3-horse", attrs)
	}
}
