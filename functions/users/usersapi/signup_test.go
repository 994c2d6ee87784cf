package usersapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
)

func TestSignupAnswersTheUserBody(t *testing.T) {
	t.Parallel()
	w := setup(t)
	cases := []struct {
		name    string
		changes map[string]any
		check   func(t *testing.T, body map[string]any)
	}{
		{"minimal body joins Demo with every term to accept", nil, func(t *testing.T, b map[string]any) {
			want := map[string]any{"first_name": "Ada", "last_name": "Lovelace", "username": nil, "is_verified": false,
				"phone": nil, "postcode": nil, "country": nil, "gender": nil, "age": nil, "organization_name": "Demo",
				"terms_not_accepted": []any{"privacy", "tos"}, "theme": map[string]any{"primary": "#123456"}}
			for k, v := range want {
				if fmt.Sprint(b[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %v, want %v", k, b[k], v)
				}
			}
		}},
		{"every field, an organization code in another case, all terms", map[string]any{
			"username": "ada.l+1", "phone": "+44 20 7946 0000", "postcode": "SW1A 1AA", "country": "UK",
			"gender": "", "age": "36", "organization_code": "acme", "terms_accepted": []string{"*"},
			"id": "11111111-1111-4111-8111-111111111111", "is_verified": true,
		}, func(t *testing.T, b map[string]any) {
			want := map[string]any{"username": "ada.l+1", "phone": "+44 20 7946 0000", "postcode": "SW1A 1AA",
				"country": "UK", "gender": "", "age": "36", "organization_name": "Acme", "terms_not_accepted": []any{},
				"is_verified": false, "theme": map[string]any{"primary_color": "#ff0000", "logo_url": "https://static.example/acme.png"}}
			for k, v := range want {
				if fmt.Sprint(b[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %v, want %v", k, b[k], v)
				}
			}
			if b["id"] == "11111111-1111-4111-8111-111111111111" {
				t.Error("a client-chosen id was used")
			}
		}},
		{"some terms accepted", map[string]any{"terms_accepted": []string{"tos"}}, func(t *testing.T, b map[string]any) {
			if fmt.Sprint(b["terms_not_accepted"]) != "[privacy]" {
				t.Errorf("terms_not_accepted %v", b["terms_not_accepted"])
			}
		}},
		{"null and empty organization codes join Demo", map[string]any{"organization_code": ""}, func(t *testing.T, b map[string]any) {
			if b["organization_name"] != "Demo" {
				t.Errorf("organization_name %v", b["organization_name"])
			}
		}},
		{"null username and optional fields", map[string]any{"username": nil, "phone": nil, "organization_code": nil}, func(t *testing.T, b map[string]any) {
			if b["username"] != nil || b["phone"] != nil {
				t.Errorf("username %v phone %v", b["username"], b["phone"])
			}
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			email := fmt.Sprintf("ada%d@example.com", i)
			resp := w.c.Do(http.MethodPost, "/v1/users/", signupBody(email, tc.changes))
			if resp.Status != http.StatusCreated {
				t.Fatalf("%d %s", resp.Status, resp.Body)
			}
			b := resp.Map(t)
			if b["email"] != email || len(fmt.Sprint(b["id"])) != 36 {
				t.Errorf("email %v id %v", b["email"], b["id"])
			}
			tc.check(t, b)
			// What signup answered is what GET me answers.
			u := w.me(t, w.env.AccessToken(fmt.Sprint(b["id"])))
			if u.ID != b["id"] || u.Email != email || len(u.TermsNotAccepted) != len(b["terms_not_accepted"].([]any)) {
				t.Errorf("GET me %+v differs from the signup body %v", u, b)
			}
		})
	}
}

func TestSignupRefusesBadInputAndWritesNothing(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.signup(t, signupBody("taken@example.com", map[string]any{"username": "taken"}))
	long := strings.Repeat("x", 101)
	cases := []struct {
		name    string
		changes map[string]any
		want    map[string]string // field -> part of a message
	}{
		{"empty body", map[string]any{"first_name": nil, "last_name": nil, "email": nil, "password": nil, "password_confirm": nil},
			map[string]string{"first_name": "This field is required.", "last_name": "This field is required.",
				"email": "This field is required.", "password": "This field is required.", "password_confirm": "This field is required."}},
		{"names too short and too long", map[string]any{"first_name": "A", "last_name": long},
			map[string]string{"first_name": "at least 2", "last_name": "no more than 100"}},
		{"null names", map[string]any{"first_name": nil, "last_name": nil},
			map[string]string{"first_name": "required", "last_name": "required"}},
		{"names that are not strings", map[string]any{"first_name": []int{1}, "last_name": true},
			map[string]string{"first_name": "Not a valid string.", "last_name": "Not a valid string."}},
		{"invalid email", map[string]any{"email": "not-an-email"}, map[string]string{"email": "Enter a valid email address."}},
		{"email taken in another case", map[string]any{"email": "TAKEN@Example.COM"}, map[string]string{"email": "already exists"}},
		{"username taken in another case", map[string]any{"username": "TaKeN"}, map[string]string{"username": "already exists"}},
		{"username with @", map[string]any{"username": "ada@home"}, map[string]string{"username": `"@"`}},
		{"username with a space", map[string]any{"username": "ada l"}, map[string]string{"username": "Enter a valid username."}},
		{"username too short", map[string]any{"username": "a"}, map[string]string{"username": "at least 2"}},
		{"username blank", map[string]any{"username": ""}, map[string]string{"username": "may not be blank"}},
		{"passwords differ", map[string]any{"password_confirm": strongPassword + "!"},
			map[string]string{"password_confirm": "Passwords do not match."}},
		{"password too short", map[string]any{"password": "Ab1!", "password_confirm": "Ab1!"},
			map[string]string{"password": "at least 8", "password_confirm": "at least 8"}},
		{"password too long", map[string]any{"password": strings.Repeat("Ab1!", 26), "password_confirm": strings.Repeat("Ab1!", 26)},
			map[string]string{"password": "no more than 100", "password_confirm": "no more than 100"}},
		{"password entirely numeric", map[string]any{"password": "83920571", "password_confirm": "83920571"},
			map[string]string{"password": "entirely numeric"}},
		{"password too common", map[string]any{"password": "password123", "password_confirm": "password123"},
			map[string]string{"password": "too common"}},
		{"password like the email", map[string]any{"email": "zygomorphic@example.com", "password": "zygomorphic", "password_confirm": "zygomorphic"},
			map[string]string{"password": "too similar to the email address"}},
		{"password like the username", map[string]any{"username": "quixotically", "password": "Quixotically", "password_confirm": "Quixotically"},
			map[string]string{"password": "too similar to the username"}},
		{"unknown term slug is named", map[string]any{"terms_accepted": []string{"tos", "nope"}},
			map[string]string{"terms_accepted": `"nope"`}},
		{"a term with no current version is unknown", map[string]any{"terms_accepted": []string{"beta"}},
			map[string]string{"terms_accepted": `"beta"`}},
		{"terms_accepted not a list", map[string]any{"terms_accepted": "*"}, map[string]string{"terms_accepted": "Expected a list"}},
		{"optional fields over 20 characters", map[string]any{"phone": strings.Repeat("1", 21), "age": strings.Repeat("9", 21)},
			map[string]string{"phone": "no more than 20", "age": "no more than 20"}},
		{"unknown organization code", map[string]any{"organization_code": "NOPE"}, map[string]string{"organization_code": "No organization"}},
		{"every problem at once", map[string]any{"first_name": "A", "email": "x", "organization_code": "NOPE", "terms_accepted": []string{"nope"}},
			map[string]string{"first_name": "at least 2", "email": "valid", "organization_code": "No organization", "terms_accepted": "nope"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			email := fmt.Sprintf("new%d@example.com", i)
			body := signupBody(email, tc.changes)
			before := len(w.outbox.Messages())
			expectFields(t, fieldErrors(t, w.c.Do(http.MethodPost, "/v1/users/", body)), tc.want)
			if len(w.outbox.Messages()) != before {
				t.Error("a refused signup sent an email")
			}
			// Nothing was claimed: the address signs up fine afterwards.
			if _, ok := body["email"].(string); ok && !strings.Contains(tc.name, "taken") && tc.name != "invalid email" &&
				tc.name != "every problem at once" {
				w.mustSignup(t, email)
			}
		})
	}
}

func TestSignupBodyProblems(t *testing.T) {
	t.Parallel()
	w := setup(t)
	cases := []struct {
		name   string
		body   any
		status int
		want   string
	}{
		{"not JSON", apitest.Raw{ContentType: "application/json", Body: []byte("{")}, 400, "JSON parse error"},
		{"not an object", "[1, 2]", 400, "Expected a dictionary"},
		{"form encoded", apitest.Raw{ContentType: "application/x-www-form-urlencoded", Body: []byte("a=b")}, 415, "Unsupported media type"},
		{"over 64 KiB", signupBody("big@example.com", map[string]any{"phone": strings.Repeat("x", 70<<10)}), 413, "too large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := w.c.Do(http.MethodPost, "/v1/users/", tc.body)
			if resp.Status != tc.status || !strings.Contains(string(resp.Body), tc.want) {
				t.Fatalf("%d %s; want %d with %q", resp.Status, resp.Body, tc.status, tc.want)
			}
		})
	}
}

func TestParallelSignupsWithOneEmailCreateOneAccount(t *testing.T) {
	t.Parallel()
	contended(t, func(t *testing.T, w *world) {
		const n = 20
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				// The same address in different cases, and distinct usernames,
				// so only the email claim can stop them.
				email := "Race@Example.com"
				if i%2 == 1 {
					email = strings.ToLower(email)
				}
				resp := w.c.Do(http.MethodPost, "/v1/users/", signupBody(email, map[string]any{"username": fmt.Sprintf("racer%d", i)}))
				statuses[i] = resp.Status
				if resp.Status == http.StatusBadRequest && !strings.Contains(string(resp.Body), "already exists") {
					t.Errorf("loser answered %s", resp.Body)
				}
			})
		}
		wg.Wait()
		created := 0
		for _, s := range statuses {
			switch s {
			case http.StatusCreated:
				created++
			case http.StatusBadRequest:
			default:
				t.Errorf("status %d", s)
			}
		}
		if created != 1 {
			t.Fatalf("%d of %d parallel signups with one email succeeded, want 1: %v", created, n, statuses)
		}
		if got := w.sent("Race@Example.com") + w.sent("race@example.com"); got != 1 {
			t.Fatalf("%d confirmation emails sent, want 1", got)
		}
		// The winner's username is claimed; a loser's is not.
		winner := slices.Index(statuses, http.StatusCreated)
		for _, i := range []int{winner, (winner + 1) % n} {
			resp := w.c.Do(http.MethodPost, "/v1/users/", signupBody(fmt.Sprintf("other%d@example.com", i), map[string]any{"username": fmt.Sprintf("racer%d", i)}))
			if wantCreated := i != winner; (resp.Status == http.StatusCreated) != wantCreated {
				t.Errorf("username racer%d (winner: %v): signup again answered %d %s", i, i == winner, resp.Status, resp.Body)
			}
		}
	})
}

// A signup whose DynamoDB connections drop (a busy machine's transport
// errors) still creates one account and sends one email: the store's
// client retries the drops, and a retried transaction is applied once.
func TestSignupRidesOutDroppedConnections(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.env.DropConnections(2)
	u := w.mustSignup(t, "ada@example.com")
	if left := w.env.DB.PendingDrops(w.env.Store.Table()); left != 0 {
		t.Fatalf("%d of 2 connections not dropped", left)
	}
	if got := w.sent("ada@example.com"); got != 1 {
		t.Fatalf("%d confirmation emails sent, want 1", got)
	}
	w.env.DropConnections(2)
	if me := w.me(t, u.access); me.Email != "ada@example.com" {
		t.Fatalf("GET me after dropped connections: %+v", me)
	}
}

func TestSignupSendsAConfirmationLink(t *testing.T) {
	t.Parallel()
	w := setup(t)
	u := w.mustSignup(t, "Link+Test@Example.com")
	msgs := w.outbox.Messages()
	if len(msgs) != 1 || msgs[0].Destination.ToAddresses[0] != "Link+Test@Example.com" {
		t.Fatalf("messages %+v", msgs)
	}
	m := msgs[0]
	if !strings.HasPrefix(m.Body.Text[strings.Index(m.Body.Text, "https://"):], "https://app.pufinid.test/confirm-email?email=Link%2BTest%40Example.com&token=") {
		t.Fatalf("text part %q does not carry the escaped link", m.Body.Text)
	}
	if !strings.Contains(m.Body.HTML, `href="https://app.pufinid.test/confirm-email?email=Link%2BTest%40Example.com&amp;token=`) {
		t.Fatalf("HTML part %q does not carry the link", m.Body.HTML)
	}
	email, tok := w.lastLink(t, "Link+Test@Example.com", "Confirm")
	if email != "Link+Test@Example.com" || len(tok) < 20 {
		t.Fatalf("link email %q token %q", email, tok)
	}
	resp := w.c.Do(http.MethodPost, "/v1/users/confirm-email/", map[string]string{"email": email, "token": tok})
	if resp.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", resp.Status, resp.Body)
	}
	if !w.me(t, u.access).IsVerified {
		t.Fatal("is_verified is still false")
	}
}
