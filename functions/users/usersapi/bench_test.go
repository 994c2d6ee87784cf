package usersapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
)

// report adds DynamoDB requests per operation, counted since before.
func report(b *testing.B, w *world, before int64) {
	b.ReportMetric(float64(w.env.Requests.Load()-before)/float64(b.N), "ddb-req/op")
}

// BenchmarkSignup is a whole signup through the Lambda adapter: validation,
// two reads, argon2id hashing of the password (most of the time), the
// transaction and the email to the local outbox.
func BenchmarkSignup(b *testing.B) {
	w := setup(b, withLog(discardLog))
	w.c.SkipOpenAPI = true
	b.ReportAllocs()
	before := w.env.Requests.Load()
	i := 0
	for b.Loop() {
		i++
		body := signupBody(fmt.Sprintf("bench%d@example.com", i), map[string]any{"terms_accepted": []string{"*"}})
		if resp := w.c.Do(http.MethodPost, "/v1/users/", body); resp.Status != http.StatusCreated {
			b.Fatalf("%d %s", resp.Status, resp.Body)
		}
	}
	report(b, w, before)
}

func BenchmarkGetMe(b *testing.B) {
	w := setup(b, withLog(discardLog))
	u := w.mustSignup(b, "ada@example.com")
	w.c.SkipOpenAPI = true
	b.ReportAllocs()
	before := w.env.Requests.Load()
	for b.Loop() {
		if resp := w.c.Do(http.MethodGet, "/v1/users/me/", nil, apitest.Bearer(u.access)); resp.Status != http.StatusOK {
			b.Fatalf("%d %s", resp.Status, resp.Body)
		}
	}
	report(b, w, before)
}

// BenchmarkEmailRoutes times the two email-sending routes for an address
// with an account and one without: the difference is what the timing could
// tell an attacker. The clock moves a day per call so every call is within
// the address's budget (and so does the full work).
func BenchmarkEmailRoutes(b *testing.B) {
	for _, route := range sendRoutes {
		for _, addr := range []string{"ada@example.com", "nobody@example.com"} {
			b.Run(fmt.Sprintf("%s/%s", route.name, addr), func(b *testing.B) {
				w := setup(b, withLog(discardLog))
				w.mustSignup(b, "ada@example.com")
				w.c.SkipOpenAPI = true
				b.ReportAllocs()
				before := w.env.Requests.Load()
				for b.Loop() {
					w.env.Clock.Advance(25 * time.Hour)
					if resp := w.c.Do(http.MethodPost, route.path, map[string]string{"email": addr}); resp.Status != http.StatusOK {
						b.Fatalf("%d %s", resp.Status, resp.Body)
					}
				}
				report(b, w, before)
			})
		}
	}
}
