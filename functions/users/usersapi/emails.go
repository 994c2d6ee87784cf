package usersapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/pufinid/pufinid-api/functions/users/usersapi/mailtmpl"
	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/mailer"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/telemetry"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Email tokens: 256 random bits, sent base64url (43 characters), stored
// only as their SHA-256, single use, and short-lived (emailLifetime).
const tokenBytes = 32

// emailLifetime is how long a token for p works: what the store is told
// to enforce, and what the email says.
func emailLifetime(p store.EmailPurpose) time.Duration {
	if p == store.PurposeReset {
		return pufinid.DefaultLifetimes.ResetPassword
	}
	return pufinid.DefaultLifetimes.ConfirmEmail
}

// inWords says d for the reader of an email: "72 hours", "1 hour", "90
// minutes", in the largest unit that divides it.
func inWords(d time.Duration) string {
	n, unit := int64(d/time.Second), "second"
	switch {
	case d%time.Hour == 0:
		n, unit = int64(d/time.Hour), "hour"
	case d%time.Minute == 0:
		n, unit = int64(d/time.Minute), "minute"
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", n, unit)
}

// Messages of the email routes. The send routes answer the same detail
// whatever happened, so it cannot tell who has an account.
const (
	msgBadToken     = "This link is invalid, has expired or was already used."
	msgConfirmed    = "Your email address is confirmed."
	msgConfirmSent  = "If this address belongs to an account that is not confirmed yet, a confirmation email is on its way."
	msgResetSent    = "If this address belongs to an account, an email with a link to reset the password is on its way."
	noAccountUserID = "00000000-0000-0000-0000-000000000000" // the nil UUID: pufinid.NewID never makes it
)

// newEmailToken makes a token for p: the secret for the email and what
// the store keeps of it.
func (d *deps) newEmailToken(p store.EmailPurpose) (string, store.EmailToken, error) {
	b := make([]byte, tokenBytes)
	if _, err := io.ReadFull(d.Rand, b); err != nil {
		return "", store.EmailToken{}, fmt.Errorf("email token: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(b)
	return secret, store.EmailToken{Hash: hashToken(secret), ExpiresAt: d.Now().Add(emailLifetime(p)).Unix()}, nil
}

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// tokenMatches checks secret against the stored token in code (the store
// checks again in its conditional write): issued, the same hash (compared
// in constant time), and not expired by the clock, whatever DynamoDB's TTL
// has or has not deleted yet.
func tokenMatches(t store.EmailToken, secret string, now time.Time) bool {
	if t.Hash == "" || t.Expired(now) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hashToken(secret)), []byte(t.Hash)) == 1
}

// checkEmailToken finds the account of email and checks secret against
// its token for p. ok is false when the token cannot be used, including
// when no account has the address, which the answer must not tell apart.
// Two DynamoDB requests (the email claim, then the profile with the token).
func (d *deps) checkEmailToken(ctx context.Context, email, secret string, p store.EmailPurpose) (u pufinid.User, ok bool, err error) {
	owner, found, err := d.Store.EmailOwner(ctx, email)
	if err != nil {
		return u, false, err
	}
	id := owner.UserID
	if !found {
		// The same read for an address nobody holds, of a user nobody is,
		// so the answer takes as long whether the address has an account.
		id = noAccountUserID
	}
	u, t, err := d.Store.UserAndEmailToken(ctx, id, p)
	if errors.Is(err, store.ErrNotFound) || !found {
		return pufinid.User{}, false, nil // nobody, or deleted since the claim was read
	}
	if err != nil {
		return u, false, err
	}
	return u, tokenMatches(t, secret, d.Now()), nil
}

// handleConfirmEmail uses a confirmation token and marks the address
// verified.
func handleConfirmEmail(d *deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := web.DecodeObject(r)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		email, _ := in.Email("email")
		secret, _ := in.String("token", web.Str{Required: true})
		if err := in.Err(); err != nil {
			web.Error(w, r, err)
			return
		}
		u, ok, err := d.checkEmailToken(r.Context(), email, secret, store.PurposeConfirm)
		if err == nil && !ok {
			err = apierror.Field("token", msgBadToken)
		}
		if err == nil {
			// The same check again, as a condition of the write: of parallel
			// confirmations with one token exactly one gets here.
			err = d.Store.ConfirmEmail(r.Context(), u.ID, hashToken(secret), d.Now())
			if errors.Is(err, store.ErrEmailTokenInvalid) {
				err = apierror.Field("token", msgBadToken)
			}
		}
		if err != nil {
			web.Error(w, r, err)
			return
		}
		web.Logger(r.Context()).Info("email confirmed", "user_id", u.ID)
		web.JSON(w, r, http.StatusOK, map[string]string{"detail": msgConfirmed})
	})
}

// handleSendEmail is both email-sending routes, for tokens for p: a
// malformed address is a 400; any other address gets 200 with detail,
// whether or not an email went.
func handleSendEmail(d *deps, p store.EmailPurpose, detail string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := web.DecodeObject(r)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		email, _ := in.Email("email")
		if err := in.Err(); err != nil {
			web.Error(w, r, err)
			return
		}
		if err := d.sendTokenEmail(r.Context(), email, p); err != nil {
			web.Error(w, r, err)
			return
		}
		web.JSON(w, r, http.StatusOK, map[string]string{"detail": detail})
	})
}

// sendTokenEmail issues a token for p and emails it to email, if the
// address's budget allows an email (store.AllowEmail) and an account can
// use one (it exists; for a confirmation, it is not confirmed yet).
//
// Addresses with and without an account get the same DynamoDB work: the
// budget, the claim lookup, and the conditional token write, which for no
// account targets a user nobody is and writes nothing; an address Amazon
// SES reported as bouncing or complaining (store.Suppress) is treated as
// one with no account. The one difference,
// sending, is covered by pace: a request that sends nothing waits as long
// as sending has been taking. If SES fails, the answer is the contract's
// 503; that alone could tell, during an SES outage, that the address has
// an account.
func (d *deps) sendTokenEmail(ctx context.Context, email string, p store.EmailPurpose) error {
	allowed, err := d.Store.AllowEmail(ctx, email, p, d.Now())
	if err != nil {
		return err
	}
	if !allowed {
		telemetry.Count(ctx, telemetry.EmailThrottled)
		return nil
	}
	owner, found, err := d.Store.EmailOwner(ctx, email)
	if err != nil {
		return err
	}
	id := owner.UserID
	if !found || owner.Suppressed {
		// An address SES reported a hard bounce or complaint for gets
		// nothing, with the same work and timing as an address with no
		// account: the token write targets nobody and writes nothing.
		if found {
			suppressed(ctx, owner.UserID, p)
		}
		id = noAccountUserID
	}
	secret, stored, err := d.newEmailToken(p)
	if err != nil {
		return err
	}
	err = d.Store.IssueEmailToken(ctx, id, p, stored)
	if errors.Is(err, store.ErrNotIssued) {
		d.pace.wait(ctx)
		return nil
	}
	if err != nil {
		return err
	}
	// The account's own address, never the spelling the request typed: an
	// address that merely looks up the same account must not get its link.
	if err := d.sendToken(ctx, p, recipient{Address: owner.Address, OrganizationName: owner.OrganizationName, Theme: owner.Theme}, secret); err != nil {
		return err
	}
	web.Logger(ctx).Info("email token sent", "user_id", id, "purpose", string(p))
	return nil
}

// sendToken emails secret, a token for p, to to, and times the send for
// pace.
func (d *deps) sendToken(ctx context.Context, p store.EmailPurpose, to recipient, secret string) error {
	msg, err := tokenMessage(d.Links, p, to, secret)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := d.send(ctx, msg); err != nil {
		return err
	}
	d.pace.observe(time.Since(start))
	return nil
}

// suppressed notes an email not sent to userID's address, which SES
// reported as bouncing or complaining.
func suppressed(ctx context.Context, userID string, p store.EmailPurpose) {
	telemetry.Count(ctx, telemetry.EmailSuppressed)
	web.Logger(ctx).Info("email not sent: the address is suppressed", "user_id", userID, "purpose", string(p))
}

// send sends msg and counts how it went.
func (d *deps) send(ctx context.Context, msg mailer.Message) error {
	if err := d.Mailer.Send(ctx, msg); err != nil {
		telemetry.Count(ctx, telemetry.EmailFailed)
		return err
	}
	telemetry.Count(ctx, telemetry.EmailSent)
	return nil
}

// pace estimates how long sending one email takes (a moving average of
// this instance's sends), so that a request that sends nothing can take
// as long as one that sends. A fresh instance starts from
// Deps.SendEstimate (Setup gives SES's), replaced by its first timed send.
type pace struct {
	mu    sync.Mutex
	avg   time.Duration // until a send is timed, Deps.SendEstimate
	timed bool
}

func (p *pace) observe(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.timed {
		// The first send timed replaces the estimate: an estimate far from
		// this instance's sends would otherwise take many sends to fade.
		p.avg, p.timed = d, true
		return
	}
	p.avg += (d - p.avg) / 8
}

func (p *pace) estimate() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.avg
}

// wait lasts the estimate. Go's timers on an otherwise idle Linux process
// fire up to a millisecond late (golang/go#44343), which alone would tell
// a wait from a send; so it sleeps to within paceSpin of the end and spins
// the rest, a cost of at most paceSpin of CPU per request that sends
// nothing.
func (p *pace) wait(ctx context.Context) {
	d := p.estimate()
	if d <= 0 {
		return
	}
	end := time.Now().Add(d)
	if sleep := d - paceSpin; sleep > 0 {
		t := time.NewTimer(sleep)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
	for time.Now().Before(end) && ctx.Err() == nil {
		runtime.Gosched()
	}
}

const paceSpin = 2 * time.Millisecond

// recipient is who a token email goes to, and the organization it
// speaks for: the account's address, organization name and theme.
type recipient struct {
	Address          string
	OrganizationName string
	Theme            json.RawMessage
}

// tokenMessage is the email carrying secret, a token for p, to to: the
// confirmation or the reset email, from its template (package mailtmpl).
func tokenMessage(l Links, p store.EmailPurpose, to recipient, secret string) (mailer.Message, error) {
	kind, pattern := mailtmpl.Confirm, l.ConfirmEmail
	if p == store.PurposeReset {
		kind, pattern = mailtmpl.Reset, l.ResetPassword
	}
	return mailtmpl.Render(kind, mailtmpl.Data{
		To:               to.Address,
		Link:             link(pattern, to.Address, secret),
		Expires:          inWords(emailLifetime(p)),
		OrganizationName: to.OrganizationName,
		Theme:            mailtmpl.ParseTheme(to.Theme),
	})
}
