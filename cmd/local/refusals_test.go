package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
)

// post sends body, as it is, to path through the local API Gateway.
func post(t *testing.T, gw http.Handler, path, bearer string, body []byte) *apitest.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	resp := &apitest.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	apitest.CheckOpenAPI(t, http.MethodPost, path, req.Header, resp)
	return resp
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fieldHas reports whether resp is a 400 whose field lists msg.
func fieldHas(t *testing.T, resp *apitest.Response, field, msg string) bool {
	t.Helper()
	var errs map[string][]string
	return resp.Status == http.StatusBadRequest && json.Unmarshal(resp.Body, &errs) == nil && slices.Contains(errs[field], msg)
}

const msgNoVisible = "This password contains no visible characters."

// The refusals of shared/web and shared/password reach the client from the
// users function as its other 400s do: a body that would decode lossily is
// a JSON parse error, before anything is created, and a password with
// nothing visible in it is a message on the field that carried it, at
// signup (password) and when changing it (new_password).
func TestLossyBodiesAndInvisiblePasswordsAreRefusedEndToEnd(t *testing.T) {
	t.Parallel()
	gw, _ := mustGateway(t)
	signup := func(email, pw string) map[string]any {
		return map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": email,
			"password": pw, "password_confirm": pw, "terms_accepted": []string{"*"}}
	}
	const good = "Analytical-Engine-1843"

	for _, tc := range []struct{ name, body string }{
		{"invalid UTF-8 in the email", `{"first_name": "Ada", "last_name": "Lovelace", "email": "ad` + "\xff" +
			`a@example.com", "password": "` + good + `", "password_confirm": "` + good + `", "terms_accepted": ["*"]}`},
		{"an unpaired surrogate in the email", `{"first_name": "Ada", "last_name": "Lovelace", "email": "ad\ud800a@example.com", ` +
			`"password": "` + good + `", "password_confirm": "` + good + `", "terms_accepted": ["*"]}`},
	} {
		resp := post(t, gw, "/v1/users/", "", []byte(tc.body))
		if d, _ := resp.Map(t)["detail"].(string); resp.Status != http.StatusBadRequest || !strings.HasPrefix(d, "JSON parse error - ") {
			t.Errorf("sign up with %s: %d %s; want 400 JSON parse error", tc.name, resp.Status, resp.Body)
		}
	}
	if resp := post(t, gw, "/v1/users/", "", mustJSON(t, signup("ada@example.com", good))); resp.Status != http.StatusCreated {
		t.Fatalf("sign up: %d %s", resp.Status, resp.Body)
	}

	for _, pw := range []string{"        ", "\t\t\t\t\t\t\t\t", "\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b", " \u00a0\u3000\u2060\ufeff\u00ad\u0301 "} {
		if resp := post(t, gw, "/v1/users/", "", mustJSON(t, signup("blank@example.com", pw))); !fieldHas(t, resp, "password", msgNoVisible) {
			t.Errorf("sign up with password %+q: %d %s; want %q on password", pw, resp.Status, resp.Body, msgNoVisible)
		}
	}

	var tokens struct{ Access string }
	resp := post(t, gw, "/v1/token/", "", mustJSON(t, map[string]string{"username": "ada@example.com", "password": good}))
	if resp.Status != http.StatusOK {
		t.Fatalf("log in: %d %s", resp.Status, resp.Body)
	}
	resp.JSON(t, &tokens)
	blank := strings.Repeat("\u3164", 8) // Hangul fillers, drawn as nothing
	resp = post(t, gw, "/v1/users/change-password/", tokens.Access, mustJSON(t, map[string]string{
		"old_password": good, "new_password": blank, "new_password_confirm": blank}))
	if !fieldHas(t, resp, "new_password", msgNoVisible) {
		t.Errorf("change password to %+q: %d %s; want %q on new_password", blank, resp.Status, resp.Body, msgNoVisible)
	}
}
