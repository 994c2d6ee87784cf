package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/outbox"
)

// placeholders are what an event may leave for the replay to fill in. Any
// of them makes the replay create its user, Ana (through the users and
// token functions' own handlers, before the event is sent), and fill in
// her values.
var placeholders = map[string]string{
	"USER_ID":       "Ana's user id",
	"USER_EMAIL":    "Ana's email address",
	"USERNAME":      "Ana's username",
	"USER_PASSWORD": "Ana's password",
	"ACCESS_TOKEN":  "an access token of Ana's, from POST /v1/token/",
	"REFRESH_TOKEN": "a refresh token of Ana's, from POST /v1/token/",
	"CONFIRM_TOKEN": "the token of the confirmation email sent at Ana's signup",
	"RESET_TOKEN":   "the token of a password reset email sent to Ana",
}

// Ana, the replay's user. She signs up accepting the privacy policy only,
// so the terms events have one term accepted and one not.
const (
	anaEmail    = "ana.lima@example.com"
	anaUsername = "ana"
	anaPassword = "Harbour-Puffin-2024"
)

var anaSignup = map[string]any{
	"first_name": "Ana", "last_name": "Lima", "username": anaUsername, "email": anaEmail,
	"password": anaPassword, "password_confirm": anaPassword, "terms_accepted": []string{"privacy"},
	"country": "PT",
}

// prepare creates the state the event's placeholders need on table and
// returns their values (nil when the event has none).
func (r *Replayer) prepare(ctx context.Context, ev Event, table string) (map[string]string, error) {
	need := map[string]bool{}
	for _, m := range placeholderRE.FindAllSubmatch(ev.Raw, -1) {
		need[string(m[1])] = true
	}
	if len(need) == 0 {
		return nil, nil
	}
	vals := map[string]string{"USER_EMAIL": anaEmail, "USERNAME": anaUsername, "USER_PASSWORD": anaPassword}
	mail := outbox.New(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	users, err := r.setupHandler(ctx, "UsersFunction", table, mail)
	if err != nil {
		return nil, err
	}
	var created struct{ ID string }
	if err := call(users, http.MethodPost, "/v1/users/", anaSignup, http.StatusCreated, &created); err != nil {
		return nil, fmt.Errorf("signing Ana up: %w", err)
	}
	vals["USER_ID"] = created.ID
	if need["CONFIRM_TOKEN"] {
		if vals["CONFIRM_TOKEN"], err = emailedToken(mail, "/confirm-email"); err != nil {
			return nil, err
		}
	}
	if need["ACCESS_TOKEN"] || need["REFRESH_TOKEN"] {
		tokens, err := r.setupHandler(ctx, "TokenFunction", table, mail)
		if err != nil {
			return nil, err
		}
		var pair struct{ Access, Refresh string }
		if err := call(tokens, http.MethodPost, "/v1/token/", map[string]string{"username": anaUsername, "password": anaPassword}, http.StatusOK, &pair); err != nil {
			return nil, fmt.Errorf("logging Ana in: %w", err)
		}
		vals["ACCESS_TOKEN"], vals["REFRESH_TOKEN"] = pair.Access, pair.Refresh
	}
	if need["RESET_TOKEN"] {
		if err := call(users, http.MethodPost, "/v1/users/send-reset-password-email/", map[string]string{"email": anaEmail}, http.StatusOK, nil); err != nil {
			return nil, fmt.Errorf("asking for Ana's reset email: %w", err)
		}
		if vals["RESET_TOKEN"], err = emailedToken(mail, "/reset-password"); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// setupHandler builds a function's handler in process on table, behind
// that function's recorder, with its email kept in mail.
func (r *Replayer) setupHandler(ctx context.Context, function, table string, mail *outbox.Outbox) (http.Handler, error) {
	setup, ok := r.setup(function)
	if !ok {
		return nil, fmt.Errorf("%s has no in-process handler to create the state with", function)
	}
	f, ok := r.tmpl.Function(function)
	if !ok {
		return nil, fmt.Errorf("template.yaml has no %s", function)
	}
	env, err := r.env(f, table)
	if err != nil {
		return nil, err
	}
	return setup(ctx, config.Env{Getenv: mapEnv(env), Log: slog.New(slog.NewJSONHandler(r.opts.Logs, nil)), Mailer: mail})
}

// call sends one JSON request straight to h and decodes the answer into
// out, which must have status want.
func call(h http.Handler, method, path string, body any, want int, out any) error {
	js, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req := httptest.NewRequest(method, "https://api.pufinid.test"+path, bytes.NewReader(js))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = "192.0.2.1:40000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		return fmt.Errorf("%s %s: %d %s, want %d", method, path, rec.Code, rec.Body, want)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(rec.Body.Bytes(), out)
}

// emailedToken waits for the email to Ana whose link's path is linkPath
// and returns the link's token. The users function may send after
// answering, so the email can come a moment after the response.
func emailedToken(mail *outbox.Outbox, linkPath string) (string, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, m := range mail.Messages() {
			u, err := url.Parse(outbox.FirstURL(m.Body.Text))
			if err != nil || u.Path != linkPath || !strings.EqualFold(m.Destination.ToAddresses[0], anaEmail) {
				continue
			}
			if tok := u.Query().Get("token"); tok != "" {
				return tok, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no email with a %s link reached Ana within 5s", linkPath)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
