// Package emailaddr owns the one canonical form of an email address: the
// form every lookup, uniqueness claim and mail throttle is keyed by, and
// the validation an address must pass to have one.
//
// It exists because an address reaches the API in many spellings of what a
// person reads as one address: "Alice@gmail.com" and "alice@gmail.com",
// fullwidth "ＡＬＩＣＥ@gmail.com", "josé" with a precomposed "é" or with
// "e" and a combining accent, "Kate" spelled with the Kelvin sign "K"
// (U+212A) instead of "K". If each place that keys something by an address folded it its own
// way (or only with strings.ToLower, which the store did before), one of
// those spellings could open a second account for an address that already
// has one, spread one address's mail budget over several throttles, or miss
// the account at a password reset. So every key is built from Canonical,
// here, and nowhere else.
//
// # The canonical form
//
// The address is split at its last "@".
//
//   - The local part is normalized with Unicode NFKC, then case folded with
//     full Unicode case folding (cases.Fold, not strings.ToLower: "ß"
//     becomes "ss", final sigma "ς" becomes "σ"), then normalized with NFKC
//     again, because folding does not preserve normalization ("ǰ" folds to
//     "j" and a combining caron, which NFKC composes back). This is
//     Unicode's toCasefold(toNFKC(X)) followed by the normalization that
//     makes the result a fixed point.
//   - The domain must already be ASCII as typed, and is lowercased.
//     Internationalized domains are refused rather than converted with
//     IDNA; their ASCII "xn--" form is an ordinary ASCII domain and is
//     accepted. The domain is never normalized: NFKC would turn a
//     fullwidth "ｇｍａｉｌ.com" into "gmail.com" and the Kelvin sign into
//     "K", and strings.ToLower turns "İ" (U+0130) into "i", so a domain
//     such as "gmaİl.com" would otherwise land on gmail.com's accounts.
//     Any non-ASCII byte in the domain makes the address invalid.
//
// For an all-ASCII address the canonical form is strings.ToLower of it,
// which is what the store keyed claims by before (Legacy), so every
// account created with an ASCII address resolves without migration.
//
// # What the canonical form is not
//
// It does not defend against look-alike characters that are different
// letters: dotless "ı" (U+0131), "İ" (U+0130, which folds to "i" and a
// combining dot above), or a Cyrillic "а" stay distinct from "i" and "a"
// (Unicode confusables, UTS #39, are out of scope). What keeps such an
// address harmless is that mail is only ever sent to the address stored on
// the account (store.EmailOwner.Address), never to the spelling a request
// used: a lookup in another spelling can find an account, never redirect
// its mail.
//
// Folding "ß" to "ss" is wanted: it is how Unicode defines caseless
// matching, and "STRASSE" is the uppercase of "straße", so a user who types
// their address in capitals finds their account. The price is that
// "straße@x.de" and "strasse@x.de" cannot be two accounts; the second
// signup is refused as taken, which is the safe direction.
//
// # Validation
//
// An address is valid when the address as typed and its canonical form
// both pass these rules (the canonical form must, so that Canonical is
// idempotent; the typed form must, because it is what the account stores
// and what mail is sent to):
//
//   - valid UTF-8, at most MaxLen (254) bytes, with an "@";
//   - a local part of 1 to MaxLocalLen (64) bytes, a dot-atom: ASCII
//     letters, digits and !#$%&'*+-/=?^_`{|}~, dots not first, last or
//     doubled, and non-ASCII characters only if graphic (letters, marks,
//     numbers, punctuation, symbols); no whitespace, control (Cc) or format
//     (Cf: zero-width joiners, bidi controls, soft hyphen...) characters,
//     no variation selectors or other default-ignorable characters, no
//     private-use or unassigned code points, no U+FFFD; no quoted local
//     parts and no comments; and a canonical local part that is its own
//     canonical form (x/text folds Cherokee letters in a cycle, upper to
//     lower and lower to upper, golang/go#46101; such local parts are
//     refused rather than given a form a fix would change);
//   - a domain of ASCII letters, digits, hyphens and dots: at least two
//     labels, none empty (so no leading, trailing or doubled dot), none
//     longer than 63 bytes, none starting or ending with "-", and a last
//     label that is not all digits (that would be an IP address, which
//     mail takes only as a bracketed literal, refused here too).
//
// Lengths are in bytes, not characters, and are measured in both forms
// because both are stored: the typed form on the account (RFC 5321's
// limits are octets on the wire, and the local part is what mail is sent
// to), the canonical form in the claim key and the throttle key. NFKC and
// folding can lengthen a local part ("İ", 2 bytes, folds to "i" and a
// combining dot, 3; "㌖", 3 bytes, is "キロメートル", 18, in NFKC), so
// bounding the canonical form keeps keys bounded and keeps Canonical's
// output valid input.
//
// This is at least as strict as the check the API made before
// (web.ValidEmail: net/mail's parser plus a dotted domain), so the API can
// answer DRF's "Enter a valid email address." for any address this package
// refuses.
//
// Non-ASCII local parts are valid here, as they were before. Amazon SES
// has no SMTPUTF8 and sends only to ASCII local parts, so an account with
// one cannot receive mail; refusing them at signup would be the API's
// decision, and lookups would still canonicalize them (a fullwidth
// "ＡＬＩＣＥ@gmail.com" must find alice@gmail.com's account).
//
// Code points not assigned in the Unicode version of the tables (Go's
// unicode package and golang.org/x/text, which follow the same version)
// are refused, so an upgrade of those tables cannot change a stored
// canonical form: by Unicode's stability policy, toCasefold(toNFKC(S)) of
// a string of assigned characters is the same in every later version.
package emailaddr

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Limits on an address, in bytes, applied to the address as typed and to
// its canonical form (RFC 5321: a path of 256 octets holds an address of
// 254, and a local part has at most 64).
const (
	MaxLen      = 254
	MaxLocalLen = 64
	maxLabelLen = 63
)

// ErrInvalid is what every error of Canonical matches with errors.Is. The
// message of an error names the rule broken, never the address, so it can
// be logged.
var ErrInvalid = errors.New("emailaddr: not a valid email address")

// invalid is an error naming the rule an address breaks.
type invalid string

func (e invalid) Error() string        { return ErrInvalid.Error() + ": " + string(e) }
func (e invalid) Is(target error) bool { return target == ErrInvalid }

// The rules, one error each.
const (
	errUTF8         = invalid("not valid UTF-8")
	errTooLong      = invalid("longer than 254 bytes")
	errNoAt         = invalid("no @")
	errLocalEmpty   = invalid("empty local part")
	errLocalTooLong = invalid("local part longer than 64 bytes")
	errLocalDots    = invalid("local part starts or ends with a dot, or has two in a row")
	errLocalChar    = invalid("character not allowed in the local part")
	errSpace        = invalid("whitespace")
	errControl      = invalid("control character")
	errFormat       = invalid("format or invisible character")
	errUnassigned   = invalid("unassigned, private-use or replacement character")
	errDomainEmpty  = invalid("empty domain")
	errDomainASCII  = invalid("domain not ASCII (internationalized domains are refused; their xn-- form is accepted)")
	errDomainChar   = invalid("character not allowed in the domain")
	errDomainNoDot  = invalid("domain without a dot")
	errLabelEmpty   = invalid("empty domain label")
	errLabelTooLong = invalid("domain label longer than 63 bytes")
	errLabelHyphen  = invalid("domain label starts or ends with a hyphen")
	errNumericTLD   = invalid("last domain label all digits")
	errUnstable     = invalid("local part has no stable canonical form")
)

// fold is full Unicode case folding; a folding Caser is stateless and safe
// for concurrent use.
var fold = cases.Fold()

// Canonical returns the canonical form of addr: NFKC, full case folding and
// NFKC again on the local part, the ASCII domain lowercased (see the
// package documentation for the rules). It returns an error matching
// ErrInvalid when addr or its canonical form breaks a rule of validation.
// Canonical(c) == c for every c it returns.
//
// addr is taken as given: surrounding whitespace is refused like any
// other, so a caller that reads user input trims it first (web.Input
// does).
func Canonical(addr string) (string, error) {
	local, domain, err := split(addr)
	if err != nil {
		return "", err
	}
	c := foldLocal(local)
	if err := checkLocal(c); err != nil {
		return "", err
	}
	// The canonical form of the canonical form must be itself.
	if foldLocal(c) != c {
		return "", errUnstable
	}
	out := c + "@" + strings.ToLower(domain)
	if len(out) > MaxLen {
		return "", errTooLong
	}
	return out, nil
}

// Valid reports whether addr has a canonical form: whether the API accepts
// it as an email address.
func Valid(addr string) bool {
	_, err := Canonical(addr)
	return err == nil
}

// Sendable reports whether addr is valid and all ASCII: an address a new
// account may have. Amazon SES sends only to ASCII addresses (it has no
// SMTPUTF8), so an account with another could never be confirmed; and an
// unconfirmable spelling such as "ｖｉｃｔｉｍ@gmail.com" or "\u212Aate@x"
// (Kelvin sign) would otherwise take its canonical form, the ASCII
// address, away from the person who can receive mail at it. Lookups still
// take every spelling (Canonical): they only ever reach an account, never
// its mail.
func Sendable(addr string) bool {
	for i := 0; i < len(addr); i++ {
		if addr[i] >= 0x80 {
			return false
		}
	}
	return Valid(addr)
}

// Equal reports whether a and b are both valid and have the same canonical
// form: whether they name the same account.
func Equal(a, b string) bool {
	ca, err := Canonical(a)
	if err != nil {
		return false
	}
	cb, err := Canonical(b)
	return err == nil && ca == cb
}

// Legacy returns the form the store keyed email claims (and hashed mail
// throttles) by before Canonical: strings.ToLower of the address exactly as
// the store received it (callers had trimmed it; the key did not trim).
// It exists so that the store can still find claims written before the
// change; nothing new is keyed by it.
//
// Legacy folds more than Canonical in places: strings.ToLower maps "İ" and
// the Kelvin sign to "i" and "k" in the domain too. A claim found by its
// legacy key is only the account of addr if Equal(claim's address, addr).
func Legacy(addr string) string { return strings.ToLower(addr) }

// LegacyDiffers reports whether addr is valid and Legacy(addr) differs from
// its canonical form, that is, whether an account created before the change
// may hold addr under a claim key other than the canonical one, so a lookup
// that misses the canonical key must try the legacy one too. It is false
// for every valid ASCII address, so only addresses with non-ASCII local
// parts pay for a second lookup.
//
// For an invalid address it is false: there is no canonical lookup to back
// up. A caller that must still find accounts created under the looser
// validation of before (a login) can look up Legacy(addr) alone.
func LegacyDiffers(addr string) bool {
	c, err := Canonical(addr)
	return err == nil && Legacy(addr) != c
}

// split checks the address as typed and returns its local part and domain.
func split(addr string) (local, domain string, err error) {
	if !utf8.ValidString(addr) {
		return "", "", errUTF8
	}
	if len(addr) > MaxLen {
		return "", "", errTooLong
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return "", "", errNoAt
	}
	local, domain = addr[:at], addr[at+1:]
	if err := checkDomain(domain); err != nil {
		return "", "", err
	}
	if err := checkLocal(local); err != nil {
		return "", "", err
	}
	return local, domain, nil
}

// foldLocal is the canonical form of a local part.
func foldLocal(s string) string {
	return norm.NFKC.String(fold.String(norm.NFKC.String(s)))
}

// atext marks the ASCII characters of RFC 5322's atext (dots are handled
// apart).
var atext = func() (t [utf8.RuneSelf]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-/=?^_`{|}~" {
		t[c] = true
	}
	return t
}()

// checkLocal checks a local part, as typed or canonical.
func checkLocal(s string) error {
	if s == "" {
		return errLocalEmpty
	}
	if len(s) > MaxLocalLen {
		return errLocalTooLong
	}
	for _, r := range s {
		if err := checkLocalRune(r); err != nil {
			return err
		}
	}
	if s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return errLocalDots
	}
	return nil
}

func checkLocalRune(r rune) error {
	switch {
	case r == '.':
		return nil
	case r < utf8.RuneSelf && atext[r]:
		return nil
	case unicode.IsSpace(r):
		return errSpace
	case unicode.Is(unicode.Cc, r):
		return errControl
	case r < utf8.RuneSelf:
		return errLocalChar
	case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Variation_Selector, r),
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
		return errFormat
	case r == utf8.RuneError, !unicode.IsGraphic(r):
		// Left: Zl and Zp are spaces, so this is private use (Co),
		// surrogates (Cs, which valid UTF-8 cannot hold) and unassigned
		// code points (Cn).
		return errUnassigned
	}
	return nil
}

// checkDomain checks a domain as typed: ASCII only, then its labels.
func checkDomain(d string) error {
	if d == "" {
		return errDomainEmpty
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		switch {
		case c >= utf8.RuneSelf:
			return errDomainASCII
		case c == '-' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case c == ' ' || '\t' <= c && c <= '\r':
			return errSpace
		case c < ' ' || c == 0x7f:
			return errControl
		default:
			return errDomainChar
		}
	}
	if !strings.Contains(d, ".") {
		return errDomainNoDot
	}
	var label string
	for rest := d; rest != ""; {
		label, rest, _ = strings.Cut(rest, ".")
		switch {
		case label == "":
			return errLabelEmpty
		case len(label) > maxLabelLen:
			return errLabelTooLong
		case label[0] == '-' || label[len(label)-1] == '-':
			return errLabelHyphen
		}
	}
	if d[len(d)-1] == '.' {
		return errLabelEmpty
	}
	if strings.Trim(label, "0123456789") == "" {
		return errNumericTLD
	}
	return nil
}
