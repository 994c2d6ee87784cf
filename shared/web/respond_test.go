package web_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Bodies are written as DRF writes them: one line, no trailing newline,
// &, < and > left as they are, detail before code.
func TestJSONBodies(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		write  func(http.ResponseWriter, *http.Request)
		status int
		body   string
	}{
		{"page link", func(w http.ResponseWriter, r *http.Request) {
			web.JSON(w, r, http.StatusOK, map[string]any{"next": "https://x.test/v1/faq/topics/?limit=1&offset=1"})
		}, 200, `{"next":"https://x.test/v1/faq/topics/?limit=1&offset=1"}`},
		{"markup in text", func(w http.ResponseWriter, r *http.Request) {
			web.JSON(w, r, http.StatusOK, map[string]string{"text": "<b>terms</b>"})
		}, 200, `{"text":"<b>terms</b>"}`},
		{"not encodable", func(w http.ResponseWriter, r *http.Request) {
			web.JSON(w, r, http.StatusOK, map[string]any{"f": func() {}})
		}, 500, `{"detail":"A server error occurred."}`},
		{"token error", func(w http.ResponseWriter, r *http.Request) {
			web.Error(w, r, &apierror.Error{Code: apierror.NotAuthenticated, Message: "Token is invalid or expired", TokenCode: "token_not_valid"})
		}, 401, `{"detail":"Token is invalid or expired","code":"token_not_valid"}`},
		{"not an API error", func(w http.ResponseWriter, r *http.Request) {
			web.Error(w, r, errors.New("boom"))
		}, 500, `{"detail":"A server error occurred."}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			c.write(w, httptest.NewRequest(http.MethodGet, "/", nil))
			if w.Code != c.status || w.Body.String() != c.body || w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("got %d %s %q, want %d %s", w.Code, w.Header().Get("Content-Type"), w.Body, c.status, c.body)
			}
		})
	}
}

func TestAddVary(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		have []string // Vary lines already set
		add  []string
		want string
	}{
		{nil, []string{"Origin"}, "Origin"},
		{[]string{"Authorization"}, []string{"Origin"}, "Authorization, Origin"},
		{[]string{"origin"}, []string{"Origin"}, "origin"},
		{[]string{"Accept-Encoding, Origin"}, []string{"Authorization", "Origin"}, "Accept-Encoding, Origin, Authorization"},
		{[]string{"*"}, []string{"Origin"}, "*"},
		{[]string{" , "}, []string{"Origin"}, "Origin"},
		{[]string{"Authorization", "Accept-Encoding"}, []string{"Origin"}, "Authorization, Accept-Encoding, Origin"},
		{nil, nil, ""},
	} {
		h := http.Header{}
		for _, v := range tt.have {
			h.Add("Vary", v)
		}
		web.AddVary(h, tt.add...)
		if got := h.Values("Vary"); strings.Join(got, "|") != tt.want {
			t.Errorf("Vary %q + %q: %q, want %q in one line", tt.have, tt.add, got, tt.want)
		}
	}
}
