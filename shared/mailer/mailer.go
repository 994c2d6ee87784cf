// Package mailer is what a handler needs to send the API's emails: the
// Message it composes and the Mailer interface it depends on. It imports
// no SDK, so any package may name a Mailer without linking SES. The
// implementation deployed to Lambda is sesmail (Amazon SES v2, the only
// code that imports the SES SDK); the local server and the tests use
// shared/dev/outbox, which keeps messages in memory.
//
// Emails carry single-use secrets (confirmation and reset tokens), so no
// implementation deployed to Lambda ever logs a message's subject or body;
// SES logs at most the recipient's domain.
package mailer

import (
	"context"
	"errors"
)

// Message is one email to one recipient. Text is the plain-text part and
// HTML the HTML part; send both, since some clients show only one.
type Message struct {
	To, Subject, Text, HTML string
}

// Mailer sends a Message. Implementations return an *apierror.Error with
// code Unavailable when the mail service cannot take the message, so a
// handler that passes the error on answers the contract's 503.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// ErrNoRecipient is returned for a Message without a To address: a bug in
// the caller, not an outage, so it is not an Unavailable error.
var ErrNoRecipient = errors.New("mailer: message has no recipient")
