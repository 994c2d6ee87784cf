package sesmail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/outbox"
	"github.com/pufinid/pufinid-api/shared/dev/sesemulator"
	"github.com/pufinid/pufinid-api/shared/mailer"
	"github.com/pufinid/pufinid-api/shared/web"
)

// The SES tests send through aws-ses-v2-local, a real SES v2 emulator from
// the npm registry (package.json pins it; .ci/run installs it with npm ci).
// One emulator serves every test of the package; TestMain stops it.

var emu struct {
	once sync.Once
	url  string
	stop func()
	err  error
}

func TestMain(m *testing.M) {
	// SES logs "email sent" to the request's logger, which outside a
	// request is the default one; keep test and benchmark output readable.
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	code := m.Run()
	if emu.stop != nil {
		emu.stop()
	}
	os.Exit(code)
}

// emulator returns the base URL of the running aws-ses-v2-local, starting
// it on first use. Without Node.js it skips the test, except in CI, where
// a missing emulator is a broken setup and fails.
func emulator(t *testing.T) string {
	t.Helper()
	emu.once.Do(func() { emu.url, emu.stop, emu.err = sesemulator.Start(".") })
	if emu.err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("SES emulator: %v (CI must run `npm ci` first)", emu.err)
		}
		t.Skipf("SES emulator not available: %v (run `npm ci` at the repository root)", emu.err)
	}
	return emu.url
}

// storedEmail is an email as aws-ses-v2-local's GET /store lists it.
type storedEmail struct {
	MessageID   string `json:"messageId"`
	From        string `json:"from"`
	Destination struct {
		To []string `json:"to"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
}

// emailsTo lists what the emulator holds for recipient; each test writes
// to addresses of its own, so tests do not see each other's mail.
func emailsTo(t *testing.T, url, recipient string) []storedEmail {
	t.Helper()
	resp, err := http.Get(url + "/store")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var store struct{ Emails []storedEmail }
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatal(err)
	}
	var out []storedEmail
	for _, e := range store.Emails {
		if len(e.Destination.To) == 1 && e.Destination.To[0] == recipient {
			out = append(out, e)
		}
	}
	return out
}

// recorder forwards requests unchanged and keeps the bodies sent, so a
// test can check what the SDK put on the wire.
type recorder struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.mu.Unlock()
	}
	return http.DefaultClient.Do(req)
}

func (r *recorder) last(t *testing.T) map[string]any {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bodies) == 0 {
		t.Fatal("no request was sent")
	}
	var v map[string]any
	if err := json.Unmarshal(r.bodies[len(r.bodies)-1], &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

func newClient(endpoint string, httpClient sesv2.HTTPClient, attempts int) *sesv2.Client {
	return sesv2.New(sesv2.Options{
		Region:           "eu-west-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:       httpClient,
		RetryMaxAttempts: attempts,
	})
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestSESSendsThroughEmulator(t *testing.T) {
	t.Parallel()
	url := emulator(t)
	const link = "https://app.pufinid.example/confirm-email?email=ana%40example.com&token=Zk3v9QpL2mX8sT4wB7nR1cY6"
	tests := []struct {
		name        string
		env         map[string]string
		msg         mailer.Message
		htmlHasLink bool
	}{
		{
			name: "text and HTML parts with the link, from the configured address",
			env:  map[string]string{EnvFromAddress: "PufinID <no-reply@pufinid.example>", EnvEndpoint: url},
			msg: mailer.Message{To: "ana.env@example.com", Subject: "Confirm your email address",
				Text: "Hello Ana,\n\nconfirm your address: " + link + "\n",
				HTML: `<p>Hello Ana,</p><p><a href="` + link + `">Confirm your address</a></p>`},
			htmlHasLink: true,
		},
		{
			name: "non-ASCII names survive as UTF-8, with a configuration set",
			env: map[string]string{EnvFromAddress: "no-reply@pufinid.example", EnvEndpoint: url,
				EnvConfigurationSet: "pufinid-transactional", "AWS_REGION": "eu-central-1"},
			msg: mailer.Message{To: "zoe.utf8@example.com", Subject: "Bestätige deine E-Mail, Zoë ✓",
				Text: "Grüße, Zoë: " + link, HTML: "<p>Grüße, Zoë</p>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), tt.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := emailsTo(t, url, tt.msg.To)
			if len(got) != 1 {
				t.Fatalf("emulator holds %d emails to %s, want 1", len(got), tt.msg.To)
			}
			e := got[0]
			if e.From != tt.env[EnvFromAddress] || e.Subject != tt.msg.Subject || e.Body.Text != tt.msg.Text || e.Body.HTML != tt.msg.HTML {
				t.Errorf("stored %+v\nwant from %q and message %+v", e, tt.env[EnvFromAddress], tt.msg)
			}
			if outbox.FirstURL(e.Body.Text) != link || tt.htmlHasLink && !strings.Contains(e.Body.HTML, link) {
				t.Errorf("stored email lost the link %s: %+v", link, e)
			}
		})
	}
}

func TestSESRequestDeclaresUTF8AndTheConfigurationSet(t *testing.T) {
	t.Parallel()
	url := emulator(t)
	tests := []struct {
		name, configurationSet string
		msg                    mailer.Message
		wantBody               []string // parts present in Content.Simple.Body
	}{
		{"both parts and a configuration set", "pufinid-transactional",
			mailer.Message{To: "wire1@example.com", Subject: "S", Text: "T https://x.example/a", HTML: "<b>H</b>"}, []string{"Html", "Text"}},
		{"no configuration set leaves the field out", "",
			mailer.Message{To: "wire2@example.com", Subject: "S", Text: "T", HTML: "<b>H</b>"}, []string{"Html", "Text"}},
		{"a text-only message sends no empty HTML part", "",
			mailer.Message{To: "wire3@example.com", Subject: "S", Text: "T"}, []string{"Text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			s := New(newClient(url, rec, 1), "no-reply@pufinid.example", tt.configurationSet)
			if err := s.Send(context.Background(), tt.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			req := rec.last(t)
			if cs, has := req["ConfigurationSetName"]; tt.configurationSet == "" && has || tt.configurationSet != "" && cs != tt.configurationSet {
				t.Errorf("ConfigurationSetName = %v (present %v), want %q", cs, has, tt.configurationSet)
			}
			if req["FromEmailAddress"] != "no-reply@pufinid.example" {
				t.Errorf("FromEmailAddress = %v", req["FromEmailAddress"])
			}
			simple := req["Content"].(map[string]any)["Simple"].(map[string]any)
			parts := []map[string]any{simple["Subject"].(map[string]any)}
			body := simple["Body"].(map[string]any)
			var names []string
			for name, p := range body {
				names = append(names, name)
				parts = append(parts, p.(map[string]any))
			}
			if len(names) != len(tt.wantBody) {
				t.Errorf("body parts %v, want %v", names, tt.wantBody)
			}
			for _, p := range parts {
				if p["Charset"] != "UTF-8" {
					t.Errorf("part %v: Charset %v, want UTF-8", p, p["Charset"])
				}
			}
			if n := len(emailsTo(t, url, tt.msg.To)); n != 1 {
				t.Errorf("emulator holds %d emails, want 1", n)
			}
		})
	}
}

// Serial, as TestOpenRetriesThenAnswersUnavailable: the port freePort gives
// back must stay free, and a parallel test starting the emulator could
// listen on it meanwhile.
func TestSESFailuresAreUnavailable(t *testing.T) {
	refused, err := freePort() // nothing listens there once freePort returns
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		endpoint func(t *testing.T) string
		msg      mailer.Message
	}{
		{"endpoint refuses connections", func(*testing.T) string { return fmt.Sprintf("http://127.0.0.1:%d", refused) },
			mailer.Message{To: "ana.refused@example.com", Subject: "S", Text: "T"}},
		// The emulator, like SES, refuses a message without a subject.
		{"SES rejects the request", emulator,
			mailer.Message{To: "ana.rejected@example.com", Subject: "", Text: "T"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(newClient(tt.endpoint(t), nil, 1), "no-reply@pufinid.example", "")
			err := s.Send(context.Background(), tt.msg)
			if !apierror.Is(err, apierror.Unavailable) || web.StatusOf(err) != http.StatusServiceUnavailable {
				t.Fatalf("err = %v, want an Unavailable apierror (503)", err)
			}
			if strings.Contains(err.Error(), "ana.") {
				t.Errorf("error text names the recipient: %v", err)
			}
		})
	}
}

// Serial: see TestSESFailuresAreUnavailable.
func TestOpenRetriesThenAnswersUnavailable(t *testing.T) {
	refused, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), env(map[string]string{
		EnvFromAddress: "no-reply@pufinid.example", EnvEndpoint: fmt.Sprintf("http://127.0.0.1:%d", refused)}))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Send(context.Background(), mailer.Message{To: "a@example.com", Subject: "S", Text: "T"})
	if !apierror.Is(err, apierror.Unavailable) {
		t.Fatalf("err = %v, want Unavailable", err)
	}
	t.Logf("gave up after %v", time.Since(start))
}

func TestSESLogsOnlyTheRecipientDomain(t *testing.T) {
	t.Parallel()
	url := emulator(t)
	var logs bytes.Buffer
	s := New(newClient(url, nil, 1), "no-reply@pufinid.example", "")
	msg := mailer.Message{To: "secret.person@example.net", Subject: "SUBJECT-X", Text: "TEXT-X https://x.example/?token=TOKEN-X", HTML: "HTML-X"}
	var sendErr error
	h := web.Serve(slog.New(slog.NewJSONHandler(&logs, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sendErr = s.Send(r.Context(), msg)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/v1/users/", nil))
	if sendErr != nil {
		t.Fatal(sendErr)
	}
	if !strings.Contains(logs.String(), `"recipient_domain":"example.net"`) || !strings.Contains(logs.String(), `"ses_message_id":"`) {
		t.Errorf("no 'email sent' line with the domain and SES's id:\n%s", logs.String())
	}
	for _, secret := range []string{"secret.person", "SUBJECT-X", "TEXT-X", "TOKEN-X", "HTML-X"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log holds %q:\n%s", secret, logs.String())
		}
	}
}

func TestSESRefusesAMessageWithoutRecipient(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	s := New(newClient("http://127.0.0.1:1", rec, 1), "no-reply@pufinid.example", "")
	if err := s.Send(context.Background(), mailer.Message{Subject: "S", Text: "T"}); !errors.Is(err, mailer.ErrNoRecipient) {
		t.Errorf("err = %v, want mailer.ErrNoRecipient", err)
	}
	if rec.count() != 0 {
		t.Errorf("%d requests sent, want none", rec.count())
	}
}

func TestOpenReadsTheEnvironment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		env        map[string]string
		wantErr    string
		want       SES
		wantRegion string
	}{
		{"from address is required", map[string]string{}, "SES_FROM_ADDRESS", SES{}, ""},
		{"blank from address is missing", map[string]string{EnvFromAddress: "  "}, "SES_FROM_ADDRESS", SES{}, ""},
		{"from address must be an address", map[string]string{EnvFromAddress: "pufinid"}, "not an email address", SES{}, ""},
		{"display name, configuration set and the Lambda's region", map[string]string{EnvFromAddress: "PufinID <no-reply@pufinid.example>",
			EnvConfigurationSet: "tx", "AWS_REGION": "eu-west-1"},
			"", SES{from: "PufinID <no-reply@pufinid.example>", configurationSet: "tx"}, "eu-west-1"},
		// Construction makes no network call, so an endpoint nobody
		// listens on is fine until the first Send.
		{"local endpoint defaults the region", map[string]string{EnvFromAddress: "a@b.example", EnvEndpoint: "http://127.0.0.1:1"},
			"", SES{from: "a@b.example"}, "us-east-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.from != tt.want.from || s.configurationSet != tt.want.configurationSet || s.client == nil {
				t.Errorf("got from %q set %q client set %v, want %+v", s.from, s.configurationSet, s.client != nil, tt.want)
			}
			if ep := s.client().Options().BaseEndpoint; aws.ToString(ep) != tt.env[EnvEndpoint] {
				t.Errorf("BaseEndpoint %q, want %q", aws.ToString(ep), tt.env[EnvEndpoint])
			}
			if r := s.client().Options().Region; r != tt.wantRegion {
				t.Errorf("Region %q, want %q", r, tt.wantRegion)
			}
		})
	}
}

func TestRedactedErrorKeepsOnlyDomains(t *testing.T) {
	t.Parallel()
	cause := errors.New(`MessageRejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: ana.b+x@example.com, "Bo" <bo@example.org>`)
	got := redacted{cause}.Error()
	want := `MessageRejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: ...@example.com, "Bo" <...@example.org>`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !errors.Is(redacted{cause}, cause) {
		t.Error("redacted hides its cause from errors.Is")
	}
}

func BenchmarkSESSendThroughEmulator(b *testing.B) {
	emu.once.Do(func() { emu.url, emu.stop, emu.err = sesemulator.Start(".") })
	if emu.err != nil {
		b.Skipf("SES emulator not available: %v", emu.err)
	}
	rec := &recorder{}
	s := New(newClient(emu.url, rec, 1), "no-reply@pufinid.example", "")
	msg := mailer.Message{To: "bench@example.com", Subject: "Confirm your email", Text: "https://x.example/c?token=t", HTML: "<a href=\"https://x.example/c?token=t\">c</a>"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Send(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rec.count())/float64(b.N), "SES-requests/op")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
