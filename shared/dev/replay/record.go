package replay

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// recorder is a reverse proxy in front of an AWS service endpoint (the
// embedded DynamoDB, the SES emulator) that notes the IAM action of every
// request passing through it. Each function gets its own, so the replay
// knows what each function's code really calls, in process and as a
// bootstrap, and can hold it against the function's template policies.
type recorder struct {
	URL     string
	actions func(*http.Request, []byte) []string
	srv     *http.Server

	mu   sync.Mutex
	seen map[string]bool
}

func newRecorder(target string, actions func(*http.Request, []byte) []string) (*recorder, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &recorder{URL: "http://" + ln.Addr().String(), actions: actions, seen: map[string]bool{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	r.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		for _, a := range r.actions(req, body) {
			r.seen[a] = true
		}
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	})}
	go func() {
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic("replay: recorder: " + err.Error())
		}
	}()
	return r, nil
}

// Actions lists the IAM actions seen so far, sorted.
func (r *recorder) Actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.seen))
}

func (r *recorder) Close() { _ = r.srv.Close() }

// dynamoActions maps a DynamoDB JSON API request to the IAM actions it
// needs. Transactions have no action of their own: IAM authorizes each
// item by the action of its kind.
func dynamoActions(req *http.Request, body []byte) []string {
	op, ok := strings.CutPrefix(req.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	if !ok {
		return []string{"dynamodb:?" + req.Header.Get("X-Amz-Target")}
	}
	switch op {
	case "TransactWriteItems":
		var in struct {
			TransactItems []map[string]json.RawMessage
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return []string{"dynamodb:TransactWriteItems(unreadable)"}
		}
		kinds := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
		var out []string
		for _, it := range in.TransactItems {
			for k := range it {
				if a, ok := kinds[k]; ok {
					out = append(out, "dynamodb:"+a)
				}
			}
		}
		return out
	case "TransactGetItems":
		return []string{"dynamodb:GetItem"}
	}
	return []string{"dynamodb:" + op}
}

// sesActions maps an SES v2 REST request to its IAM action.
func secretsActions(req *http.Request, _ []byte) []string {
	if op, ok := strings.CutPrefix(req.Header.Get("X-Amz-Target"), "secretsmanager."); ok {
		return []string{"secretsmanager:" + op}
	}
	return []string{"secretsmanager:?" + req.Header.Get("X-Amz-Target")}
}

func sesActions(req *http.Request, _ []byte) []string {
	if req.Method == http.MethodPost && strings.TrimSuffix(req.URL.Path, "/") == "/v2/email/outbound-emails" {
		return []string{"ses:SendEmail"}
	}
	return []string{"ses:?" + req.Method + " " + req.URL.Path}
}
