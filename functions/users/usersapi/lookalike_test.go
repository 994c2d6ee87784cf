package usersapi_test

import (
	"net/http"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
)

// The account takeover of the issue, as the attack: Alice has an account;
// the attacker asks for her reset link with a look-alike spelling of her
// address that they could receive mail at. Whatever the spelling, a link
// goes only to the address stored on the account, and a spelling whose
// domain is not ASCII is not an address the API takes at all.
func TestLookAlikeAddressesNeverReceiveAnAccountsLink(t *testing.T) {
	t.Parallel()
	for _, route := range []string{"send-reset-password-email", "resend-confirm-email"} {
		for _, tc := range []struct {
			name, typed string
			refused     bool // 400 on email: not an address the API takes
		}{
			{"dotted capital I in the domain (U+0130)", "alice@gmaİl.com", true},
			{"Kelvin sign in the domain (U+212A)", "alice@gmail.\u212Aom", true},
			{"fullwidth domain", "alice@ｇｍａｉｌ.com", true},
			{"dotless i in the domain (U+0131)", "alice@gmaıl.com", true},
			{"zero-width space", "ali\u200bce@gmail.com", true},
			{"Kelvin sign in the local part", "\u212Aate@gmail.com", false},
			{"fullwidth local part", "ｋａｔｅ@gmail.com", false},
			{"upper case", "KATE@GMAIL.COM", false},
			{"dotted capital I in the local part", "KATİE@gmail.com", false},
		} {
			t.Run(route+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				w := setup(t)
				w.mustSignup(t, "alice@gmail.com")
				w.mustSignup(t, "kate@gmail.com")
				w.env.Clock.Advance(61e9) // past the signup email's minute
				before := len(w.outbox.Messages())
				resp := w.c.Do(http.MethodPost, "/v1/users/"+route+"/", map[string]any{"email": tc.typed})
				if tc.refused {
					if resp.Status != http.StatusBadRequest || resp.Map(t)["email"] == nil {
						t.Fatalf("%q: %d %s; want 400 on email", tc.typed, resp.Status, resp.Body)
					}
				} else if resp.Status != http.StatusOK {
					t.Fatalf("%q: %d %s", tc.typed, resp.Status, resp.Body)
				}
				for _, m := range w.outbox.Messages()[before:] {
					for _, to := range m.Destination.ToAddresses {
						if to != "kate@gmail.com" {
							t.Fatalf("%q: an email went to %q", tc.typed, to)
						}
					}
				}
				if w.sent(tc.typed) != 0 && tc.typed != "kate@gmail.com" {
					t.Fatalf("an email went to the typed spelling %q", tc.typed)
				}
			})
		}
	}
}

// Spellings of one address are one address: every variant of an existing
// one is refused at signup, and shares its mail budget.
func TestSpellingsOfOneAddressAreOneIdentity(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.mustSignup(t, "kate@example.com")
	for _, variant := range []string{
		"KATE@EXAMPLE.COM", "Kate@Example.com", "\u212Aate@example.com", "ｋａｔｅ@example.com", "ＫＡＴＥ@example.com",
	} {
		resp := w.c.Do(http.MethodPost, "/v1/users/", signupBody(variant, nil))
		if resp.Status != http.StatusBadRequest || resp.Map(t)["email"] == nil {
			t.Errorf("signup %q: %d %s; want 400 on email", variant, resp.Status, resp.Body)
		}
	}

	// One budget: a spelling asks for a reset a moment after another did.
	w.env.Clock.Advance(61e9)
	before := w.sent("kate@example.com")
	for _, spelling := range []string{"kate@example.com", "\u212Aate@example.com", "KATE@example.com", "ｋａｔｅ@example.com"} {
		if resp := w.c.Do(http.MethodPost, "/v1/users/send-reset-password-email/", map[string]any{"email": spelling}); resp.Status != 200 {
			t.Fatalf("%q: %d", spelling, resp.Status)
		}
	}
	if got := w.sent("kate@example.com") - before; got != 1 {
		t.Fatalf("four spellings within a minute sent %d emails, want 1 (one budget per address)", got)
	}
}

// The squat: before the owner of victim@gmail.com signs up, an attacker
// signs up a spelling of it that folds to it but that no mail reaches
// (SES sends only to ASCII addresses), which would take the address from
// its owner for good. New accounts need an ASCII address, so every such
// spelling is refused, and the owner signs up.
func TestAnUnreachableSpellingCannotSquatAnAddress(t *testing.T) {
	t.Parallel()
	w := setup(t)
	for _, squat := range []string{"ｖｉｃｔｉｍ@gmail.com", "\u212Aate@gmail.com", "ﬀ@gmail.com", "ſam@gmail.com", "straße@gmail.com", "josé@gmail.com"} {
		resp := w.c.Do(http.MethodPost, "/v1/users/", signupBody(squat, nil))
		if resp.Status != http.StatusBadRequest || resp.Map(t)["email"] == nil {
			t.Errorf("signup %q: %d %s; want 400 on email", squat, resp.Status, resp.Body)
		}
	}
	for _, owner := range []string{"victim@gmail.com", "kate@gmail.com", "ff@gmail.com", "sam@gmail.com", "strasse@gmail.com"} {
		w.mustSignup(t, owner)
	}
}

// A body whose bytes are not UTF-8 is refused before anything is read
// from it: no account is created with a mangled address.
func TestInvalidUTF8SignupCreatesNothing(t *testing.T) {
	t.Parallel()
	w := setup(t)
	body := []byte(`{"first_name":"Ada","last_name":"Lovelace","email":"ada@ex` + "\xff" + `ample.com","password":"` + strongPassword + `","password_confirm":"` + strongPassword + `"}`)
	resp := w.c.Do(http.MethodPost, "/v1/users/", apitest.Raw{ContentType: "application/json", Body: body})
	if resp.Status != http.StatusBadRequest || len(w.outbox.Messages()) != 0 {
		t.Fatalf("%d %s, %d emails", resp.Status, resp.Body, len(w.outbox.Messages()))
	}
	if d, _ := resp.Map(t)["detail"].(string); len(d) < 17 || d[:17] != "JSON parse error " {
		t.Fatalf("detail %q, want a JSON parse error", d)
	}
}
