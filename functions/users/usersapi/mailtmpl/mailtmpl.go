// Package mailtmpl renders the users function's emails: each from one
// template (templates/<kind>.tmpl, with its subject, its plain-text part
// and its HTML content), the HTML part inside the shared layout
// (templates/layout.tmpl) in the organization's name, logo and primary
// colour.
//
// A template is sections ("-- subject --", "-- text --", "-- html --")
// holding {{name}} placeholders of a fixed set (Data's fields). The text
// part gets the values as they are; the HTML part gets every value
// HTML-escaped, and only a theme value that is a hex colour or an https
// URL (Theme), so a user's address or an organization's name cannot add
// markup. Not text/template or html/template: either links reflect's
// method lookup into the binary, which keeps every exported method of
// every type the function links (the users function grew from 8.8 MB to
// 14.9 MB, and its cold start by a quarter).
package mailtmpl

import (
	"embed"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"sync"

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

// Compiled on the first email, not at Lambda init (GODEBUG=inittrace=1:
// the two expressions were this package's 0.07 ms of every cold start,
// emails or not).
var hexColor = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$`) })

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
	if s, ok := v.PrimaryColor.(string); ok && hexColor().MatchString(s) {
		t.PrimaryColor = s
	}
	if s, ok := v.LogoURL.(string); ok {
		if u, err := url.Parse(s); err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil {
			t.LogoURL = u.String()
		}
	}
	return t
}

// template is one file's sections, by name.
type template map[string]string

// parseTemplate reads "-- name --" sections; lines before the first, and
// lines starting with "#" there, are comments.
func parseTemplate(src string) (template, error) {
	t := template{}
	name := ""
	var body []string
	flush := func() {
		if name != "" {
			t[name] = strings.Join(body, "\n")
		}
	}
	for line := range strings.SplitSeq(strings.TrimRight(src, "\n"), "\n") {
		if n, ok := strings.CutPrefix(line, "-- "); ok && strings.HasSuffix(n, " --") {
			flush()
			name, body = strings.TrimSuffix(n, " --"), nil
			if _, dup := t[name]; dup {
				return nil, fmt.Errorf("section %q twice", name)
			}
			continue
		}
		if name == "" {
			if line != "" && !strings.HasPrefix(line, "#") {
				return nil, fmt.Errorf("text before the first section: %q", line)
			}
			continue
		}
		body = append(body, line)
	}
	flush()
	return t, nil
}

var placeholder = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{\{([a-z-]+)\}\}`) })

// fill replaces each {{name}} of s by values[name]; a name values lacks
// is an error, so a typo in a template fails its golden test.
func fill(s string, values map[string]string) (string, error) {
	var missing []string
	out := placeholder().ReplaceAllStringFunc(s, func(m string) string {
		v, ok := values[m[2:len(m)-2]]
		if !ok {
			missing = append(missing, m)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("unknown placeholders %v", missing)
	}
	return out, nil
}

type kindTemplates struct {
	email, layout template
}

// parsed holds every email's templates, parsed on the first email: the
// users function's init does no work a request may not need.
var parsed = sync.OnceValues(func() (map[Kind]kindTemplates, error) {
	read := func(name string, sections ...string) (template, error) {
		src, err := files.ReadFile("templates/" + name)
		if err != nil {
			return nil, err
		}
		t, err := parseTemplate(string(src))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for _, s := range sections {
			if _, ok := t[s]; !ok {
				return nil, fmt.Errorf("%s: no section %q", name, s)
			}
		}
		return t, nil
	}
	layout, err := read("layout.tmpl", "html", "header-logo", "header-name")
	if err != nil {
		return nil, err
	}
	out := map[Kind]kindTemplates{}
	for _, k := range Kinds {
		t, err := read(string(k)+".tmpl", "subject", "text", "html")
		if err != nil {
			return nil, err
		}
		out[k] = kindTemplates{email: t, layout: layout}
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
	// A theme that did not come through ParseTheme is checked here too.
	theme := ParseTheme(must(json.Marshal(map[string]string{"primary_color": d.Theme.PrimaryColor, "logo_url": d.Theme.LogoURL})))
	// A name is one line wherever it goes (the subject is a header).
	org := oneLine(d.OrganizationName)
	text := map[string]string{"organization": org, "link": d.Link, "expires": d.Expires, "to": d.To}
	subject, err := fill(t.email["subject"], text)
	if err != nil {
		return mailer.Message{}, fmt.Errorf("mailtmpl: %s subject: %w", kind, err)
	}
	subject = oneLine(subject)
	body, err := fill(t.email["text"], text)
	if err != nil {
		return mailer.Message{}, fmt.Errorf("mailtmpl: %s text: %w", kind, err)
	}
	esc := map[string]string{
		"organization": html.EscapeString(org), "link": html.EscapeString(d.Link), "expires": html.EscapeString(d.Expires),
		"to": html.EscapeString(d.To), "color": theme.PrimaryColor, "logo": html.EscapeString(theme.LogoURL),
		"subject": html.EscapeString(subject),
	}
	header := t.layout["header-name"]
	if theme.LogoURL != "" {
		header = t.layout["header-logo"]
	}
	var htmlErr error
	part := func(s string) string {
		out, err := fill(s, esc)
		if err != nil && htmlErr == nil {
			htmlErr = err
		}
		return out
	}
	esc["header"] = part(header)
	esc["content"] = part(t.email["html"])
	page := part(t.layout["html"])
	if htmlErr != nil {
		return mailer.Message{}, fmt.Errorf("mailtmpl: %s html: %w", kind, htmlErr)
	}
	return mailer.Message{To: d.To, Subject: subject, Text: body + "\n", HTML: page + "\n"}, nil
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	return b
}

// oneLine folds every run of spaces and control characters to one space:
// a subject is one header line, whatever an organization's name holds.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r == ' ' }), " ")
}
