package emailaddr

import (
	"errors"
	"math/rand/v2"
	"net/mail"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// mustCanonical is Canonical for addresses a test knows valid.
func mustCanonical(t testing.TB, addr string) string {
	t.Helper()
	c, err := Canonical(addr)
	if err != nil {
		t.Fatalf("Canonical(%q): %v", addr, err)
	}
	return c
}

// Spellings of one address: each group maps to one canonical form.
func TestCanonicalJoinsSpellingsOfOneAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    []string
		canon string
	}{
		{"mixed case ASCII", []string{"Alice@gmail.com", "alice@gmail.com", "ALICE@GMAIL.COM", "aLiCe@GmAiL.cOm"}, "alice@gmail.com"},
		{"fullwidth letters", []string{"ＡＬＩＣＥ@gmail.com", "ａｌｉｃｅ@gmail.com", "Ａlice@gmail.com", "alice@gmail.com"}, "alice@gmail.com"},
		{"NFC and NFD", []string{"jos\u00e9@example.com", "jose\u0301@example.com", "JOS\u00c9@example.com", "JOSE\u0301@example.com"}, "jos\u00e9@example.com"},
		{"Kelvin sign U+212A", []string{"\u212Aate@example.com", "kate@example.com", "Kate@example.com"}, "kate@example.com"},
		{"sharp s folds to ss", []string{"stra\u00dfe@example.de", "strasse@example.de", "STRASSE@example.de", "STRA\u1e9eE@example.de"}, "strasse@example.de"},
		{"Greek final sigma", []string{"οδυσσευς@example.gr", "οδυσσευσ@example.gr", "ΟΔΥΣΣΕΥΣ@example.gr", "Οδυσσευς@example.gr"}, "οδυσσευσ@example.gr"},
		{"ligature fi", []string{"\ufb01le@example.com", "file@example.com", "FILE@example.com"}, "file@example.com"},
		{"dotted capital I U+0130", []string{"al\u0130ce@example.com", "ali\u0307ce@example.com", "ALI\u0307CE@example.com"}, "ali\u0307ce@example.com"},
		{"dotless i U+0131 stays", []string{"al\u0131ce@example.com"}, "al\u0131ce@example.com"},
		{"superscript digit", []string{"user\u00b2@example.com", "user2@example.com"}, "user2@example.com"},
		{"fold then renormalize (j with caron)", []string{"\u01f0@example.com", "j\u030c@example.com", "J\u030c@example.com"}, "\u01f0@example.com"},
		{"punycode domain is ASCII", []string{"a@XN--BCHER-KVA.example", "a@xn--bcher-kva.example"}, "a@xn--bcher-kva.example"},
		{"atext punctuation", []string{"O'Brien+tag@Example.com", "o'brien+tag@example.com"}, "o'brien+tag@example.com"},
		{"split at the last @ (no other @ allowed)", []string{"a.b-c_d@sub.example.co.uk"}, "a.b-c_d@sub.example.co.uk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, in := range tt.in {
				if got := mustCanonical(t, in); got != tt.canon {
					t.Errorf("Canonical(%q) = %q (%+q), want %q (%+q)", in, got, got, tt.canon, tt.canon)
				}
				for _, other := range tt.in {
					if !Equal(in, other) {
						t.Errorf("Equal(%q, %q) = false", in, other)
					}
				}
			}
		})
	}
}

// Look-alikes that are different letters stay different accounts: the
// canonical form is not a confusables skeleton.
func TestCanonicalKeepsDifferentLettersApart(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, a, b string }{
		{"dotless i U+0131", "al\u0131ce@example.com", "alice@example.com"},
		{"dotted capital I U+0130", "al\u0130ce@example.com", "alice@example.com"},
		{"U+0130 vs U+0131", "al\u0130ce@example.com", "al\u0131ce@example.com"},
		{"Cyrillic a", "\u0430lice@example.com", "alice@example.com"},
		{"Greek omicron", "b\u03bfb@example.com", "bob@example.com"},
		{"different domains", "alice@example.com", "alice@example.org"},
		{"punycode is its own domain", "alice@xn--gmal-0ra.com", "alice@gmail.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if ca, cb := mustCanonical(t, tt.a), mustCanonical(t, tt.b); ca == cb {
				t.Errorf("Canonical(%q) == Canonical(%q) == %q", tt.a, tt.b, ca)
			}
			if Equal(tt.a, tt.b) {
				t.Errorf("Equal(%q, %q) = true", tt.a, tt.b)
			}
		})
	}
}

// invalidCases are refused, each for the reason given.
var invalidCases = []struct {
	name string
	in   string
	want error
}{
	{"empty", "", errNoAt},
	{"no @", "alice.example.com", errNoAt},
	{"invalid UTF-8", "al\xffce@example.com", errUTF8},
	{"invalid UTF-8 in domain", "alice@exa\xc3mple.com", errUTF8},
	{"truncated rune", "alice\xe2\x80@example.com", errUTF8},
	{"empty local part", "@example.com", errLocalEmpty},
	{"empty domain", "alice@", errDomainEmpty},
	{"two @", "a@b@example.com", errLocalChar},
	{"fullwidth @ in local part", "alice\uff20evil.com@gmail.com", errLocalChar},
	{"small @ in local part", "alice\ufe6bevil.com@gmail.com", errLocalChar},
	{"quoted local part", `"alice"@example.com`, errLocalChar},
	{"display name", "Alice <alice@example.com>", errDomainChar},
	{"angle brackets", "<alice@example.com>", errDomainChar},
	{"angle bracket in local part", "<alice@example.com", errLocalChar},
	{"comment", "alice(x)@example.com", errLocalChar},
	{"leading dot", ".alice@example.com", errLocalDots},
	{"trailing dot", "alice.@example.com", errLocalDots},
	{"two dots", "al..ice@example.com", errLocalDots},
	{"fullwidth dot makes two dots", "al.\uff0eice@example.com", errLocalDots},
	{"one dot leader U+2024 makes a trailing dot", "alice\u2024@example.com", errLocalDots},

	// Whitespace, anywhere.
	{"leading space", " alice@example.com", errSpace},
	{"trailing space", "alice@example.com ", errSpace},
	{"inner space", "ali ce@example.com", errSpace},
	{"tab", "ali\tce@example.com", errSpace},
	{"newline", "alice@example.com\n", errSpace},
	{"space in domain", "alice@exa mple.com", errSpace},
	{"no-break space", "ali\u00a0ce@example.com", errSpace},
	{"ideographic space", "ali\u3000ce@example.com", errSpace},
	{"line separator", "ali\u2028ce@example.com", errSpace},
	{"next line U+0085", "ali\u0085ce@example.com", errSpace},
	{"diaeresis whose NFKC has a space", "ali\u00a8ce@example.com", errSpace},
	{"U+FDFA whose NFKC has spaces", "\ufdfa@example.com", errSpace},

	// Control, format and invisible characters.
	{"NUL", "ali\x00ce@example.com", errControl},
	{"DEL", "ali\x7fce@example.com", errControl},
	{"C1 control", "ali\u0090ce@example.com", errControl},
	{"control in domain", "alice@exam\x01ple.com", errControl},
	{"zero-width space", "ali\u200bce@example.com", errFormat},
	{"zero-width non-joiner", "ali\u200cce@example.com", errFormat},
	{"zero-width joiner", "ali\u200dce@example.com", errFormat},
	{"word joiner", "alice\u2060@example.com", errFormat},
	{"byte order mark", "\ufeffalice@example.com", errFormat},
	{"soft hyphen", "ali\u00adce@example.com", errFormat},
	{"right-to-left override", "ali\u202ece@example.com", errFormat},
	{"left-to-right mark", "alice\u200e@example.com", errFormat},
	{"tag character", "alice\U000E0041@example.com", errFormat},
	{"variation selector", "alice\ufe0f@example.com", errFormat},
	{"combining grapheme joiner", "ali\u034fce@example.com", errFormat},
	{"Hangul filler", "ali\u3164ce@example.com", errFormat},
	{"private use", "ali\ue000ce@example.com", errUnassigned},
	{"unassigned", "ali\u0378ce@example.com", errUnassigned},
	{"replacement character", "ali\ufffdce@example.com", errUnassigned},
	{"Cherokee (x/text folds it in a cycle)", "\u13a0@example.com", errUnstable},
	{"Cherokee small letter", "\uab70@example.com", errUnstable},

	// The domain as typed must be ASCII.
	{"U+0130 in domain", "alice@gma\u0130l.com", errDomainASCII},
	{"U+0131 in domain", "alice@gma\u0131l.com", errDomainASCII},
	{"fullwidth domain", "alice@\uff47\uff4d\uff41\uff49\uff4c.com", errDomainASCII},
	{"Kelvin sign in domain", "alice@\u212Aelvin.com", errDomainASCII},
	{"sharp s in domain", "alice@stra\u00dfe.de", errDomainASCII},
	{"Unicode domain", "alice@b\u00fccher.example", errDomainASCII},
	{"fullwidth dot in domain", "alice@gmail\uff0ecom", errDomainASCII},
	{"Cyrillic a in domain", "alice@p\u0430ypal.com", errDomainASCII},

	// Domain form.
	{"domain without a dot", "alice@localhost", errDomainNoDot},
	{"domain leading dot", "alice@.example.com", errLabelEmpty},
	{"domain trailing dot", "alice@example.com.", errLabelEmpty},
	{"domain two dots", "alice@example..com", errLabelEmpty},
	{"label starts with hyphen", "alice@-example.com", errLabelHyphen},
	{"label ends with hyphen", "alice@example-.com", errLabelHyphen},
	{"TLD ends with hyphen", "alice@example.com-", errLabelHyphen},
	{"label of 64", "alice@" + strings.Repeat("a", 64) + ".com", errLabelTooLong},
	{"underscore in domain", "alice@my_host.example.com", errDomainChar},
	{"domain literal", "alice@[192.0.2.1]", errDomainChar},
	{"IP address", "alice@192.0.2.1", errNumericTLD},
	{"numeric TLD", "alice@example.123", errNumericTLD},

	// Lengths, in bytes.
	{"local part of 65", strings.Repeat("a", 65) + "@example.com", errLocalTooLong},
	{"local part of 33 two-byte letters (66 bytes)", strings.Repeat("é", 33) + "@example.com", errLocalTooLong},
	{"local part of 64 bytes whose fold is longer", strings.Repeat("\u0130", 32) + "@example.com", errLocalTooLong},
	{"local part of 64 bytes whose NFKC is longer", strings.Repeat("a", 61) + "\u3316@example.com", errLocalTooLong},
	{"255 bytes", strings.Repeat("a", 64) + "@" + strings.Repeat(strings.Repeat("b", 62)+".", 3) + strings.Repeat("c", 4), errTooLong},
}

func TestCanonicalRefuses(t *testing.T) {
	t.Parallel()
	for _, tt := range invalidCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Canonical(tt.in)
			if err == nil {
				t.Fatalf("Canonical(%+q) = %q, want an error", tt.in, got)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Canonical(%+q): %v does not match ErrInvalid", tt.in, err)
			}
			if err != tt.want {
				t.Errorf("Canonical(%+q): %v, want %v", tt.in, err, tt.want)
			}
			if got != "" {
				t.Errorf("Canonical(%+q) = %q with its error, want \"\"", tt.in, got)
			}
			if Valid(tt.in) || LegacyDiffers(tt.in) || Equal(tt.in, tt.in) {
				t.Errorf("Valid, LegacyDiffers or Equal is true for %+q", tt.in)
			}
			if strings.Contains(err.Error(), tt.in) && tt.in != "" {
				t.Errorf("error %q repeats the address", err)
			}
		})
	}
}

func TestCanonicalLengthLimits(t *testing.T) {
	t.Parallel()
	domain250 := strings.Repeat(strings.Repeat("b", 62)+".", 3) + strings.Repeat("c", 61) // 250 bytes
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"local part of 64", strings.Repeat("a", 64) + "@example.com", true},
		{"local part of 32 two-byte letters", strings.Repeat("é", 32) + "@example.com", true},
		{"254 bytes", "abc@" + domain250, true},
		{"label of 63", "a@" + strings.Repeat("a", 63) + ".com", true},
		{"255 bytes", "abcd@" + domain250, false},
		// The limit holds for the canonical form too: "İ" (2 bytes) folds
		// to "i" and U+0307 (3 bytes), "㌖" (3 bytes) is "キロメートル" (18
		// bytes) in NFKC.
		{"32 sharp s (64 bytes, folds to 64)", strings.Repeat("ß", 32) + "@example.com", true},
		{"ffi ligature: 61+3 bytes, NFKC 64", strings.Repeat("a", 61) + "\ufb03@example.com", true},
		{"U+0130: 61+2 bytes, canonical 64", strings.Repeat("a", 61) + "\u0130@example.com", true},
		{"U+0130: 62+2 bytes, canonical 65", strings.Repeat("a", 62) + "\u0130@example.com", false},
		{"U+3316: 46+3 bytes, NFKC 64", strings.Repeat("a", 46) + "\u3316@example.com", true},
		{"U+3316: 47+3 bytes, NFKC 65", strings.Repeat("a", 47) + "\u3316@example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Canonical(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("Canonical(%q) error %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err == nil && (len(c) > MaxLen || strings.LastIndexByte(c, '@') > MaxLocalLen) {
				t.Errorf("Canonical(%q) = %q exceeds the limits", tt.in, c)
			}
		})
	}
}

// validInputs are the valid addresses of this file's tables, for the
// properties every valid address has.
func validInputs() []string {
	in := []string{
		"ＡＬＩＣＥ@gmail.com", "Alice@gmail.com", "jose\u0301@example.com", "jos\u00e9@example.com",
		"\u212Aate@example.com", "stra\u00dfe@example.de", "ΟΔΥΣΣΕΥΣ@example.gr", "\ufb01le@example.com",
		"al\u0130ce@example.com", "al\u0131ce@example.com", "\u01f0@example.com", "a@XN--BCHER-KVA.example",
		"!#$%&'*+-/=?^_`{|}~@example.com", "a.b.c@a-b.example", "x@1.example.com",
	}
	return in
}

func TestCanonicalIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, in := range validInputs() {
		c := mustCanonical(t, in)
		if cc := mustCanonical(t, c); cc != c {
			t.Errorf("Canonical(Canonical(%q)) = %q, want %q", in, cc, c)
		}
		if !norm.NFKC.IsNormalString(c) {
			t.Errorf("Canonical(%q) = %+q is not NFKC", in, c)
		}
	}
}

// TestCanonicalIsNFKCThenFold checks the canonical form against the rule
// as stated, applied with the x/text packages directly.
func TestCanonicalIsNFKCThenFold(t *testing.T) {
	t.Parallel()
	for _, in := range validInputs() {
		at := strings.LastIndexByte(in, '@')
		want := norm.NFKC.String(cases.Fold().String(norm.NFKC.String(in[:at]))) + "@" + strings.ToLower(in[at+1:])
		if got := mustCanonical(t, in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

// asciiAlphabet is every printable ASCII character and the controls that
// matter, for generated addresses.
const asciiAlphabet = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\t\n\r\x00\x7f"

// Every account created with an ASCII address keeps its claim key: for an
// ASCII address the canonical form is the legacy one.
func TestCanonicalEqualsLegacyForASCII(t *testing.T) {
	t.Parallel()
	check := func(addr string) {
		t.Helper()
		c, err := Canonical(addr)
		if err != nil {
			return
		}
		if c != Legacy(addr) {
			t.Errorf("Canonical(%q) = %q, Legacy = %q", addr, c, Legacy(addr))
		}
		if LegacyDiffers(addr) {
			t.Errorf("LegacyDiffers(%q) = true", addr)
		}
	}
	// Every character in every position of a local part and a domain.
	valid := 0
	for i := 0; i < len(asciiAlphabet); i++ {
		ch := asciiAlphabet[i : i+1]
		for _, addr := range []string{
			"A" + ch + "b@Example.COM", ch + "x@example.com", "x" + ch + "@example.com",
			"Alice@Ex" + ch + "ample.com", "alice@" + ch + "example.com", "alice@example.c" + ch,
		} {
			check(addr)
			if Valid(addr) {
				valid++
			}
		}
	}
	if valid < 100 {
		t.Fatalf("only %d generated addresses valid; the generator is broken", valid)
	}
	// Random ones, mostly of the characters addresses are made of.
	r := rand.New(rand.NewPCG(1, 2))
	word := func(alphabet string, n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	const common = "abcxyzABCXYZ0189.-_+"
	for range 20000 {
		alphabet := common
		if r.IntN(4) == 0 {
			alphabet = asciiAlphabet
		}
		check(word(alphabet, 1+r.IntN(20)) + "@" + word(alphabet, 1+r.IntN(10)) + "." + word(common, 2+r.IntN(4)))
	}
}

func TestLegacyIsTheOldClaimKey(t *testing.T) {
	t.Parallel()
	// shared/store's emailClaimKey and mailThrottleKey before the change:
	// strings.ToLower of what they were given (web.Input had trimmed it).
	for _, in := range append(validInputs(), " Alice@Example.com ", "alice@gma\u0130l.com", "x", "") {
		if got, want := Legacy(in), strings.ToLower(in); got != want {
			t.Errorf("Legacy(%q) = %q, want %q", in, got, want)
		}
	}
	// What made the old key unsafe, and why a legacy hit must be checked
	// with Equal before it counts: strings.ToLower folds "İ" and the Kelvin
	// sign to ASCII, in the domain too.
	if Legacy("alice@gma\u0130l.com") != "alice@gmail.com" || Legacy("\u212Aate@example.com") != "kate@example.com" {
		t.Errorf("strings.ToLower no longer folds U+0130 or U+212A to ASCII; update Legacy's documentation")
	}
	if Equal("alice@gma\u0130l.com", "alice@gmail.com") {
		t.Errorf("Equal joins a non-ASCII domain with an ASCII one")
	}
}

func TestLegacyDiffers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"Alice@Example.com", false},
		{"alice@example.com", false},
		{"jos\u00e9@example.com", false}, // NFC, no case: both forms agree
		{"JOS\u00c9@example.com", false}, // strings.ToLower lowers É too
		{"jose\u0301@example.com", true}, // NFD: only Canonical composes
		{"ＡＬＩＣＥ@gmail.com", true},
		{"\u212Aate@example.com", false}, // ToLower maps the Kelvin sign to k too
		{"stra\u00dfe@example.de", true},
		{"οδυσσευς@example.gr", true},
		{"\ufb01le@example.com", true},
		{"al\u0130ce@example.com", true}, // ToLower: "alice"; Canonical: "ali\u0307ce"
		{"al\u0131ce@example.com", false},
		{"alice@gma\u0130l.com", false}, // invalid
		{"not an address", false},
	}
	for _, tt := range tests {
		if got := LegacyDiffers(tt.in); got != tt.want {
			t.Errorf("LegacyDiffers(%q) = %v, want %v (canonical %q, legacy %q)", tt.in, got, tt.want,
				mustCanonicalOrEmpty(tt.in), Legacy(tt.in))
		}
	}
}

func mustCanonicalOrEmpty(s string) string { c, _ := Canonical(s); return c }

// The Unicode tables that decide the canonical form are one version, so a
// code point Go's unicode package calls assigned (and so not refused) is
// one x/text normalizes and folds. x/text picks its tables by Go version
// with build tags, so this holds unless one of them is pinned apart.
func TestUnicodeVersionsAgree(t *testing.T) {
	t.Parallel()
	if norm.Version != unicode.Version || cases.UnicodeVersion != norm.Version {
		t.Fatalf("unicode %s, x/text norm %s, cases %s: canonical forms of characters new in the newer "+
			"version would change when the other catches up", unicode.Version, norm.Version, cases.UnicodeVersion)
	}
}

// oldValidEmail is shared/web's ValidEmail as it was when this package was
// written (after web.Input.String had trimmed the value and checked it
// was at most 254 characters): the check this package must be at least
// as strict as.
func oldValidEmail(s string) bool {
	if utf8.RuneCountInString(s) > 254 || strings.TrimSpace(s) != s || s == "" {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") &&
		!strings.HasSuffix(domain, ".") && !strings.ContainsAny(s, " \t\r\n")
}

func TestAtLeastAsStrictAsBefore(t *testing.T) {
	t.Parallel()
	for _, in := range validInputs() {
		if !oldValidEmail(in) {
			t.Errorf("%q is valid here but was refused before", in)
		}
	}
	// Before, these were accepted; now they are not.
	for _, in := range []string{"ali\u200dce@example.com", "alice@gma\u0130l.com", "ali\u0085ce@example.com", "alice@-x.com", "alice@my_host.com"} {
		if !oldValidEmail(in) {
			t.Errorf("oldValidEmail(%+q) = false; this test's copy of the old check is off", in)
		}
		if Valid(in) {
			t.Errorf("Valid(%+q) = true", in)
		}
	}
}
