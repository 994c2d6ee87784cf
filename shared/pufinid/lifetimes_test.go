package pufinid_test

import (
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/pufinid"
)

func TestStoredLifetimesFallBackToTheDefaults(t *testing.T) {
	t.Parallel()
	def := pufinid.DefaultLifetimes
	tests := []struct {
		name            string
		access, refresh int // seconds, as stored
		wantA, wantR    time.Duration
	}{
		{"both set", 600, 3600, 600 * time.Second, time.Hour},
		{"neither set (an item without them)", 0, 0, def.Access, def.Refresh},
		{"only access set", 60, 0, time.Minute, def.Refresh},
		{"negative is unset", -5, -1, def.Access, def.Refresh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for what, got := range map[string]pufinid.Lifetimes{
				"organization": pufinid.Organization{AccessTokenLifetime: tt.access, RefreshTokenLifetime: tt.refresh}.Lifetimes(),
				"user":         pufinid.User{AccessTokenLifetime: tt.access, RefreshTokenLifetime: tt.refresh}.Lifetimes(),
			} {
				want := pufinid.Lifetimes{Access: tt.wantA, Refresh: tt.wantR,
					ConfirmEmail: def.ConfirmEmail, ResetPassword: def.ResetPassword}
				if got != want {
					t.Errorf("%s: got %+v, want %+v", what, got, want)
				}
			}
		})
	}
}

func TestLifetimesSecondsAreTheStoredForm(t *testing.T) {
	t.Parallel()
	a, r := pufinid.DefaultLifetimes.Seconds()
	if a != 300 || r != 86400 {
		t.Errorf("default lifetimes store as %d/%d seconds, want simplejwt's 300/86400", a, r)
	}
	o := pufinid.Organization{AccessTokenLifetime: a, RefreshTokenLifetime: r}
	if got := o.Lifetimes(); got != pufinid.DefaultLifetimes {
		t.Errorf("stored defaults read back as %+v", got)
	}
}

func TestWithDefaultsKeepsWhatIsSet(t *testing.T) {
	t.Parallel()
	set := pufinid.Lifetimes{Access: time.Second, Refresh: 2 * time.Second, ConfirmEmail: 3 * time.Second, ResetPassword: 4 * time.Second}
	if got := set.WithDefaults(); got != set {
		t.Errorf("got %+v, want %+v", got, set)
	}
	if got := (pufinid.Lifetimes{}).WithDefaults(); got != pufinid.DefaultLifetimes {
		t.Errorf("the zero Lifetimes: got %+v, want the defaults", got)
	}
	// Stored before the bound (or written by hand): cut to it, so no
	// refresh token outlives the key that signed it.
	long := pufinid.User{AccessTokenLifetime: 90 * 86400, RefreshTokenLifetime: 90 * 86400}.Lifetimes()
	if long.Access != pufinid.MaxRefresh || long.Refresh != pufinid.MaxRefresh {
		t.Errorf("90-day lifetimes: got %v / %v, want both cut to %v", long.Access, long.Refresh, pufinid.MaxRefresh)
	}
}
