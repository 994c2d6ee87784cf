// Package sesmail sends the API's emails through Amazon SES v2: the
// mailer.Mailer deployed to Lambda, and the only code that imports the SES
// SDK (so only the users function links it).
package sesmail

import (
	"context"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/awsenv"
	"github.com/pufinid/pufinid-api/shared/mailer"
	"github.com/pufinid/pufinid-api/shared/web"
)

// The environment variables Open reads.
const (
	// EnvFromAddress is the sender, a verified SES identity; a display
	// name is allowed: "PufinID <no-reply@example.com>". Required.
	EnvFromAddress = "SES_FROM_ADDRESS"
	// EnvConfigurationSet names the SES configuration set that receives
	// the sending events (bounces, complaints). Optional.
	EnvConfigurationSet = "SES_CONFIGURATION_SET"
	// EnvEndpoint overrides SES's endpoint with a local emulator
	// (LocalStack, aws-ses-v2-local). Optional; never set in a deployment.
	EnvEndpoint = "SES_ENDPOINT"
)

// charset is declared on every part: names and links may be non-ASCII.
const charset = "UTF-8"

// sendTimeout bounds one Send, retries included, so a stalled connection to
// SES ends in the contract's 503 well within API Gateway's 30 s limit
// instead of a gateway timeout.
const sendTimeout = 10 * time.Second

// SES sends through Amazon SES v2 (SendEmail with Simple content). It is
// safe for concurrent use.
type SES struct {
	// client is made on the first Send: most requests of the users
	// function send nothing, so its cold start should not build it.
	client           func() *sesv2.Client
	from             string
	configurationSet string
}

var _ mailer.Mailer = (*SES)(nil)

// New sends through client from the address from; configurationSet may
// be empty.
func New(client *sesv2.Client, from, configurationSet string) *SES {
	return &SES{client: func() *sesv2.Client { return client }, from: from, configurationSet: configurationSet}
}

// Open builds an SES from the environment (SES_FROM_ADDRESS,
// SES_CONFIGURATION_SET, SES_ENDPOINT, AWS_REGION; credentials come from
// the usual AWS chain, the function's role in Lambda). With SES_ENDPOINT set it
// uses static dummy credentials, which emulators accept, and us-east-1 if
// no region is set. Nothing is sent over the network here: the SDK
// resolves credentials on the first Send, so Lambda init stays cheap.
//
// getenv has config.Getenv's type without naming it, so this package does
// not depend on config (and through it on the store); os.Getenv and any
// config.Getenv value can be passed.
func Open(ctx context.Context, getenv func(string) string) (*SES, error) {
	from := strings.TrimSpace(getenv(EnvFromAddress))
	if from == "" {
		return nil, fmt.Errorf("config: required variable unset: %s", EnvFromAddress)
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("config: %s %q is not an email address: %w", EnvFromAddress, from, err)
	}
	endpoint := getenv(EnvEndpoint)
	// The Lambda environment's region and credentials (shared/awsenv: the
	// SDK's config package would cost the function's cold start).
	cfg := awsenv.Config(getenv, awsenv.Options{Endpoint: endpoint})
	client := sync.OnceValue(func() *sesv2.Client {
		return sesv2.NewFromConfig(cfg, func(o *sesv2.Options) {
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
			}
		})
	})
	return &SES{client: client, from: from, configurationSet: getenv(EnvConfigurationSet)}, nil
}

// Send sends m. Any failure of SES (unreachable, throttled, message
// rejected) is returned as apierror.UnavailableErr, which the API answers
// with 503. Only the recipient's domain and SES's message id are logged.
func (s *SES) Send(ctx context.Context, m mailer.Message) error {
	if m.To == "" {
		return mailer.ErrNoRecipient
	}
	body := &types.Body{}
	if m.Text != "" {
		body.Text = &types.Content{Data: aws.String(m.Text), Charset: aws.String(charset)}
	}
	if m.HTML != "" {
		body.Html = &types.Content{Data: aws.String(m.HTML), Charset: aws.String(charset)}
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.from),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(m.Subject), Charset: aws.String(charset)},
			Body:    body,
		}},
	}
	if s.configurationSet != "" {
		in.ConfigurationSetName = aws.String(s.configurationSet)
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	out, err := s.client().SendEmail(ctx, in)
	if err != nil {
		return apierror.UnavailableErr(redacted{fmt.Errorf("ses: send to a recipient at %s: %w", recipientDomain(m.To), err)})
	}
	web.Logger(ctx).Info("email sent", "recipient_domain", recipientDomain(m.To), "ses_message_id", aws.ToString(out.MessageId))
	return nil
}

// addressPattern matches email addresses inside an error text.
// Compiled on first use: only a failed send needs it.
var addressPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`[^\s@<>,;:"'()\[\]]+@([^\s@<>,;:"'()\[\]]+)`)
})

// redacted hides the local part of every address in an error's text. SES
// names the rejected recipient in some errors (MessageRejected in the
// sandbox), and the 503 path logs the cause; the log keeps the domain only.
// Unwrap still gives the SDK's error to errors.As.
type redacted struct{ err error }

func (r redacted) Error() string { return addressPattern().ReplaceAllString(r.err.Error(), "...@$1") }
func (r redacted) Unwrap() error { return r.err }

// recipientDomain is the part of an address after its last '@': enough to
// trace a delivery problem to a provider without logging who was written to.
func recipientDomain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(strings.TrimRight(addr[i+1:], ">"))
	}
	return ""
}
