package usersapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/store"
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

// tokenCounts are the numbers of refresh tokens the session benchmarks
// give the user: what ending every session costs must not grow with them.
var tokenCounts = []int{1, 100, 5000}

// seedRefreshTokens gives userID the refresh tokens n logins within their
// lifetime leave, without the logins: the newest store.MaxRefreshTokens
// recorded as a login records them (the older ones the bound revoked),
// and the older ones as RTOKEN# items of the user's partition, as the
// store kept every token before the bound (it refuses those now and
// leaves them to the TTL): a table just after the change, where a user
// costs the most. Every token expires in a year.
func seedRefreshTokens(t testing.TB, w *world, userID string, n int) {
	t.Helper()
	ctx := context.Background()
	exp := w.env.Clock.Now().Add(365 * 24 * time.Hour)
	kept := min(n, store.MaxRefreshTokens)
	legacy := make([]map[string]any, 0, n-kept)
	for i := range n - kept {
		jti := fmt.Sprintf("legacy-%05d", i)
		legacy = append(legacy, map[string]any{store.AttrPK: "USER#" + userID, store.AttrSK: "RTOKEN#" + jti,
			"user_id": userID, "jti": jti, store.AttrTTL: exp.Unix(), "access_lifetime": 300})
	}
	if len(legacy) > 0 {
		w.env.PutItems(legacy...)
	}
	for i := range kept {
		rt := store.RefreshToken{UserID: userID, JTI: fmt.Sprintf("kept-%02d", i), ExpiresAt: exp.Add(time.Duration(i) * time.Second)}
		if err := w.env.Store.CreateRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkChangePassword is POST /v1/users/change-password/ for a user
// with 1, 100 and 5,000 refresh tokens (re-seeded before each call, since
// each call revokes them): two argon2id computations (the old password
// checked, the new one hashed) are most of the time. ddb-req/op counts
// the call's own DynamoDB requests, not the seeding's.
func BenchmarkChangePassword(b *testing.B) {
	for _, n := range tokenCounts {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			w := setup(b, withLog(discardLog))
			u := w.mustSignup(b, "ada@example.com")
			w.c.SkipOpenAPI = true
			passwords := [2]string{strongPassword, newPass}
			var requests int64
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				w.env.Clock.Advance(16 * time.Minute) // a window of password checks of its own
				seedRefreshTokens(b, w, u.ID, n)
				access := w.env.AccessToken(u.ID)
				before := w.env.Requests.Load()
				body := map[string]string{"old_password": passwords[i%2], "new_password": passwords[(i+1)%2], "new_password_confirm": passwords[(i+1)%2]}
				b.StartTimer()
				resp := w.c.Do(http.MethodPost, changePath, body, apitest.Bearer(access))
				b.StopTimer()
				requests += w.env.Requests.Load() - before
				if resp.Status != http.StatusOK {
					b.Fatalf("%d %s", resp.Status, resp.Body)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(requests)/float64(b.N), "ddb-req/op")
		})
	}
}

// BenchmarkDelete is DELETE /v1/users/me/ of a user with 1, 100 and 5,000
// refresh tokens (a new user for each call): one argon2id computation, the
// password check's counters, and the delete. ddb-req/op counts the call's
// own DynamoDB requests, not the signup's nor the seeding's.
func BenchmarkDelete(b *testing.B) {
	for _, n := range tokenCounts {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			w := setup(b, withLog(discardLog))
			w.c.SkipOpenAPI = true
			var requests int64
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				u := w.mustSignup(b, fmt.Sprintf("ada%d@example.com", i))
				seedRefreshTokens(b, w, u.ID, n)
				before := w.env.Requests.Load()
				b.StartTimer()
				resp := w.c.Do(http.MethodDelete, "/v1/users/me/", map[string]string{"password": strongPassword}, apitest.Bearer(u.access))
				b.StopTimer()
				requests += w.env.Requests.Load() - before
				if resp.Status != http.StatusNoContent {
					b.Fatalf("%d %s", resp.Status, resp.Body)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(requests)/float64(b.N), "ddb-req/op")
		})
	}
}
