package feedback_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pufinid/pufinid-api/functions/emailfeedback/feedback"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/store"
)

// event reads one of events/emailfeedback/, as SNS delivers it.
func event(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "emailfeedback", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// snsEvent wraps an SES message in an SNS event.
func snsEvent(t *testing.T, message string) []byte {
	t.Helper()
	b, err := json.Marshal(events.SNSEvent{Records: []events.SNSEventRecord{{EventSource: "aws:sns",
		SNS: events.SNSEntity{MessageID: "m-1", Type: "Notification", Message: message}}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// setup is the function over a fresh table. Its logs are read only after
// an invocation returns, so a plain buffer serves.
func setup(t *testing.T) (*apitest.Env, func(payload []byte) error, *bytes.Buffer) {
	t.Helper()
	env := apitest.New(t)
	logs := &bytes.Buffer{}
	h := feedback.New(feedback.Deps{Store: env.Store, Log: slog.New(slog.NewJSONHandler(logs, nil))})
	return env, func(payload []byte) error {
		_, err := h.Invoke(t.Context(), payload)
		return err
	}, logs
}

func suppression(t *testing.T, env *apitest.Env, addr string) (store.Suppressed, bool) {
	t.Helper()
	s, ok, err := env.Store.Suppression(t.Context(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return s, ok
}

// SNS delivers at least once: an event delivered twice, or retried by
// Lambda after a failure, is recorded once.
func TestAnEventDeliveredTwiceCountsOnce(t *testing.T) {
	t.Parallel()
	env, invoke, _ := setup(t)
	for range 2 {
		if err := invoke(event(t, "bounce-permanent.json")); err != nil {
			t.Fatal(err)
		}
		if err := invoke(event(t, "bounce-transient.json")); err != nil {
			t.Fatal(err)
		}
	}
	if s, ok := suppression(t, env, "gone.away@example.com"); !ok || s.Events != 1 || s.Reasons[0] != store.SuppressedBounce || s.Detail != "General" {
		t.Errorf("hard bounce: %+v suppressed %v; want one bounce, General", s, ok)
	}
	s, ok := suppression(t, env, "full.box@example.com")
	if ok {
		t.Errorf("a soft bounce suppressed the address: %+v", s)
	}
	if s.SoftBounces != 1 {
		t.Errorf("soft bounces %d, want 1", s.SoftBounces)
	}
}

// A soft bounce counts, never suppresses, and is forgotten
// store.SoftBounceMemory after the last one is recorded (TTL).
func TestSoftBouncesAreCountedAndForgotten(t *testing.T) {
	t.Parallel()
	env, invoke, _ := setup(t)
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for i, id := range []string{"a", "b", "c"} {
		msg := `{"eventType":"Bounce","bounce":{"bounceType":"Transient","bounceSubType":"MailboxFull","feedbackId":"` + id +
			`","timestamp":"` + at.Add(time.Duration(i)*time.Hour).Format(time.RFC3339) + `","bouncedRecipients":[{"emailAddress":"Full@Example.com"}]},"mail":{"messageId":"x"}}`
		if err := invoke(snsEvent(t, msg)); err != nil {
			t.Fatal(err)
		}
	}
	s, ok := suppression(t, env, "full@example.com")
	if ok || s.SoftBounces != 3 {
		t.Fatalf("%+v suppressed %v; want 3 soft bounces, not suppressed", s, ok)
	}
	if want := env.Clock.Now().Add(store.SoftBounceMemory).Unix(); s.SoftExpiresAt != want {
		t.Errorf("expires_at %d, want %d (recorded + %s)", s.SoftExpiresAt, want, store.SoftBounceMemory)
	}
}

// A complaint after a bounce keeps the first record and adds its reason.
func TestAComplaintAfterABounceAddsItsReason(t *testing.T) {
	t.Parallel()
	env, invoke, _ := setup(t)
	bounce := `{"eventType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General","feedbackId":"b1","timestamp":"2026-06-01T12:00:00Z","bouncedRecipients":[{"emailAddress":"\"Ana\" <ana@example.com>"}]},"mail":{"messageId":"x"}}`
	complaint := `{"notificationType":"Complaint","complaint":{"complaintFeedbackType":"abuse","feedbackId":"c1","timestamp":"2026-06-02T12:00:00Z","complainedRecipients":[{"emailAddress":"ANA@example.com"}]},"mail":{"messageId":"y"}}`
	for _, m := range []string{bounce, complaint} {
		if err := invoke(snsEvent(t, m)); err != nil {
			t.Fatal(err)
		}
	}
	s, ok := suppression(t, env, "ana@example.com")
	if !ok || s.Events != 2 || len(s.Reasons) != 2 || s.SuppressedAt != "2026-06-01T12:00:00Z" || s.LastEventAt != "2026-06-02T12:00:00Z" || s.Detail != "General" {
		t.Errorf("%+v suppressed %v; want both reasons, first at the bounce, last at the complaint", s, ok)
	}
}

// What the function cannot use is acknowledged (retrying cannot help)
// and writes nothing; the logs never carry an address.
func TestMessagesThatAreNoSESReportAreAcknowledged(t *testing.T) {
	t.Parallel()
	env, invoke, logs := setup(t)
	for _, m := range []string{
		"Successfully validated SNS topic for Amazon SES event publishing.",
		`{"hello":"world"}`,
		`{"eventType":"Bounce"}`,
		`{"eventType":"Send","mail":{"messageId":"x"}}`,
		`{"eventType":"Bounce","bounce":{"bounceType":"Permanent","feedbackId":"z","timestamp":"2026-06-01T12:00:00Z","bouncedRecipients":[{"emailAddress":"not an address"}]}}`,
	} {
		if err := invoke(snsEvent(t, m)); err != nil {
			t.Errorf("%q: %v, want it acknowledged", m, err)
		}
	}
	if err := invoke(event(t, "complaint.json")); err != nil {
		t.Fatal(err)
	}
	if _, ok := suppression(t, env, "annoyed@example.com"); !ok {
		t.Error("complaint not recorded")
	}
	if strings.Contains(logs.String(), "@example.com") {
		t.Errorf("an address in the logs:\n%s", logs.String())
	}
}

// While DynamoDB is down the invocation fails, so Lambda retries it (and
// then keeps it in the dead-letter queue); the retry records it once.
func TestADynamoDBOutageFailsTheInvocationForLambdaToRetry(t *testing.T) {
	t.Parallel()
	env, invoke, _ := setup(t)
	recover := env.Outage()
	if err := invoke(event(t, "bounce-permanent.json")); err == nil {
		t.Fatal("recorded during an outage")
	}
	recover()
	for range 2 {
		if err := invoke(event(t, "bounce-permanent.json")); err != nil {
			t.Fatal(err)
		}
	}
	if s, ok := suppression(t, env, "gone.away@example.com"); !ok || s.Events != 1 {
		t.Errorf("%+v suppressed %v; want one event", s, ok)
	}
}

// SNS keeps no order and Lambda retries for hours: an event redelivered
// after another one for the same address still counts once, and a late
// event does not bring the soft bounce count's expiry forward.
func TestEventsRedeliveredOutOfOrderCountOnce(t *testing.T) {
	t.Parallel()
	env, invoke, _ := setup(t)
	msg := func(kind, id, at string) []byte {
		if kind == "soft" {
			return snsEvent(t, `{"eventType":"Bounce","bounce":{"bounceType":"Transient","bounceSubType":"MailboxFull","feedbackId":"`+id+
				`","timestamp":"`+at+`","bouncedRecipients":[{"emailAddress":"full@example.com"}]},"mail":{"messageId":"m"}}`)
		}
		return snsEvent(t, `{"eventType":"Complaint","complaint":{"complaintFeedbackType":"abuse","feedbackId":"`+id+
			`","timestamp":"`+at+`","complainedRecipients":[{"emailAddress":"ana@example.com"}]},"mail":{"messageId":"m"}}`)
	}
	for _, kind := range []string{"soft", "hard"} {
		a, b := msg(kind, "A", "2026-06-01T12:00:00Z"), msg(kind, "B", "2026-06-10T12:00:00Z")
		for _, m := range [][]byte{a, b} {
			if err := invoke(m); err != nil {
				t.Fatal(err)
			}
		}
		exp, _ := suppression(t, env, "full@example.com")
		env.Clock.Advance(time.Hour)
		if err := invoke(a); err != nil {
			t.Fatal(err)
		}
		soft, _ := suppression(t, env, "full@example.com")
		hard, _ := suppression(t, env, "ana@example.com")
		switch kind {
		case "soft":
			if soft.SoftBounces != 2 || soft.SoftExpiresAt != exp.SoftExpiresAt {
				t.Errorf("soft bounces A, B, A: count %d (want 2), expiry %d (want %d)", soft.SoftBounces, soft.SoftExpiresAt, exp.SoftExpiresAt)
			}
		case "hard":
			if hard.Events != 2 || hard.LastEventAt != "2026-06-10T12:00:00Z" {
				t.Errorf("complaints A, B, A: %d events (want 2), last %s", hard.Events, hard.LastEventAt)
			}
		}
	}
}

// "not-spam" feedback (RFC 5965) says the mail was wanted: nothing is
// suppressed. A report without SES's time takes SNS's.
func TestNotSpamFeedbackSuppressesNothing(t *testing.T) {
	t.Parallel()
	env, invoke, _ := setup(t)
	if err := invoke(snsEvent(t, `{"eventType":"Complaint","complaint":{"complaintFeedbackType":"not-spam","feedbackId":"n1",`+
		`"timestamp":"2026-06-01T12:00:00Z","complainedRecipients":[{"emailAddress":"fan@example.com"}]},"mail":{"messageId":"m"}}`)); err != nil {
		t.Fatal(err)
	}
	if _, ok := suppression(t, env, "fan@example.com"); ok {
		t.Error("not-spam feedback suppressed the address")
	}
	b, err := json.Marshal(events.SNSEvent{Records: []events.SNSEventRecord{{EventSource: "aws:sns", SNS: events.SNSEntity{
		MessageID: "m-2", Type: "Notification", Timestamp: time.Date(2026, 6, 3, 8, 0, 0, 0, time.UTC),
		Message: `{"eventType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General","feedbackId":"t0","bouncedRecipients":[{"emailAddress":"notime@example.com"}]},"mail":{"messageId":"m"}}`}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := invoke(b); err != nil {
		t.Fatal(err)
	}
	if s, ok := suppression(t, env, "notime@example.com"); !ok || s.SuppressedAt != "2026-06-03T08:00:00Z" {
		t.Errorf("%+v suppressed %v; want the SNS message's time", s, ok)
	}
}
