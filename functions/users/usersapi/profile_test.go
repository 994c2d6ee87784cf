package usersapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/functions/users/usersapi"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/token"
)

func TestGetUserIsTheCallerOnly(t *testing.T) {
	t.Parallel()
	w := setup(t)
	ada := w.mustSignup(t, "ada@example.com")
	bob := w.mustSignup(t, "bob@example.com")
	refresh, _, err := w.env.Tokens.Mint(context.Background(), token.Refresh, ada.ID, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, _, err := w.env.Tokens.Mint(context.Background(), token.Access, ada.ID, "", -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		path   string
		opts   []apitest.Option
		status int
	}{
		{"me", "/v1/users/me/", []apitest.Option{apitest.Bearer(ada.access)}, 200},
		{"me without trailing slash", "/v1/users/me", []apitest.Option{apitest.Bearer(ada.access)}, 200},
		{"own id", "/v1/users/" + ada.ID + "/", []apitest.Option{apitest.Bearer(ada.access)}, 200},
		{"own id in upper case", "/v1/users/" + strings.ToUpper(ada.ID) + "/", []apitest.Option{apitest.Bearer(ada.access)}, 200},
		{"another user's id", "/v1/users/" + bob.ID + "/", []apitest.Option{apitest.Bearer(ada.access)}, 404},
		{"an id nobody has", "/v1/users/8a6e0804-2bd0-4672-b79d-d97027f9071a/", []apitest.Option{apitest.Bearer(ada.access)}, 404},
		{"no token", "/v1/users/me/", nil, 403},
		{"no token for another id", "/v1/users/" + bob.ID + "/", nil, 403},
		{"refresh token", "/v1/users/me/", []apitest.Option{apitest.Bearer(refresh)}, 403},
		{"expired token", "/v1/users/me/", []apitest.Option{apitest.Bearer(expired)}, 403},
		{"garbage token", "/v1/users/me/", []apitest.Option{apitest.Bearer("not.a.jwt")}, 403},
		{"token of a user that never existed", "/v1/users/me/", []apitest.Option{apitest.Bearer(w.env.AccessToken("8a6e0804-2bd0-4672-b79d-d97027f9071a"))}, 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := w.c.Do(http.MethodGet, tc.path, nil, tc.opts...)
			if resp.Status != tc.status {
				t.Fatalf("%d %s, want %d", resp.Status, resp.Body, tc.status)
			}
			if tc.status == 200 {
				var u usersapi.User
				resp.JSON(t, &u)
				if u.ID != ada.ID || u.Email != "ada@example.com" {
					t.Fatalf("got %+v", u)
				}
			}
			if tc.status == 404 && string(resp.Body) != `{"detail":"Not found."}` {
				t.Fatalf("404 body %s", resp.Body)
			}
		})
	}
}

func TestGetMeFollowsTheCurrentTerms(t *testing.T) {
	t.Parallel()
	w := setup(t)
	u := w.signup(t, signupBody("ada@example.com", map[string]any{"terms_accepted": []string{"*"}}))
	if got := w.me(t, u.access).TermsNotAccepted; len(got) != 0 {
		t.Fatalf("terms_not_accepted %v right after accepting all", got)
	}
	// privacy v3 becomes current on July 1st: accepting v2 no longer counts.
	w.env.Clock.Advance(31 * 24 * time.Hour)
	if got := w.me(t, w.env.AccessToken(u.ID)).TermsNotAccepted; fmt.Sprint(got) != "[privacy]" {
		t.Fatalf("terms_not_accepted %v after privacy v3, want [privacy]", got)
	}
}

// GET me reads the account (one Query of the profile and acceptances);
// the current terms come from the instance's copy, which the signup read
// (store.Store.Terms: once per version of the reference data).
func TestGetMeCostsOneDynamoDBRequest(t *testing.T) {
	t.Parallel()
	w := setup(t)
	u := w.mustSignup(t, "ada@example.com")
	before := w.env.Requests.Load()
	w.me(t, u.access)
	if n := w.env.Requests.Load() - before; !w.env.RequestsMatch(n, 1) {
		t.Fatalf("GET me made %d DynamoDB requests, want 1", n)
	}
}

func TestPutReplacesTheChangeableFields(t *testing.T) {
	t.Parallel()
	w := setup(t)
	u := w.signup(t, signupBody("ada@example.com", map[string]any{"phone": "123", "age": "36", "username": "ada"}))
	full := map[string]any{"first_name": "Augusta", "last_name": "King", "phone": nil, "postcode": "W1", "country": "UK",
		"gender": "", "age": nil}
	with := func(changes map[string]any) map[string]any {
		b := map[string]any{}
		for k, v := range full {
			b[k] = v
		}
		for k, v := range changes {
			if v == "<absent>" {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	refused := []struct {
		name string
		body map[string]any
		want map[string]string
	}{
		{"every field is required", map[string]any{}, map[string]string{"first_name": "required", "last_name": "required",
			"phone": "required", "postcode": "required", "country": "required", "gender": "required", "age": "required"}},
		{"an optional field missing", with(map[string]any{"age": "<absent>"}), map[string]string{"age": "This field is required."}},
		{"names out of bounds", with(map[string]any{"first_name": "A", "last_name": strings.Repeat("k", 101)}),
			map[string]string{"first_name": "at least 2", "last_name": "no more than 100"}},
		{"optional field over 20", with(map[string]any{"country": strings.Repeat("c", 21)}), map[string]string{"country": "no more than 20"}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			expectFields(t, fieldErrors(t, w.c.Do(http.MethodPut, "/v1/users/me/", tc.body, apitest.Bearer(u.access))), tc.want)
		})
	}
	if got := w.me(t, u.access); deref(got.FirstName) != "Ada" || got.Phone == nil || *got.Phone != "123" {
		t.Fatalf("a refused PUT changed the user: %+v", got)
	}

	t.Run("a full body replaces, read-only fields are ignored", func(t *testing.T) {
		body := with(map[string]any{"email": "evil@example.com", "is_verified": true, "username": "root", "id": "x",
			"organization_name": "Acme", "password": "whatever1234"})
		resp := w.c.Do(http.MethodPut, "/v1/users/"+u.ID+"/", body, apitest.Bearer(u.access))
		if resp.Status != http.StatusOK {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		var got usersapi.User
		resp.JSON(t, &got)
		want := usersapi.User{ID: u.ID, FirstName: new("Augusta"), LastName: new("King"), Username: u.Username, Email: "ada@example.com",
			TermsNotAccepted: []string{"privacy", "tos"}, Postcode: new("W1"), Country: new("UK"), Gender: new(""),
			OrganizationName: "Demo", Theme: demoTheme}
		if describe(got) != describe(want) {
			t.Fatalf("got  %v\nwant %v", describe(got), describe(want))
		}
		if again := w.me(t, u.access); describe(again) != describe(got) {
			t.Fatalf("GET me %v differs from the PUT answer %v", describe(again), describe(got))
		}
	})

	t.Run("names may be null, as the seed says", func(t *testing.T) {
		resp := w.c.Do(http.MethodPut, "/v1/users/me/", with(map[string]any{"first_name": nil, "last_name": nil}), apitest.Bearer(u.access))
		if resp.Status != http.StatusOK {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		body := resp.Map(t)
		if v, ok := body["first_name"]; !ok || v != nil {
			t.Fatalf("first_name %v (present %v), want null", v, ok)
		}
		if v, ok := body["last_name"]; !ok || v != nil {
			t.Fatalf("last_name %v (present %v), want null", v, ok)
		}
		if again := w.me(t, u.access); again.FirstName != nil || again.LastName != nil {
			t.Fatalf("GET me after a PUT of null names: %s", describe(again))
		}
		// A password change still checks similarity without the names.
		resp = w.c.Do(http.MethodPost, "/v1/users/change-password/", map[string]any{"old_password": strongPassword,
			"new_password": "Another-Long-Passphrase-7", "new_password_confirm": "Another-Long-Passphrase-7"}, apitest.Bearer(u.access))
		if resp.Status != http.StatusOK {
			t.Fatalf("change password after null names: %d %s", resp.Status, resp.Body)
		}
	})
}

// describe renders a user with its pointers followed.
func describe(u usersapi.User) string {
	s := func(p *string) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprintf("%q", *p)
	}
	return fmt.Sprintf("{id %s %s %s user %s %s verified %v phone %s postcode %s country %s gender %s age %s org %s theme %s terms %v}",
		u.ID, s(u.FirstName), s(u.LastName), s(u.Username), u.Email, u.IsVerified, s(u.Phone), s(u.Postcode), s(u.Country),
		s(u.Gender), s(u.Age), u.OrganizationName, u.Theme, u.TermsNotAccepted)
}

func TestPatchChangesTheFieldsGiven(t *testing.T) {
	t.Parallel()
	w := setup(t)
	u := w.signup(t, signupBody("ada@example.com", map[string]any{"phone": "123", "age": "36"}))
	steps := []struct {
		name   string
		body   map[string]any
		status int
		check  func(usersapi.User) bool
		want   map[string]string
	}{
		{"one field", map[string]any{"age": "37"}, 200, func(g usersapi.User) bool {
			return *g.Age == "37" && *g.Phone == "123" && deref(g.FirstName) == "Ada"
		}, nil},
		{"an empty body changes nothing", map[string]any{}, 200, func(g usersapi.User) bool { return *g.Age == "37" }, nil},
		{"names and a blank optional field", map[string]any{"first_name": "Augusta", "phone": ""}, 200, func(g usersapi.User) bool {
			return deref(g.FirstName) == "Augusta" && *g.Phone == "" && deref(g.LastName) == "Lovelace"
		}, nil},
		{"read-only fields are ignored", map[string]any{"email": "x@example.com", "is_verified": true, "terms_not_accepted": []string{}},
			200, func(g usersapi.User) bool {
				return g.Email == "ada@example.com" && !g.IsVerified && len(g.TermsNotAccepted) == 2
			}, nil},
		{"no nulls", map[string]any{"age": nil, "first_name": nil}, 400, nil,
			map[string]string{"age": "This field may not be null.", "first_name": "This field may not be null."}},
		{"bounds", map[string]any{"last_name": "L", "gender": strings.Repeat("g", 21)}, 400, nil,
			map[string]string{"last_name": "at least 2", "gender": "no more than 20"}},
	}
	for _, s := range steps {
		resp := w.c.Do(http.MethodPatch, "/v1/users/me", s.body, apitest.Bearer(u.access))
		if s.status == 400 {
			expectFields(t, fieldErrors(t, resp), s.want)
			continue
		}
		if resp.Status != s.status {
			t.Fatalf("%s: %d %s", s.name, resp.Status, resp.Body)
		}
		var got usersapi.User
		resp.JSON(t, &got)
		if !s.check(got) {
			t.Fatalf("%s: got %s", s.name, describe(got))
		}
	}
}

func TestUpdatesOfOthersOrOfDeletedUsers(t *testing.T) {
	t.Parallel()
	w := setup(t)
	ada := w.mustSignup(t, "ada@example.com")
	bob := w.mustSignup(t, "bob@example.com")
	ghost := w.env.AccessToken("8a6e0804-2bd0-4672-b79d-d97027f9071a")
	full := map[string]any{"first_name": "Eve", "last_name": "Evil", "phone": nil, "postcode": nil, "country": nil, "gender": nil, "age": nil}
	for _, m := range []string{http.MethodPut, http.MethodPatch} {
		cases := []struct {
			name   string
			path   string
			opts   []apitest.Option
			status int
		}{
			{"another user's id", "/v1/users/" + bob.ID + "/", []apitest.Option{apitest.Bearer(ada.access)}, 404},
			{"no token", "/v1/users/me/", nil, 403},
			{"a token whose user does not exist", "/v1/users/me/", []apitest.Option{apitest.Bearer(ghost)}, 403},
		}
		for _, tc := range cases {
			t.Run(m+" "+tc.name, func(t *testing.T) {
				if resp := w.c.Do(m, tc.path, full, tc.opts...); resp.Status != tc.status {
					t.Fatalf("%d %s, want %d", resp.Status, resp.Body, tc.status)
				}
			})
		}
	}
	if got := w.me(t, bob.access); deref(got.FirstName) != "Ada" {
		t.Fatalf("bob changed: %s", describe(got))
	}
	// The update is conditional on the user: no profile appears for the ghost.
	if _, err := w.env.Store.Account(context.Background(), "8a6e0804-2bd0-4672-b79d-d97027f9071a"); err == nil {
		t.Fatal("an update created a profile for a user that does not exist")
	}
}

func TestDeleteRemovesTheAccount(t *testing.T) {
	t.Parallel()
	w := setup(t)
	u := w.signup(t, signupBody("Ada@Example.com", map[string]any{"username": "ada", "terms_accepted": []string{"*"}}))
	jti := w.refreshToken(t, u.ID)
	other := w.mustSignup(t, "bob@example.com")
	otherJTI := w.refreshToken(t, other.ID)
	w.c.Do(http.MethodPost, "/v1/users/send-reset-password-email/", map[string]string{"email": "ada@example.com"})

	refused := []struct {
		name string
		path string
		body any
		opts []apitest.Option
		code int
		want string
	}{
		{"missing password", "/v1/users/me/", map[string]any{}, []apitest.Option{apitest.Bearer(u.access)}, 400, `{"password":["This field is required."]}`},
		{"no body", "/v1/users/me/", nil, []apitest.Option{apitest.Bearer(u.access)}, 400, `{"password":["This field is required."]}`},
		{"wrong password", "/v1/users/me/", map[string]any{"password": "wrong password 1"}, []apitest.Option{apitest.Bearer(u.access)}, 400, `{"password":["The password is incorrect."]}`},
		{"password with extra spaces", "/v1/users/me/", map[string]any{"password": " " + strongPassword}, []apitest.Option{apitest.Bearer(u.access)}, 400, `{"password":["The password is incorrect."]}`},
		{"another user's id", "/v1/users/" + other.ID + "/", map[string]any{"password": strongPassword}, []apitest.Option{apitest.Bearer(u.access)}, 404, ""},
		{"no token", "/v1/users/me/", map[string]any{"password": strongPassword}, nil, 403, ""},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			resp := w.c.Do(http.MethodDelete, tc.path, tc.body, tc.opts...)
			if resp.Status != tc.code || (tc.want != "" && string(resp.Body) != tc.want) {
				t.Fatalf("%d %s, want %d %s", resp.Status, resp.Body, tc.code, tc.want)
			}
		})
	}
	w.me(t, u.access) // still there

	resp := w.c.Do(http.MethodDelete, "/v1/users/"+u.ID+"/", map[string]any{"password": strongPassword}, apitest.Bearer(u.access))
	if resp.Status != http.StatusNoContent || len(resp.Body) != 0 {
		t.Fatalf("delete: %d %q", resp.Status, resp.Body)
	}
	after := []struct {
		name string
		ok   func() bool
	}{
		{"the access token gets 403", func() bool {
			return w.c.Do(http.MethodGet, "/v1/users/me/", nil, apitest.Bearer(u.access)).Status == http.StatusForbidden
		}},
		{"a second delete gets 403", func() bool {
			return w.c.Do(http.MethodDelete, "/v1/users/me/", map[string]any{"password": strongPassword}, apitest.Bearer(u.access)).Status == http.StatusForbidden
		}},
		{"the refresh token is gone", func() bool { return !w.refreshTokenLives(t, u.ID, jti) }},
		{"another user's refresh token lives", func() bool { return w.refreshTokenLives(t, other.ID, otherJTI) }},
		{"the profile is gone", func() bool {
			_, err := w.env.Store.Account(context.Background(), u.ID)
			return err != nil
		}},
		{"the reset link no longer works", func() bool {
			email, tok := w.lastLink(t, "Ada@Example.com", "Reset") // the stored address, not the one typed
			r := w.c.Do(http.MethodPost, "/v1/users/reset-password/", map[string]any{"email": email, "token": tok,
				"new_password": strongPassword + "x", "new_password_confirm": strongPassword + "x"})
			return r.Status == http.StatusBadRequest
		}},
		{"the email and username can sign up again", func() bool {
			again := w.signup(t, signupBody("ada@EXAMPLE.com", map[string]any{"username": "ADA"}))
			return again.ID != u.ID && len(again.TermsNotAccepted) == 2 && !again.IsVerified
		}},
	}
	for _, a := range after {
		if !a.ok() {
			t.Errorf("after delete: %s: no", a.name)
		}
	}
}

func TestMethodsThatAPathDoesNotTakeAre405(t *testing.T) {
	t.Parallel()
	w := setup(t)
	cases := []struct{ method, path, allow string }{
		{http.MethodGet, "/v1/users/", "POST"},
		{http.MethodGet, "/v1/users/confirm-email/", "POST"},
		{http.MethodDelete, "/v1/users/change-password", "POST"},
		{http.MethodPost, "/v1/users/me/", "GET, PUT, PATCH, DELETE, HEAD"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp := w.c.Do(tc.method, tc.path, nil)
			if resp.Status != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != tc.allow {
				t.Fatalf("%d %s Allow %q; want 405 Allow %q", resp.Status, resp.Body, resp.Header.Get("Allow"), tc.allow)
			}
		})
	}
	// Straight through the handler too, since the OpenAPI router cannot
	// tell an action path from an {id}.
	rec := httptest.NewRecorder()
	usersapi.New(w.deps).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/users/reset-password", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET reset-password: %d %s", rec.Code, rec.Body)
	}
	if resp := w.c.Do(http.MethodGet, "/v1/users/me/extra/", nil); resp.Status != http.StatusNotFound {
		t.Fatalf("unknown path: %d %s", resp.Status, resp.Body)
	}
}
