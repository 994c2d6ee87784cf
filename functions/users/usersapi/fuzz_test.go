package usersapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/functions/users/usersapi"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
)

// fuzzBody sends arbitrary bodies to one route of a world holding one user
// (fuzz@example.com, with a confirmation and a reset token issued) and
// fails on a 5xx, which Serve also answers for a panic, and on any answer
// docs/openapi.yaml does not allow. Seeds are valid bodies and near misses.
func fuzzBody(f *testing.F, method, path string, auth bool, seeds ...string) {
	w := setup(f, withLog(discardLog))
	u := w.mustSignup(f, "fuzz@example.com")
	w.c.Do(http.MethodPost, resetMail, map[string]string{"email": "fuzz@example.com"})
	_, confirmTok := w.lastLink(f, "fuzz@example.com", "Confirm")
	_, resetTok := w.lastLink(f, "fuzz@example.com", "Reset")
	h := usersapi.New(w.deps)
	common := []string{``, `{}`, `[]`, `null`, `"x"`, `{"a":`, `{"email": {"$gt": ""}}`, `{"first_name": 1e400}`,
		`{"password": "\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000"}`, `{"email": "a@b.c\u0000"}`,
		`{"terms_accepted": [null, 1, {}]}`, `{"token": "` + strings.Repeat("A", 5000) + `"}`}
	for _, s := range append(common, seeds...) {
		f.Add(strings.NewReplacer("CONFIRM_TOKEN", confirmTok, "RESET_TOKEN", resetTok, "STRONG", strongPassword).Replace(s))
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth {
			req.Header.Set("Authorization", "Bearer "+u.access)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s with %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
		apitest.CheckOpenAPI(t, method, path, req.Header, &apitest.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()})
	})
}

func FuzzSignup(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/users/", false,
		`{"first_name":"Ada","last_name":"Lovelace","email":"a1@example.com","password":"STRONG","password_confirm":"STRONG"}`,
		`{"first_name":"Ada","last_name":"Lovelace","email":"FUZZ@example.com","password":"STRONG","password_confirm":"STRONG"}`,
		`{"first_name":"Ada","last_name":"Lovelace","username":"İstanbul","email":"a2@example.com","password":"STRONG","password_confirm":"STRONG","terms_accepted":["*","tos","nope"],"organization_code":"acme","phone":null,"age":20}`,
		`{"first_name":"  ","last_name":"Lo","email":"a3@example.com","password":"12345678","password_confirm":"12345678","organization_code":"NOPE"}`,
		`{"first_name":"Ada","last_name":"Lovelace","username":"a@b","email":"not an email","password":"short","password_confirm":"other"}`)
}

func FuzzPut(f *testing.F) {
	fuzzBody(f, http.MethodPut, "/v1/users/me/", true,
		`{"first_name":"Ada","last_name":"King","phone":null,"postcode":"","country":"UK","gender":null,"age":"36"}`,
		`{"first_name":null,"last_name":"King","phone":1,"postcode":[],"country":{},"gender":true,"age":"123456789012345678901"}`)
}

func FuzzPatch(f *testing.F) {
	fuzzBody(f, http.MethodPatch, "/v1/users/me/", true,
		`{"age":"37"}`, `{"first_name":"Augusta","email":"x@example.com","is_verified":true}`, `{"phone":null}`)
}

func FuzzDelete(f *testing.F) {
	fuzzBody(f, http.MethodDelete, "/v1/users/me/", true, `{"password":"wrong one"}`, `{"password":null}`, `{"password":["STRONG"]}`)
}

func FuzzConfirmEmail(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/users/confirm-email/", false,
		`{"email":"fuzz@example.com","token":"CONFIRM_TOKEN"}`, `{"email":"fuzz@example.com","token":"RESET_TOKEN"}`,
		`{"email":"FUZZ@EXAMPLE.COM","token":"CONFIRM_TOKENx"}`, `{"email":"nobody@example.com","token":"CONFIRM_TOKEN"}`)
}

func FuzzResendConfirmEmail(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/users/resend-confirm-email/", false,
		`{"email":"fuzz@example.com"}`, `{"email":"nobody@example.com"}`, `{"email":"fuzz"}`)
}

func FuzzSendResetPasswordEmail(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/users/send-reset-password-email/", false,
		`{"email":"fuzz@example.com"}`, `{"email":"nobody@example.com"}`, `{"email":"@example.com"}`)
}

func FuzzChangePassword(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/users/change-password/", true,
		`{"old_password":"STRONG","new_password":"another fine phrase 8","new_password_confirm":"another fine phrase 8"}`,
		`{"old_password":"nope","new_password":"123","new_password_confirm":"1234"}`)
}

func FuzzResetPassword(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/v1/users/reset-password/", false,
		`{"email":"fuzz@example.com","token":"RESET_TOKEN","new_password":"another fine phrase 8","new_password_confirm":"another fine phrase 8"}`,
		`{"email":"fuzz@example.com","token":"RESET_TOKEN","new_password":"fuzz@example.com","new_password_confirm":"fuzz@example.com"}`,
		`{"email":"fuzz@example.com","token":"CONFIRM_TOKEN","new_password":"x","new_password_confirm":"y"}`)
}
