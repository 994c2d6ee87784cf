package password

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Django's validator messages, word for word, in the order Django's default
// AUTH_PASSWORD_VALIDATORS runs them.
const (
	msgTooShort  = "This password is too short. It must contain at least 8 characters."
	msgCommon    = "This password is too common."
	msgNumeric   = "This password is entirely numeric."
	minLength    = 8
	maxSimilar   = 0.7
	similarToFmt = "The password is too similar to the "
)

// msgInvisible is this API's own rule, worded as Django words its
// validators' messages.
const msgInvisible = "This password contains no visible characters."

// Attribute labels as Django's User model names them (verbose_name); Validate
// checks them in Django's default order, then any other key in sorted order.
const (
	AttrUsername  = "username"
	AttrFirstName = "first name"
	AttrLastName  = "last name"
	AttrEmail     = "email address"
)

var attrOrder = []string{AttrUsername, AttrFirstName, AttrLastName, AttrEmail}

// Validate runs Django's four default password validators (user attribute
// similarity, minimum length 8, common password, entirely numeric), then
// this API's own (nothing visible, see isBlank), and returns their
// messages, or nil when pw is acceptable. attrs maps an attribute's label
// (AttrUsername, ...) to the user's value; empty values are skipped. The
// field's maximum length is the caller's check.
func Validate(pw string, attrs map[string]string) []string {
	var msgs []string
	if label, ok := similarAttr(pw, attrs); ok {
		msgs = append(msgs, similarToFmt+label+".")
	}
	if utf8.RuneCountInString(pw) < minLength {
		msgs = append(msgs, msgTooShort)
	}
	if isCommon(pw) {
		msgs = append(msgs, msgCommon)
	}
	if isNumeric(pw) {
		msgs = append(msgs, msgNumeric)
	}
	if isBlank(pw) {
		msgs = append(msgs, msgInvisible)
	}
	return msgs
}

// isBlank reports whether pw is non-empty and every character of it is
// invisible: eight spaces, tabs or zero-width spaces pass the length check
// but are no secret, and whoever types one on a phone or copies one from a
// page cannot see what they chose. One visible character is enough: spaces
// around and between words are allowed ("correct horse battery staple").
// The empty password is only too short.
func isBlank(pw string) bool {
	if pw == "" {
		return false
	}
	for _, r := range pw {
		if !isInvisible(r) {
			return false
		}
	}
	return true
}

// isInvisible reports whether r draws nothing by itself, that is:
//   - white space (unicode.IsSpace: tab, newline, U+0085, no-break space
//     U+00A0, the U+2000 to U+200A spaces, U+202F, U+205F, ideographic space
//     U+3000...) and every separator (Z: Zs, Zl U+2028, Zp U+2029);
//   - control characters (Cc: C0, DEL, C1);
//   - format characters (Cf: soft hyphen U+00AD, zero-width space, joiners
//     and direction marks U+200B to U+200F, U+202A to U+202E, word joiner
//     and invisible operators U+2060 to U+2064, BOM U+FEFF, U+180E, the tag
//     characters U+E0001 to U+E007F...);
//   - nonspacing and enclosing marks (Mn, Me: combining accents, variation
//     selectors), which only draw on a base character and so leave nothing
//     visible when all there is are marks; spacing marks (Mc) take room of
//     their own and count as visible;
//   - the other default-ignorable code points Unicode lists
//     (Other_Default_Ignorable_Code_Point: the Hangul fillers U+115F,
//     U+1160, U+3164 and U+FFA0, which are letters drawn as nothing,
//     U+034F, U+17B4, U+17B5, and unassigned code points reserved as
//     ignorable such as U+2065 and U+FFF0 to U+FFF8);
//   - the blank Braille pattern U+2800, a symbol drawn as an empty cell.
//
// Private-use (Co) and other unassigned (Cn) code points count as visible:
// a font may draw them, and a later Unicode may assign them.
func isInvisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.In(r, unicode.Z, unicode.Cc, unicode.Cf, unicode.Mn, unicode.Me,
		unicode.Other_Default_Ignorable_Code_Point) || r == '\u2800'
}

// isNumeric is Python's str.isdigit: non-empty and every character a digit.
func isNumeric(pw string) bool {
	if pw == "" {
		return false
	}
	for _, r := range pw {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// commonList is zxcvbn's list of the 30,000 most frequent leaked passwords,
// the same kind of list Django ships (and a superset of its size), one per
// line. It is embedded as text rather than imported from zxcvbn, whose
// package builds all its word lists (1.5 MB) at init, in every function
// linking this package: a cold start of the token function, which never
// validates a password, paid for it. A test checks it is zxcvbn's list.
//
//go:embed common-passwords.txt
var commonList string

// commonPasswords is commonList as a set, built on first use so a cold
// start that never validates a password does not pay for it.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	list := strings.Split(strings.TrimSuffix(commonList, "\n"), "\n")
	set := make(map[string]struct{}, len(list))
	for _, p := range list {
		set[p] = struct{}{}
	}
	return set
})

// isCommon mirrors Django's CommonPasswordValidator: lowercased, stripped.
func isCommon(pw string) bool {
	_, ok := commonPasswords()[strings.TrimSpace(strings.ToLower(pw))]
	return ok
}

// nonWord is Python's \W on str: anything but letters, numbers and
// underscore (Python's \w is str.isalnum plus "_", so combining marks split).
// A function rather than a regexp: compiling one with Unicode classes costs
// every cold start of the functions that link this package.
func nonWord(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '_' }

// similarAttr mirrors Django's UserAttributeSimilarityValidator: the
// lowercased password is compared with each attribute and each of its parts
// split on non-word characters; the first attribute whose SequenceMatcher
// quick ratio reaches 0.7 is returned.
func similarAttr(pw string, attrs map[string]string) (string, bool) {
	if len(attrs) == 0 {
		return "", false
	}
	lower := []rune(strings.ToLower(pw))
	for _, label := range orderedLabels(attrs) {
		value := attrs[label]
		if value == "" {
			continue
		}
		vl := strings.ToLower(value)
		// Django splits on \W+ and may get empty parts, which never match;
		// FieldsFunc leaves them out.
		parts := append(strings.FieldsFunc(vl, nonWord), vl)
		for _, part := range parts {
			pr := []rune(part)
			if exceedsMaxLengthRatio(len(lower), len(pr)) {
				continue
			}
			if quickRatio(lower, pr) >= maxSimilar {
				return label, true
			}
		}
	}
	return "", false
}

func orderedLabels(attrs map[string]string) []string {
	labels := make([]string, 0, len(attrs))
	for _, l := range attrOrder {
		if _, ok := attrs[l]; ok {
			labels = append(labels, l)
		}
	}
	var rest []string
	for l := range attrs {
		if !slices.Contains(attrOrder, l) {
			rest = append(rest, l)
		}
	}
	slices.Sort(rest)
	return append(labels, rest...)
}

// exceedsMaxLengthRatio is Django's shortcut: a value much shorter than the
// password cannot make it similar, so it is not compared.
func exceedsMaxLengthRatio(pwLen, valueLen int) bool {
	lengthBound := maxSimilar / 2 * float64(pwLen)
	return pwLen >= 10*valueLen && float64(valueLen) < lengthBound
}

// quickRatio is difflib.SequenceMatcher(a=a, b=b).quick_ratio(): twice the
// size of the multiset intersection over the total length.
func quickRatio(a, b []rune) float64 {
	total := len(a) + len(b)
	if total == 0 {
		return 1
	}
	avail := make(map[rune]int, len(b))
	for _, r := range b {
		avail[r]++
	}
	matches := 0
	for _, r := range a {
		if avail[r] > 0 {
			matches++
		}
		avail[r]--
	}
	return 2 * float64(matches) / float64(total)
}
