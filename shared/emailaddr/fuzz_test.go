package emailaddr

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzCanonical: Canonical never panics; what it returns is valid UTF-8,
// NFKC, within the limits, its own canonical form, lowercase-ASCII in the
// domain, and the legacy form for an ASCII address; and it accepts nothing
// the API's previous check refused.
func FuzzCanonical(f *testing.F) {
	for _, s := range validInputs() {
		f.Add(s)
	}
	for _, tt := range invalidCases {
		f.Add(tt.in)
	}
	f.Add("a\u0345\u0301@example.com")
	f.Add("\u1e9e\u0130\u212a\ufb03@example.com")
	f.Fuzz(checkProperties)
}

// checkProperties checks what every answer of Canonical must satisfy.
func checkProperties(t *testing.T, in string) {
	t.Helper()
	c, err := Canonical(in)
	if err != nil {
		if c != "" {
			t.Fatalf("Canonical(%+q) = %+q with error %v", in, c, err)
		}
		if Valid(in) || LegacyDiffers(in) {
			t.Fatalf("Valid or LegacyDiffers true for refused %+q", in)
		}
		return
	}
	if !utf8.ValidString(c) {
		t.Fatalf("Canonical(%+q) = %+q, not valid UTF-8", in, c)
	}
	if !norm.NFKC.IsNormalString(c) {
		t.Fatalf("Canonical(%+q) = %+q, not NFKC", in, c)
	}
	cc, err := Canonical(c)
	if err != nil || cc != c {
		t.Fatalf("Canonical(%+q) = %+q; Canonical of that = %+q, %v", in, c, cc, err)
	}
	if !Equal(in, c) {
		t.Fatalf("Equal(%+q, %+q) = false", in, c)
	}
	at := strings.LastIndexByte(c, '@')
	if len(c) > MaxLen || at < 1 || at > MaxLocalLen {
		t.Fatalf("Canonical(%+q) = %+q breaks the length limits", in, c)
	}
	domain := c[at+1:]
	if domain != strings.ToLower(in[strings.LastIndexByte(in, '@')+1:]) {
		t.Fatalf("Canonical(%+q) = %+q changed the domain beyond lowercasing", in, c)
	}
	for i := 0; i < len(domain); i++ {
		if domain[i] >= utf8.RuneSelf || 'A' <= domain[i] && domain[i] <= 'Z' {
			t.Fatalf("Canonical(%+q) = %+q: domain not lowercase ASCII", in, c)
		}
	}
	if isASCII(in) && (c != Legacy(in) || LegacyDiffers(in)) {
		t.Fatalf("ASCII %q: canonical %q, legacy %q", in, c, Legacy(in))
	}
	if LegacyDiffers(in) != (Legacy(in) != c) {
		t.Fatalf("LegacyDiffers(%+q) wrong", in)
	}
	if !oldValidEmail(in) {
		t.Fatalf("%+q is valid here but the previous check refused it", in)
	}
}

// interesting are characters that normalization or folding changes, or
// that validation refuses: addresses made of them reach cases the fuzzer's
// byte mutations rarely do.
var interesting = []rune("aAzZ09.-_+'\u00df\u1e9e\u0130\u0131iIkK\u212a\u212b\u00c5\u00e5a\u030a\u0301\u0307\u030c\u0345" +
	"\u03a3\u03c3\u03c2\u0390\u1fb3\u1f80\ufb01\ufb03\ufb06\u0149\u01f0\u1e96\uff21\uff41\uff0e\uff20\u2024\u00a8\u00b2" +
	"\u3316\u13a0\uab70\u1100\u1161\u11a8\uac00\u0f73\u0f81\u0344\u0958\u2126\u03a9\u1e9b\u0323\u017f\u00b5\u03bc" +
	"\u200d\u00a0\ufe0f\u0000@")

func TestCanonicalPropertiesOnGeneratedUnicode(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	domains := []string{"example.com", "EXAMPLE.com", "xn--bcher-kva.example", "gma\u0130l.com", "a-b.c0"}
	valid := 0
	for range 50000 {
		var b strings.Builder
		for range 1 + r.IntN(8) {
			b.WriteRune(interesting[r.IntN(len(interesting))])
		}
		in := b.String() + "@" + domains[r.IntN(len(domains))]
		checkProperties(t, in)
		_, err := Canonical(in)
		if err == nil {
			valid++
		}
		// Only x/text's Cherokee folding has no fixed point.
		if err == errUnstable && !strings.ContainsAny(in, "\u13a0\uab70") {
			t.Errorf("Canonical(%+q): %v", in, err)
		}
	}
	if valid < 1000 {
		t.Fatalf("only %d generated addresses valid; the generator is broken", valid)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
