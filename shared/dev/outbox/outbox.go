// Package outbox is the mailer.Mailer of the local server and the tests:
// it keeps messages in memory instead of sending them.
package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/pufinid/pufinid-api/shared/mailer"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Outbox is the local development server's mailer.Mailer: it keeps every message
// in memory, logs that it did (recipient, subject and the first link of
// the text part, so a developer can follow a confirmation or reset link
// from the terminal), and lists the messages at GET /_aws/ses in
// LocalStack's format, so tools written against LocalStack work unchanged.
//
// It is for the local server and tests only, never for Lambda: its log
// line carries a single-use token inside the link, and its memory grows
// with every message. It is safe for concurrent use.
type Outbox struct {
	// From is the Source shown for each message (LocalStack shows the
	// sender). New sets DefaultFrom; set it before use.
	From string
	// Region is the Region shown for each message, as LocalStack does.
	Region string

	log *slog.Logger
	now func() time.Time

	mu       sync.Mutex
	messages []Stored
}

var _ mailer.Mailer = (*Outbox)(nil)

// DefaultFrom is the Outbox's sender unless told otherwise.
const DefaultFrom = "no-reply@pufinid.localhost"

// New returns an empty Outbox that logs to log.
func New(log *slog.Logger) *Outbox {
	return &Outbox{From: DefaultFrom, Region: "us-east-1", log: log, now: time.Now}
}

// Stored is one kept message, shaped like a message of LocalStack's
// GET /_aws/ses.
type Stored struct {
	ID          string      `json:"Id"`
	Region      string      `json:"Region"`
	Destination Destination `json:"Destination"`
	Source      string      `json:"Source"`
	Subject     string      `json:"Subject"`
	Body        Body        `json:"Body"`
	Timestamp   Timestamp   `json:"Timestamp"`
}

// Destination lists a message's recipients.
type Destination struct {
	ToAddresses []string `json:"ToAddresses"`
}

// Body holds a message's two parts.
type Body struct {
	Text string `json:"text_part"`
	HTML string `json:"html_part"`
}

// Timestamp is when a message was kept. It marshals as LocalStack writes
// it: UTC to the second, without a zone ("2006-01-02T15:04:05").
type Timestamp time.Time

const localstackTime = "2006-01-02T15:04:05"

// MarshalJSON writes LocalStack's format.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(t).UTC().Format(localstackTime))
}

// UnmarshalJSON reads LocalStack's format (UTC).
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseInLocation(localstackTime, s, time.UTC)
	if err != nil {
		return err
	}
	*t = Timestamp(v)
	return nil
}

// Send keeps m. Unlike SES it has no service to lose, so it fails only for
// a message without a recipient.
func (o *Outbox) Send(ctx context.Context, m mailer.Message) error {
	if m.To == "" {
		return mailer.ErrNoRecipient
	}
	s := Stored{
		ID:          newMessageID(),
		Region:      o.Region,
		Destination: Destination{ToAddresses: []string{m.To}},
		Source:      o.From,
		Subject:     m.Subject,
		Body:        Body{Text: m.Text, HTML: m.HTML},
		Timestamp:   Timestamp(o.now()),
	}
	o.mu.Lock()
	o.messages = append(o.messages, s)
	o.mu.Unlock()
	// The request's logger when there is one, so the line carries the
	// invocation's fields as every other line of the request; and so
	// neither the body nor its link, which holds a token: no function's
	// log holds one, here as in Lambda. GET /_aws/ses gives the link.
	web.LoggerOr(ctx, o.log).InfoContext(ctx, "email kept in the local outbox (see GET /_aws/ses)",
		"to", m.To, "subject", m.Subject, "id", s.ID)
	return nil
}

// Messages returns a copy of the kept messages, oldest first.
func (o *Outbox) Messages() []Stored {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Stored, len(o.messages))
	for i, s := range o.messages {
		s.Destination.ToAddresses = append([]string(nil), s.Destination.ToAddresses...)
		out[i] = s
	}
	return out
}

// ServeHTTP is LocalStack's retrospection endpoint, mounted at /_aws/ses:
//   - GET lists {"messages": [...]}, oldest first. ?id= keeps the message
//     with that Id; ?email= keeps messages whose Source is that address, as
//     LocalStack does, or, since every message here has the same Source,
//     whose recipient is that address (case-insensitive).
//   - DELETE forgets every message, or only ?id=, answering 204.
func (o *Outbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, email := r.URL.Query().Get("id"), r.URL.Query().Get("email")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		msgs := []Stored{}
		for _, s := range o.Messages() {
			if (id == "" || s.ID == id) && (email == "" || s.sentFromOrTo(email)) {
				msgs = append(msgs, s)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		// Links stay copyable from a terminal: "&token=", not "\u0026token=".
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(map[string][]Stored{"messages": msgs})
	case http.MethodDelete:
		o.mu.Lock()
		kept := o.messages[:0]
		for _, s := range o.messages {
			if id != "" && s.ID != id {
				kept = append(kept, s)
			}
		}
		clear(o.messages[len(kept):]) // drop the forgotten messages' memory
		o.messages = kept
		o.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, HEAD, DELETE")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMethodNotAllowed)
		_ = json.NewEncoder(w).Encode(map[string]string{"detail": `Method "` + r.Method + `" not allowed.`})
	}
}

func (s Stored) sentFromOrTo(addr string) bool {
	if strings.EqualFold(s.Source, addr) {
		return true
	}
	for _, to := range s.Destination.ToAddresses {
		if strings.EqualFold(to, addr) {
			return true
		}
	}
	return false
}

// newMessageID returns a random id in the shape of SES's message ids.
func newMessageID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	h := hex.EncodeToString(b)
	return "0100" + h[:12] + "-" + h[12:20] + "-" + h[20:24] + "-" + h[24:28] + "-" + h[28:] + "-000000"
}

// urlPattern finds http(s) URLs in plain text. It stops at whitespace and
// at the characters that usually close a URL written in prose.
var urlPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`https?://[^\s<>"'()\[\]]+`) })

// FirstURL returns the first http or https URL in text, without trailing
// sentence punctuation, or "" if there is none. The Outbox logs it so a
// developer can click a confirmation link; tests use it to follow links.
func FirstURL(text string) string {
	return strings.TrimRight(urlPattern().FindString(text), ".,;:!?")
}
