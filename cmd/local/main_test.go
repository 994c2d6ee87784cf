package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/docs"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
)

// syncBuffer collects the server's log while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// bytes is what was written so far.
func (s *syncBuffer) bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// lines decodes the JSON log lines written so far.
func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// mustStart runs the local server on a free port until the test ends and
// returns its base URL.
func mustStart(t *testing.T, args []string, env map[string]string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"local", "-port", "0"}, args...),
			func(k string) string { return env[k] }, logs, func(u string) { urls <- u }, nil)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run returned %v after shutdown", err)
		}
	})
	select {
	case u := <-urls:
		return u, logs
	case err := <-done:
		t.Fatalf("run returned before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start within 30s")
	}
	return "", nil
}

// mustDo sends a request to the running server; body, if not nil, is
// sent as JSON, and bearer, if not "", as the access token.
func mustDo(t *testing.T, method, url string, body ...any) *apitest.Response {
	t.Helper()
	return mustSend(t, method, url, "", body...)
}

func mustSend(t *testing.T, method, url, bearer string, body ...any) *apitest.Response {
	t.Helper()
	var rd io.Reader
	if len(body) > 0 {
		js, err := json.Marshal(body[0])
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &apitest.Response{Status: resp.StatusCode, Header: resp.Header, Body: got}
}

func TestServerAnswersOverRealHTTP(t *testing.T) {
	base, logs := mustStart(t, nil, nil)
	tests := []struct {
		name, method, path string
		status             int
		check              func(t *testing.T, resp *apitest.Response)
	}{
		{
			name: "faq topics of the demo fixture", method: "GET", path: "/v1/faq/topics/", status: 200,
			check: func(t *testing.T, resp *apitest.Response) {
				var page struct {
					Count   int              `json:"count"`
					Results []map[string]any `json:"results"`
				}
				resp.JSON(t, &page)
				if page.Count == 0 || len(page.Results) == 0 {
					t.Errorf("no topics: %s", resp.Body)
				}
			},
		},
		{name: "path without trailing slash", method: "GET", path: "/v1/faq/topics", status: 200},
		{name: "wrong method reaches the group's router", method: "DELETE", path: "/v1/faq/topics/", status: 405},
		{name: "unknown sub-path reaches the group's router", method: "GET", path: "/v1/faq/nothing/", status: 404},
		{name: "unknown route", method: "GET", path: "/v1/no-such-group/", status: 404},
		{name: "root", method: "GET", path: "/", status: 404},
		{
			name: "openapi document", method: "GET", path: "/openapi.yaml", status: 200,
			check: func(t *testing.T, resp *apitest.Response) {
				if !bytes.Equal(resp.Body, docs.OpenAPI) {
					t.Error("body is not docs/openapi.yaml")
				}
			},
		},
		{
			name: "outbox of sent emails", method: "GET", path: "/_aws/ses", status: 200,
			check: func(t *testing.T, resp *apitest.Response) {
				if m := resp.Map(t); m["messages"] == nil {
					t.Errorf("body %s has no messages list", resp.Body)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := mustDo(t, tc.method, base+tc.path)
			if resp.Status != tc.status {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, resp.Status, resp.Body, tc.status)
			}
			if strings.HasPrefix(tc.path, "/v1/") || tc.path == "/" {
				apitest.CheckOpenAPI(t, tc.method, tc.path, http.Header{}, resp)
			}
			if tc.status == 404 {
				if got := resp.Map(t)["detail"]; got != "Not found." {
					t.Errorf("detail %v, want \"Not found.\"", got)
				}
			}
			if tc.check != nil {
				tc.check(t, resp)
			}
		})
	}

	var listening, devKeyWarning bool
	for _, l := range logs.lines(t) {
		if l["msg"] == "serving the PufinID API" && l["url"] == base {
			listening = true
		}
		if strings.Contains(l["msg"].(string), "ephemeral Ed25519 key pair") && l["kid"] != nil {
			devKeyWarning = true
		}
	}
	if !listening {
		t.Error("no JSON log line gives the URL the server listens on")
	}
	if !devKeyWarning {
		t.Error("no line says the tokens are signed with an ephemeral key pair")
	}
}

func TestServerLoadsTheFixtureGiven(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fixture.json")
	fixture := `{"organizations": [{"id": "0b9f6e52-6a3e-4bd6-8f0c-1c4c5a1d2e3f", "name": "Demo", "code": null}],
		"faq_topics": [{"id": 7, "name": "Only topic", "sort_order": 0,
			"questions": [{"id": 1, "question": "Q?", "answer": "A.", "sort_order": 0}]}]}`
	if err := os.WriteFile(path, []byte(fixture), 0o644); err != nil {
		t.Fatal(err)
	}
	base, logs := mustStart(t, []string{"-fixtures", path}, nil)

	resp := mustDo(t, "GET", base+"/v1/faq/topics/7/")
	if resp.Status != 200 || resp.Map(t)["name"] != "Only topic" {
		t.Fatalf("GET the fixture's topic: %d %s", resp.Status, resp.Body)
	}
	if resp := mustDo(t, "GET", base+"/v1/faq/topics/"); resp.Map(t)["count"] != 1.0 {
		t.Errorf("the demo fixture was loaded too: %s", resp.Body)
	}
	for _, l := range logs.lines(t) {
		if msg, _ := l["msg"].(string); strings.Contains(msg, "JWT_SIGNING_KEY") {
			t.Errorf("warned about the signing key although JWT_SIGNING_KEY is set: %v", l)
		}
	}
}

func TestRunRefusesToStartWithBadSettings(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"faq_topics": [{"id": "one"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"invalid fixture", []string{"-fixtures", bad}, "invalid fixture"},
		{"missing fixture file", []string{"-fixtures", filepath.Join(dir, "none.json")}, "no such file"},
		{"missing template", []string{"-template", filepath.Join(dir, "template.yaml")}, "no such file"},
		{"unknown flag", []string{"-verbose"}, "flag provided but not defined"},
		{"stray argument", []string{"extra"}, "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			listened := false
			err := run(context.Background(), append([]string{"local", "-port", "0"}, tc.args...),
				func(string) string { return "" }, io.Discard, func(string) { listened = true }, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tc.wantErr)
			}
			if listened {
				t.Error("the server started listening")
			}
		})
	}
}

func TestSignupLoginAndConfirmationEmailAcrossFunctions(t *testing.T) {
	base, _ := mustStart(t, nil, nil)
	const email, pass = "ada@example.com", "Analytical-Engine-1843"

	resp := mustDo(t, "POST", base+"/v1/users/", map[string]any{
		"first_name": "Ada", "last_name": "Lovelace", "email": email,
		"password": pass, "password_confirm": pass, "terms_accepted": []string{"*"},
	})
	if resp.Status != http.StatusCreated {
		t.Fatalf("sign up: %d %s", resp.Status, resp.Body)
	}
	apitest.CheckOpenAPI(t, "POST", "/v1/users/", http.Header{"Content-Type": {"application/json"}}, resp)

	// The users function's mailer is the local outbox.
	var outbox struct {
		Messages []struct {
			Destination struct{ ToAddresses []string }
			Body        struct {
				Text string `json:"text_part"`
			}
		} `json:"messages"`
	}
	mustDo(t, "GET", base+"/_aws/ses?email="+email).JSON(t, &outbox)
	if len(outbox.Messages) != 1 || !strings.Contains(outbox.Messages[0].Body.Text, "http://app.localhost/confirm-email?email=") {
		t.Errorf("outbox after sign up: %+v", outbox)
	}

	// The token function signs the key the users function checks.
	var tokens struct{ Access string }
	resp = mustDo(t, "POST", base+"/v1/token/", map[string]string{"username": email, "password": pass})
	if resp.Status != http.StatusOK {
		t.Fatalf("log in: %d %s", resp.Status, resp.Body)
	}
	resp.JSON(t, &tokens)
	resp = mustSend(t, "GET", base+"/v1/users/me/", tokens.Access)
	if resp.Status != http.StatusOK || resp.Map(t)["email"] != email {
		t.Errorf("GET /v1/users/me/: %d %s", resp.Status, resp.Body)
	}
}

func TestServerUsesDynamoDBEndpointWhenSet(t *testing.T) {
	db := apitest.DB(t)
	const table = "cmd-local-endpoint-test"
	base, _ := mustStart(t, nil, map[string]string{"DYNAMODB_ENDPOINT": db.URL, "TABLE_NAME": table})
	if resp := mustDo(t, "GET", base+"/v1/faq/topics/"); resp.Status != http.StatusOK {
		t.Fatalf("GET topics: %d %s", resp.Status, resp.Body)
	}
	// Only that table fails: answering 503 proves the server reads it (a
	// page the FAQ function has not kept yet).
	db.FailTable(table)
	defer db.RecoverTable(table)
	if resp := mustDo(t, "GET", base+"/v1/faq/topics/?limit=1"); resp.Status != http.StatusServiceUnavailable {
		t.Errorf("GET topics with %s failing: %d %s, want 503", table, resp.Status, resp.Body)
	}
}
