package usersapi_test

import (
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/functions/users/usersapi"
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
		{"confirm missing", "", good, usersapi.EnvConfirmEmailURL},
		{"reset missing", good, "  ", usersapi.EnvResetPasswordURL},
		{"no token placeholder", "https://app.example.com/confirm?email={email}", good, "{token}"},
		{"not absolute", good, "/reset?token={token}", usersapi.EnvResetPasswordURL},
		{"not http", "ftp://app.example.com/{token}", good, usersapi.EnvConfirmEmailURL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{usersapi.EnvConfirmEmailURL: tc.confirm, usersapi.EnvResetPasswordURL: tc.reset}
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
