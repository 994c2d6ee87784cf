package mailtmpl_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/functions/users/usersapi/mailtmpl"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const link = "https://app.pufinid.test/confirm-email?email=ada%40example.com&token=tok-0123456789abcdefghij"

// Every email, for the Demo organization (no theme), a themed one, and
// one whose name and theme are hostile, against golden files.
func TestEmailsMatchTheirGoldenFiles(t *testing.T) {
	t.Parallel()
	orgs := []struct {
		name, org, theme string
	}{
		{"demo", "Demo", `{}`},
		{"acme", "ACME Wines", `{"primary_color": "#7B1E3A", "secondary_color": "#F4E9DC", "logo_url": "https://static.pufinid.com/themes/acme/logo.png"}`},
		{"hostile", "<script>alert(1)</script> & \"Co\"\r\nBcc: x@evil.example",
			`{"primary_color": "red;background:url(https://evil.example/x)", "logo_url": "javascript:alert(1)"}`},
	}
	for _, kind := range mailtmpl.Kinds {
		for _, o := range orgs {
			t.Run(string(kind)+"/"+o.name, func(t *testing.T) {
				t.Parallel()
				m, err := mailtmpl.Render(kind, mailtmpl.Data{
					To: "ada+<b>@example.com", Link: link, Expires: "72 hours",
					OrganizationName: o.org, Theme: mailtmpl.ParseTheme(json.RawMessage(o.theme)),
				})
				if err != nil {
					t.Fatal(err)
				}
				got := fmt.Sprintf("To: %s\nSubject: %s\n\n--- text\n%s\n--- html\n%s", m.To, m.Subject, m.Text, m.HTML)
				path := filepath.Join("testdata", string(kind)+"-"+o.name+".golden")
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (go test -update writes it)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs; got:\n%s", path, got)
				}
			})
		}
	}
}

// The attack: an organization's name and theme, and the recipient's
// address, carry markup, a script URL, CSS and a header break. None of it
// reaches the HTML as markup or the subject as a second line, and the
// first URL of the text part is still the link (clients and tests take
// it as the link).
func TestHostileValuesAreEscapedOrDropped(t *testing.T) {
	t.Parallel()
	for _, kind := range mailtmpl.Kinds {
		m, err := mailtmpl.Render(kind, mailtmpl.Data{
			To: `ada"><img src=x onerror=alert(1)>@example.com`, Link: link, Expires: "1 hour",
			OrganizationName: "<script>alert(1)</script>\r\nBcc: x@evil.example",
			Theme:            mailtmpl.ParseTheme(json.RawMessage(`{"primary_color": "red;background:url(https://evil.example/x)", "logo_url": "javascript:alert(1)"}`)),
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"<script", "<img src=x", "javascript:", "evil.example/x"} {
			if strings.Contains(m.HTML, bad) {
				t.Errorf("%s: HTML holds %q", kind, bad)
			}
		}
		// The address is still there, as text.
		if !strings.Contains(m.HTML, "ada&#34;&gt;&lt;img src=x onerror=alert(1)&gt;@example.com") {
			t.Errorf("%s: the address is not in the HTML as escaped text", kind)
		}
		if strings.ContainsAny(m.Subject, "\r\n") || strings.Contains(m.Text, "\nBcc:") {
			t.Errorf("%s: the organization's line break reached the subject or the text: %q", kind, m.Subject)
		}
		if !strings.Contains(m.HTML, mailtmpl.DefaultColor) {
			t.Errorf("%s: a colour that is not one is not replaced by the default", kind)
		}
		if i := strings.Index(m.Text, "https://"); i < 0 || !strings.HasPrefix(m.Text[i:], link) {
			t.Errorf("%s: the text part's first URL is not the link:\n%s", kind, m.Text)
		}
	}
}

func TestParseTheme(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want mailtmpl.Theme
	}{
		{`{}`, mailtmpl.Theme{PrimaryColor: mailtmpl.DefaultColor}},
		{`null`, mailtmpl.Theme{PrimaryColor: mailtmpl.DefaultColor}},
		{`[1]`, mailtmpl.Theme{PrimaryColor: mailtmpl.DefaultColor}},
		{`{"primary_color": "#abc", "logo_url": "https://x.example/l.png"}`, mailtmpl.Theme{PrimaryColor: "#abc", LogoURL: "https://x.example/l.png"}},
		{`{"primary_color": "#12345", "logo_url": "http://x.example/l.png"}`, mailtmpl.Theme{PrimaryColor: mailtmpl.DefaultColor}},
		{`{"primary_color": 7, "logo_url": "https://u:p@x.example/l.png"}`, mailtmpl.Theme{PrimaryColor: mailtmpl.DefaultColor}},
		{`{"logo_url": "//x.example/l.png"}`, mailtmpl.Theme{PrimaryColor: mailtmpl.DefaultColor}},
	}
	for _, tc := range tests {
		if got := mailtmpl.ParseTheme(json.RawMessage(tc.raw)); got != tc.want {
			t.Errorf("ParseTheme(%s) = %+v, want %+v", tc.raw, got, tc.want)
		}
	}
}
