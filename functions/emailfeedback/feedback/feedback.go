// Package feedback is the email feedback function: it reads the events
// Amazon SES publishes, through the stack's configuration set, to an SNS
// topic the function subscribes to, and records in the table what must
// change where the users function sends mail (store.Suppress):
//
//   - a hard bounce (bounceType Permanent) suppresses each bounced
//     recipient, as does a complaint each complaining one: the users
//     function sends them nothing more, answering as it otherwise would;
//   - a soft bounce (Transient, Undetermined: SES has already retried) is
//     counted for the address, and suppresses nothing;
//   - a delivery is counted in the metrics only.
//
// It takes both of SES's formats: event publishing's ("eventType", what a
// configuration set's event destination sends) and the identity
// notifications' ("notificationType"), so an identity whose bounce and
// complaint notifications go to the same topic works too. The topic's
// policy admits SES only for this account's configuration set and
// identities, and only the topic may invoke the function; an IAM
// principal of the account itself allowed sns:Publish or
// lambda:InvokeFunction could still send it a forged report, which is
// why those permissions are not granted by the stack.
//
// A message that is not an SES event, or names no address, is logged and
// acknowledged: retrying could not make it one. A DynamoDB failure fails
// the invocation, so Lambda retries it and, after that, puts the event on
// the function's dead-letter queue; every write is idempotent per SES
// feedback id, so a retried event counts once.
package feedback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/telemetry"
)

// Store is what the function writes.
type Store interface {
	Suppress(ctx context.Context, f store.Feedback) (bool, error)
	CountSoftBounce(ctx context.Context, f store.Feedback) (bool, error)
}

// Deps are the handler's dependencies.
type Deps struct {
	Store Store
	Log   *slog.Logger
}

// Setup builds the function's handler from its environment (template.yaml
// sets it). It makes no network call.
func Setup(ctx context.Context, env config.Env) (lambda.Handler, error) {
	st, err := config.Store(ctx, env)
	if err != nil {
		return nil, err
	}
	return New(Deps{Store: st, Log: env.Log}), nil
}

// New returns the handler of SNS events.
func New(d Deps) lambda.Handler {
	h := &handler{d: d, events: &telemetry.Events{Log: d.Log, Source: "aws:sns"}}
	return lambda.NewHandler(h.handle)
}

type handler struct {
	d      Deps
	events *telemetry.Events
}

// handle is one invocation: SNS delivers one record per invocation, but
// any number is taken.
func (h *handler) handle(ctx context.Context, ev events.SNSEvent) error {
	return h.events.Serve(ctx, func(ctx context.Context, log *slog.Logger) (int, int, error) {
		ignored := 0
		var errs []error
		for _, rec := range ev.Records {
			ok, err := h.record(ctx, log, rec)
			if err != nil {
				errs = append(errs, err)
			}
			if !ok {
				ignored++
			}
		}
		return len(ev.Records), ignored, errors.Join(errs...)
	})
}

// sesEvent is the part of an SES event or notification the function reads.
type sesEvent struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Bounce           *struct {
		BounceType        string      `json:"bounceType"`
		BounceSubType     string      `json:"bounceSubType"`
		BouncedRecipients []recipient `json:"bouncedRecipients"`
		Timestamp         time.Time   `json:"timestamp"`
		FeedbackID        string      `json:"feedbackId"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients  []recipient `json:"complainedRecipients"`
		ComplaintFeedbackType string      `json:"complaintFeedbackType"`
		ComplaintSubType      string      `json:"complaintSubType"`
		Timestamp             time.Time   `json:"timestamp"`
		FeedbackID            string      `json:"feedbackId"`
	} `json:"complaint"`
	Delivery *struct {
		Recipients []string `json:"recipients"`
	} `json:"delivery"`
	Mail struct {
		MessageID string `json:"messageId"`
	} `json:"mail"`
}

type recipient struct {
	EmailAddress string `json:"emailAddress"`
}

// errNotSES is a message the function cannot use.
var errNotSES = errors.New("not an SES bounce, complaint or delivery event")

// record handles one SNS record; ok is false when it was ignored (not an
// SES event the function records). err is a DynamoDB failure, to retry.
func (h *handler) record(ctx context.Context, log *slog.Logger, rec events.SNSEventRecord) (ok bool, err error) {
	log = log.With("sns_message_id", rec.SNS.MessageID)
	var e sesEvent
	if err := json.Unmarshal([]byte(rec.SNS.Message), &e); err != nil {
		telemetry.Count(ctx, telemetry.EmailFeedbackIgnored)
		log.Warn("message ignored", "why", errNotSES.Error())
		return false, nil
	}
	// SES times every report; should one lack it, SNS's time of the
	// message is the nearest (and the store's clock after that).
	when := func(t time.Time) time.Time {
		if t.IsZero() {
			return rec.SNS.Timestamp
		}
		return t
	}
	kind := e.EventType
	if kind == "" {
		kind = e.NotificationType
	}
	log = log.With("ses_event", kind, "ses_message_id", e.Mail.MessageID)
	switch {
	case kind == "Bounce" && e.Bounce != nil:
		b := e.Bounce
		hard := b.BounceType == "Permanent"
		n, err := h.each(ctx, log, b.BouncedRecipients, func(addr string) (bool, error) {
			f := store.Feedback{Address: addr, Reason: store.SuppressedBounce, Detail: b.BounceSubType, At: when(b.Timestamp), FeedbackID: b.FeedbackID}
			if hard {
				return h.d.Store.Suppress(ctx, f)
			}
			return h.d.Store.CountSoftBounce(ctx, f)
		})
		if hard {
			telemetry.Add(ctx, telemetry.EmailBounced, float64(n))
		} else {
			telemetry.Add(ctx, telemetry.EmailSoftBounced, float64(n))
		}
		if n > 0 {
			log.Info("bounce recorded", "bounce_type", b.BounceType, "bounce_subtype", b.BounceSubType, "recipients", n, "suppressed", hard)
		}
		return n > 0, err
	case kind == "Complaint" && e.Complaint != nil:
		c := e.Complaint
		detail := c.ComplaintFeedbackType
		if detail == "" {
			detail = c.ComplaintSubType
		}
		if detail == "not-spam" {
			// RFC 5965: the recipient says the mail is not spam. Nothing to
			// suppress.
			log.Info("not-spam feedback", "recipients", len(c.ComplainedRecipients))
			return true, nil
		}
		n, err := h.each(ctx, log, c.ComplainedRecipients, func(addr string) (bool, error) {
			return h.d.Store.Suppress(ctx, store.Feedback{Address: addr, Reason: store.SuppressedComplaint, Detail: detail, At: when(c.Timestamp), FeedbackID: c.FeedbackID})
		})
		telemetry.Add(ctx, telemetry.EmailComplained, float64(n))
		if n > 0 {
			log.Info("complaint recorded", "feedback_type", detail, "recipients", n, "suppressed", true)
		}
		return n > 0, err
	case kind == "Delivery" && e.Delivery != nil:
		telemetry.Add(ctx, telemetry.EmailDelivered, float64(len(e.Delivery.Recipients)))
		log.Info("delivery", "recipients", len(e.Delivery.Recipients))
		return true, nil
	}
	telemetry.Count(ctx, telemetry.EmailFeedbackIgnored)
	log.Warn("message ignored", "why", errNotSES.Error())
	return false, nil
}

// each records every recipient with rec, and returns how many it
// recorded for the first time (a redelivered event records none again).
// Addresses are never logged: the recipients' count says enough.
func (h *handler) each(ctx context.Context, log *slog.Logger, rs []recipient, rec func(addr string) (bool, error)) (int, error) {
	n := 0
	var errs []error
	for _, r := range rs {
		addr, err := address(r.EmailAddress)
		if err != nil {
			log.Warn("recipient ignored", "why", err.Error())
			continue
		}
		recorded, err := rec(addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if recorded {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// address is the bare address of an SES recipient, which SES gives as
// sent: usually bare, possibly with a display name.
func address(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "<>\"") {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return "", fmt.Errorf("recipient: not an address")
		}
		s = a.Address
	}
	if s == "" || !strings.Contains(s, "@") {
		return "", fmt.Errorf("recipient: not an address")
	}
	return s, nil
}
