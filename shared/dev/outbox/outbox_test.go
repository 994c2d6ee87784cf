package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/mailer"
)

var fixedNow = time.Date(2026, 6, 1, 12, 30, 45, 123456789, time.FixedZone("CEST", 2*3600))

func newTestOutbox(t *testing.T) (*Outbox, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	o := New(slog.New(slog.NewJSONHandler(&logs, nil)))
	o.now = func() time.Time { return fixedNow }
	return o, &logs
}

func mustSend(t *testing.T, m mailer.Mailer, msg mailer.Message) {
	t.Helper()
	if err := m.Send(context.Background(), msg); err != nil {
		t.Fatalf("Send(%+v): %v", msg, err)
	}
}

func get(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestOutboxListsMessagesInLocalStackFormat(t *testing.T) {
	t.Parallel()
	o, _ := newTestOutbox(t)
	mustSend(t, o, mailer.Message{To: "ana@example.com", Subject: "Confirm your email",
		Text: "Open https://app.example/confirm?email=ana%40example.com&token=abc", HTML: "<p>Open <a href=\"x\">it</a></p>"})
	mustSend(t, o, mailer.Message{To: "bo@example.org", Subject: "Reset", Text: "t", HTML: ""})

	rec := get(t, o, http.MethodGet, "/_aws/ses")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	msgs := o.Messages()
	if len(msgs) != 2 {
		t.Fatalf("kept %d messages, want 2", len(msgs))
	}
	want := fmt.Sprintf(`{"messages":[`+
		`{"Id":%q,"Region":"us-east-1","Destination":{"ToAddresses":["ana@example.com"]},"Source":"no-reply@pufinid.localhost",`+
		`"Subject":"Confirm your email","Body":{"text_part":"Open https://app.example/confirm?email=ana%%40example.com&token=abc","html_part":"<p>Open <a href=\"x\">it</a></p>"},`+
		`"Timestamp":"2026-06-01T10:30:45"},`+
		`{"Id":%q,"Region":"us-east-1","Destination":{"ToAddresses":["bo@example.org"]},"Source":"no-reply@pufinid.localhost",`+
		`"Subject":"Reset","Body":{"text_part":"t","html_part":""},"Timestamp":"2026-06-01T10:30:45"}]}`+"\n",
		msgs[0].ID, msgs[1].ID)
	if got := rec.Body.String(); got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	if msgs[0].ID == msgs[1].ID || !strings.HasPrefix(msgs[0].ID, "0100") || len(msgs[0].ID) != len("0100")+36+len("-000000") {
		t.Errorf("ids %q and %q: want two distinct SES-shaped ids", msgs[0].ID, msgs[1].ID)
	}
}

func TestOutboxEmptyListIsAnArray(t *testing.T) {
	t.Parallel()
	o, _ := newTestOutbox(t)
	if got := get(t, o, http.MethodGet, "/_aws/ses").Body.String(); got != "{\"messages\":[]}\n" {
		t.Errorf("body %q, want an empty messages array", got)
	}
}

func TestOutboxFilters(t *testing.T) {
	t.Parallel()
	o, _ := newTestOutbox(t)
	mustSend(t, o, mailer.Message{To: "ana@example.com", Subject: "one", Text: "a"})
	mustSend(t, o, mailer.Message{To: "bo@example.org", Subject: "two", Text: "b"})
	mustSend(t, o, mailer.Message{To: "Ana@Example.com", Subject: "three", Text: "c"})
	firstID := o.Messages()[0].ID

	tests := []struct {
		name, query string
		want        []string // subjects
	}{
		{"no filter lists all, oldest first", "", []string{"one", "two", "three"}},
		{"email matches the recipient case-insensitively", "?email=ANA@example.com", []string{"one", "three"}},
		{"email matches the source as LocalStack does", "?email=no-reply@pufinid.localhost", []string{"one", "two", "three"}},
		{"email of nobody matches nothing", "?email=zed@example.com", []string{}},
		{"id keeps that message", "?id=" + firstID, []string{"one"}},
		{"id and email must both match", "?id=" + firstID + "&email=bo@example.org", []string{}},
		{"unknown id matches nothing", "?id=nope", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body struct{ Messages []Stored }
			if err := json.Unmarshal(get(t, o, http.MethodGet, "/_aws/ses"+tt.query).Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, m := range body.Messages {
				got = append(got, m.Subject)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("subjects %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOutboxDeleteForgetsMessages(t *testing.T) {
	t.Parallel()
	o, _ := newTestOutbox(t)
	for _, s := range []string{"one", "two", "three"} {
		mustSend(t, o, mailer.Message{To: "ana@example.com", Subject: s, Text: s})
	}
	second := o.Messages()[1].ID
	if rec := get(t, o, http.MethodDelete, "/_aws/ses?id="+second); rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE ?id: status %d", rec.Code)
	}
	if got := subjects(o.Messages()); got != "one,three" {
		t.Errorf("after deleting the second: %s", got)
	}
	if rec := get(t, o, http.MethodDelete, "/_aws/ses"); rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE: status %d", rec.Code)
	}
	if got := subjects(o.Messages()); got != "" {
		t.Errorf("after deleting all: %q", got)
	}
	mustSend(t, o, mailer.Message{To: "ana@example.com", Subject: "four", Text: "d"})
	if got := subjects(o.Messages()); got != "four" {
		t.Errorf("after a new send: %q", got)
	}
}

func TestOutboxRefusesOtherMethods(t *testing.T) {
	t.Parallel()
	o, _ := newTestOutbox(t)
	rec := get(t, o, http.MethodPost, "/_aws/ses")
	if rec.Code != http.StatusMethodNotAllowed || rec.Body.String() != "{\"detail\":\"Method \\\"POST\\\" not allowed.\"}\n" {
		t.Errorf("POST: %d %s", rec.Code, rec.Body)
	}
}

func TestOutboxLogsRecipientAndSubjectButNotTheBodyOrLink(t *testing.T) {
	t.Parallel()
	o, logs := newTestOutbox(t)
	mustSend(t, o, mailer.Message{To: "ana@example.com", Subject: "Confirm your email",
		Text: "Hello Ana,\nconfirm at https://app.example/confirm?email=ana%40example.com&token=tok123.\nThanks",
		HTML: "<p>SECRET-HTML-PART</p>"})
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log is not one JSON line: %v\n%s", err, logs)
	}
	for k, want := range map[string]string{"to": "ana@example.com", "subject": "Confirm your email"} {
		if line[k] != want {
			t.Errorf("log %s = %v, want %q", k, line[k], want)
		}
	}
	for _, secret := range []string{"Hello Ana", "SECRET-HTML-PART", "tok123"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log holds %q: %s", secret, logs)
		}
	}
}

func TestOutboxRefusesAMessageWithoutRecipient(t *testing.T) {
	t.Parallel()
	o, _ := newTestOutbox(t)
	if err := o.Send(context.Background(), mailer.Message{Subject: "x", Text: "y"}); err != mailer.ErrNoRecipient {
		t.Errorf("err = %v, want mailer.ErrNoRecipient", err)
	}
	if n := len(o.Messages()); n != 0 {
		t.Errorf("kept %d messages", n)
	}
}

func TestOutboxMessagesIsACopy(t *testing.T) {
	t.Parallel()
	o, _ := newTestOutbox(t)
	mustSend(t, o, mailer.Message{To: "ana@example.com", Subject: "one", Text: "a"})
	got := o.Messages()
	got[0].Subject = "changed"
	got[0].Destination.ToAddresses[0] = "mallory@example.com"
	if m := o.Messages()[0]; m.Subject != "one" || m.Destination.ToAddresses[0] != "ana@example.com" {
		t.Errorf("caller's change leaked into the outbox: %+v", m)
	}
}

func TestOutboxKeepsEveryMessageUnderConcurrentUse(t *testing.T) {
	t.Parallel()
	o, _ := newTestOutbox(t)
	const senders, each = 16, 25
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				mustSend(t, o, mailer.Message{To: fmt.Sprintf("u%d-%d@example.com", g, i), Subject: "s", Text: "t"})
				// Readers run alongside the writers.
				_ = get(t, o, http.MethodGet, "/_aws/ses?email=u0-0@example.com")
			}
		})
	}
	wg.Wait()
	msgs := o.Messages()
	if len(msgs) != senders*each {
		t.Fatalf("kept %d messages, want %d", len(msgs), senders*each)
	}
	ids, tos := map[string]bool{}, map[string]bool{}
	for _, m := range msgs {
		ids[m.ID], tos[m.Destination.ToAddresses[0]] = true, true
	}
	if len(ids) != senders*each || len(tos) != senders*each {
		t.Errorf("%d distinct ids and %d distinct recipients, want %d each", len(ids), len(tos), senders*each)
	}
}

func TestFirstURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, text, want string }{
		{"no link", "Hello there", ""},
		{"link with query", "Go to https://a.example/c?email=a%40b.c&token=XYZ now", "https://a.example/c?email=a%40b.c&token=XYZ"},
		{"first of two", "http://one.example/x and https://two.example/y", "http://one.example/x"},
		{"sentence punctuation is not part of it", "Click https://a.example/r?token=t.", "https://a.example/r?token=t"},
		{"in angle brackets", "<https://a.example/p>", "https://a.example/p"},
		{"on its own line", "Hi,\n\nhttps://a.example/p?t=1\n\nBye", "https://a.example/p?t=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FirstURL(tt.text); got != tt.want {
				t.Errorf("FirstURL(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func subjects(msgs []Stored) string {
	s := make([]string, len(msgs))
	for i, m := range msgs {
		s[i] = m.Subject
	}
	return strings.Join(s, ",")
}

func BenchmarkOutboxSend(b *testing.B) {
	o := New(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	msg := mailer.Message{To: "bench@example.com", Subject: "Confirm your email", Text: "Open https://x.example/c?token=t", HTML: "<p>c</p>"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := o.Send(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}
