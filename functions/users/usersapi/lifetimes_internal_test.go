package usersapi

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/store"
)

func TestInWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{72 * time.Hour, "72 hours"},
		{time.Hour, "1 hour"},
		{48 * time.Hour, "48 hours"},
		{90 * time.Minute, "90 minutes"},
		{time.Minute, "1 minute"},
		{30 * time.Minute, "30 minutes"},
		{45 * time.Second, "45 seconds"},
		{time.Second, "1 second"},
	}
	for _, tt := range tests {
		if got := inWords(tt.d); got != tt.want {
			t.Errorf("inWords(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// What each email says of its link's lifetime is the lifetime the token
// it carries is stored with, so the text follows the value.
func TestEmailsSayTheLifetimeTheirTokenHas(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	d := &deps{Deps: Deps{Rand: rand.Reader, Now: func() time.Time { return now }}}
	links := Links{ConfirmEmail: "https://x.test/c?t={token}", ResetPassword: "https://x.test/r?t={token}"}
	tests := []struct {
		purpose store.EmailPurpose
		says    string // as the emails have always said it
	}{
		{store.PurposeConfirm, "expires in 72 hours."},
		{store.PurposeReset, "expires in 1 hour."},
	}
	for _, tt := range tests {
		t.Run(string(tt.purpose), func(t *testing.T) {
			secret, stored, err := d.newEmailToken(tt.purpose)
			if err != nil {
				t.Fatal(err)
			}
			life := time.Unix(stored.ExpiresAt, 0).Sub(now)
			if life != emailLifetime(tt.purpose) {
				t.Fatalf("the token lives %v, want emailLifetime's %v", life, emailLifetime(tt.purpose))
			}
			msg, err := tokenMessage(links, tt.purpose, recipient{Address: "ada@example.com", OrganizationName: "Demo"}, secret)
			if err != nil {
				t.Fatal(err)
			}
			says := "expires in " + inWords(life) + "."
			for part, text := range map[string]string{"text": msg.Text, "HTML": msg.HTML} {
				if !strings.Contains(text, says) {
					t.Errorf("the %s part does not say %q:\n%s", part, says, text)
				}
			}
			if says != tt.says {
				t.Errorf("the email says %q, want %q (the contract's lifetime)", says, tt.says)
			}
		})
	}
}
