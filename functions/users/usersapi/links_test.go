package usersapi_test

import (
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/functions/users/usersapi"
	"github.com/pufinid/pufinid-api/shared/config"
)

func TestLinksFromEnv(t *testing.T) {
	t.Parallel()
	good := "https://app.example.com/confirm?email={email}&token={token}"
	cases := []struct {
		name            string
		confirm, reset  string
		wantErrContains string
	}{
		{"both set", good, "https://app.example.com/reset/{token}?e={email}", ""},
		{"confirm missing", "", good, config.EnvConfirmEmailURL},
		{"reset missing", good, "  ", config.EnvResetPasswordURL},
		{"no token placeholder", "https://app.example.com/confirm?email={email}", good, "{token}"},
		{"not absolute", good, "/reset?token={token}", config.EnvResetPasswordURL},
		{"not http", "ftp://app.example.com/{token}", good, config.EnvConfirmEmailURL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{config.EnvConfirmEmailURL: tc.confirm, config.EnvResetPasswordURL: tc.reset}
			l, err := usersapi.LinksFromEnv(func(k string) string { return env[k] })
			if tc.wantErrContains == "" {
				if err != nil || l.ConfirmEmail != tc.confirm || l.ResetPassword != tc.reset {
					t.Fatalf("%+v %v", l, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErrContains) {
				t.Fatalf("error %v, want one naming %q", err, tc.wantErrContains)
			}
		})
	}
}
