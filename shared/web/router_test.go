package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pufinid/pufinid-api/shared/web"
)

// A group whose {id} path sits beside fixed action paths, as the users
// group's does: ServeMux alone cannot hold both with a method-less 405
// pattern, so the router dispatches methods itself.
func TestRouterDispatchesMethodsBesideAPathParameter(t *testing.T) {
	t.Parallel()
	r := web.NewRouter()
	answer := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("X-Handler", name+":"+req.PathValue("id"))
		})
	}
	r.Handle(http.MethodGet, "/v1/users/{id}", answer("get"))
	r.Handle(http.MethodDelete, "/v1/users/{id}", answer("delete"))
	r.Handle(http.MethodPost, "/v1/users/confirm-email", answer("confirm"))
	cases := []struct {
		method, path   string
		status         int
		handler, allow string
	}{
		{http.MethodGet, "/v1/users/me", 200, "get:me", ""},
		{http.MethodGet, "/v1/users/me/", 200, "get:me", ""},
		{http.MethodHead, "/v1/users/me", 200, "get:me", ""},
		{http.MethodDelete, "/v1/users/42", 200, "delete:42", ""},
		{http.MethodPost, "/v1/users/confirm-email/", 200, "confirm:", ""},
		{http.MethodGet, "/v1/users/confirm-email", 405, "", "POST"},
		{http.MethodPost, "/v1/users/me", 405, "", "GET, DELETE, HEAD"},
		{"PURGE", "/v1/users/me", 405, "", "GET, DELETE, HEAD"},
		{http.MethodGet, "/v1/users/me/more", 404, "", ""},
		{http.MethodGet, "/v1/users", 404, "", ""},
		// Paths not in clean form are not found: never the mux's 307
		// redirect to the clean path.
		{http.MethodGet, "/v1/users//me", 404, "", ""},
		{http.MethodGet, "//v1/users/me", 404, "", ""},
		{http.MethodGet, "/v1/users/me//", 404, "", ""},
		{http.MethodGet, "/v1/./users/me", 404, "", ""},
		{http.MethodGet, "/v1/x/../users/me", 404, "", ""},
		{http.MethodPost, "/v1/users/./confirm-email", 404, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.status || rec.Header().Get("X-Handler") != tc.handler || rec.Header().Get("Allow") != tc.allow {
				t.Fatalf("%d handler %q allow %q %s; want %d %q %q", rec.Code, rec.Header().Get("X-Handler"),
					rec.Header().Get("Allow"), rec.Body, tc.status, tc.handler, tc.allow)
			}
		})
	}
}

func TestIsCleanPath(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{
		"/": true, "/v1/terms": true, "/v1/terms/": true, "/v1/terms/privacy/accept/": true,
		"": false, "v1/terms": false, "//": false, "/v1//terms": false, "/v1/terms//": false,
		"/v1/./terms": false, "/v1/../terms": false, "/v1/terms/.": false, "/v1/terms/..": false,
	} {
		if got := web.IsCleanPath(p); got != want {
			t.Errorf("IsCleanPath(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestRouterRefusesARouteTwice(t *testing.T) {
	t.Parallel()
	r := web.NewRouter()
	r.Handle(http.MethodGet, "/v1/x", http.NotFoundHandler())
	defer func() {
		if recover() == nil {
			t.Fatal("registering GET /v1/x twice did not panic")
		}
	}()
	r.Handle(http.MethodGet, "/v1/x", http.NotFoundHandler())
}
