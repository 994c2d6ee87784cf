// Package mailer sends the API's emails. It owns everything about email:
// the Message a handler composes, the Mailer interface handlers depend on,
// the Amazon SES v2 implementation used in Lambda (the only code that
// imports the SES SDK), and the Outbox the local development server uses
// instead of SES, which keeps messages in memory and lists them the way
// LocalStack does.
//
// Emails carry single-use secrets (confirmation and reset tokens), so no
// implementation deployed to Lambda ever logs a message's subject or body;
// SES logs at most the recipient's domain.
package mailer

import (
	"context"
	"regexp"
	"strings"
	"sync"
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

// urlPattern finds http(s) URLs in plain text. It stops at whitespace and
// at the characters that usually close a URL written in prose.
// Compiled on first use, not at the users function's cold start.
var urlPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`https?://[^\s<>"'()\[\]]+`) })

// FirstURL returns the first http or https URL in text, without trailing
// sentence punctuation, or "" if there is none. The Outbox logs it so a
// developer can click a confirmation link; tests use it to follow links.
func FirstURL(text string) string {
	return strings.TrimRight(urlPattern().FindString(text), ".,;:!?")
}

// recipientDomain is the part of an address after its last '@': enough to
// trace a delivery problem to a provider without logging who was written to.
func recipientDomain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(strings.TrimRight(addr[i+1:], ">"))
	}
	return ""
}
