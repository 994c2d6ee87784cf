// Package mailtmpl renders the users function's emails: each from one
// template (templates/<kind>.tmpl, with its subject, its plain-text part
// and its HTML content), the HTML part inside the shared layout
// (templates/layout.tmpl) in the organization's name, logo and primary
// colour.
//
// The plain-text part is text/template's; the HTML part is html/template's,
// which escapes every value for where it lands, so a user's address or an
// organization's name cannot add markup, and a theme value that is not a
// colour or an https URL is replaced before it gets there (Theme).
package mailtmpl

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"regexp"
	"strings"
	"sync"
	texttemplate "text/template"

	"github.com/pufinid/pufinid-api/shared/mailer"
)

//go:embed templates/*.tmpl
var files embed.FS

// Kind is one email.
type Kind string

// The emails.
const (
	Confirm Kind = "confirm" // the confirmation link
	Reset   Kind = "reset"   // the password reset link
)

// Kinds lists every email.
var Kinds = []Kind{Confirm, Reset}

// Data is what an email says.
type Data struct {
	To               string // the account's address: the recipient, named in the footer
	Link             string // the link, as configured, with its query already escaped
	Expires          string // the link's lifetime in words, "72 hours"
	OrganizationName string
	Theme            Theme
}

// Theme is the part of an organization's theme the emails use.
type Theme struct {
	PrimaryColor string // a CSS hex colour, "#7B1E3A"
	LogoURL      string // an https URL, or "" for the name in text
}

// DefaultColor is the primary colour of an organization whose theme has
// none (or one that is not a hex colour).
const DefaultColor = "#1B365D"

var hexColor = regexp.MustCompile(`^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$`)

// ParseTheme reads the keys the emails use from an organization's theme
// (docs/fixtures.md): primary_color, a hex colour, and logo_url, an https
// URL. Anything else, or a value of another kind, is left out: the theme
// is reference data, but an email client is no place to find out it was
// wrong.
func ParseTheme(raw json.RawMessage) Theme {
	var v struct {
		PrimaryColor any `json:"primary_color"`
		LogoURL      any `json:"logo_url"`
	}
	_ = json.Unmarshal(raw, &v) // a theme that is not an object has neither key
	t := Theme{PrimaryColor: DefaultColor}
	if s, ok := v.PrimaryColor.(string); ok && hexColor.MatchString(s) {
		t.PrimaryColor = s
	}
	if s, ok := v.LogoURL.(string); ok {
		if u, err := url.Parse(s); err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil {
			t.LogoURL = u.String()
		}
	}
	return t
}

type kindTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// parsed holds every email's templates, parsed on the first email: the
// users function's init does no work a request may not need.
var parsed = sync.OnceValues(func() (map[Kind]kindTemplates, error) {
	out := map[Kind]kindTemplates{}
	for _, k := range Kinds {
		name := "templates/" + string(k) + ".tmpl"
		text, err := texttemplate.New(string(k)).Option("missingkey=error").ParseFS(files, name)
		if err != nil {
			return nil, err
		}
		html, err := htmltemplate.New(string(k)).Option("missingkey=error").ParseFS(files, "templates/layout.tmpl", name)
		if err != nil {
			return nil, err
		}
		out[k] = kindTemplates{text: text, html: html}
	}
	return out, nil
})

// Render renders the email kind for d.
func Render(kind Kind, d Data) (mailer.Message, error) {
	all, err := parsed()
	if err != nil {
		return mailer.Message{}, fmt.Errorf("mailtmpl: %w", err)
	}
	t, ok := all[kind]
	if !ok {
		return mailer.Message{}, fmt.Errorf("mailtmpl: no email %q", kind)
	}
	if d.Theme.PrimaryColor == "" {
		d.Theme.PrimaryColor = DefaultColor
	}
	// A name is one line wherever it goes (the subject is a header).
	d.OrganizationName = oneLine(d.OrganizationName)
	var subject, text, html bytes.Buffer
	if err := t.text.ExecuteTemplate(&subject, "subject", d); err != nil {
		return mailer.Message{}, fmt.Errorf("mailtmpl: %s subject: %w", kind, err)
	}
	if err := t.text.ExecuteTemplate(&text, "text", d); err != nil {
		return mailer.Message{}, fmt.Errorf("mailtmpl: %s text: %w", kind, err)
	}
	if err := t.html.ExecuteTemplate(&html, "html", d); err != nil {
		return mailer.Message{}, fmt.Errorf("mailtmpl: %s html: %w", kind, err)
	}
	return mailer.Message{To: d.To, Subject: oneLine(subject.String()), Text: text.String(), HTML: html.String()}, nil
}

// oneLine folds every run of spaces and control characters to one space:
// a subject is one header line, whatever an organization's name holds.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r == ' ' }), " ")
}
