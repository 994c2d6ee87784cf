package tokenapi_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/argon2"

	"github.com/pufinid/pufinid-api/functions/token/tokenapi"
	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/password"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/token"
)

const (
	pw           = "correct horse battery staple"
	tokenInvalid = `{"detail":"Token is invalid or expired","code":"token_not_valid"}`
	noAccount    = `{"detail":"No active account found with the given credentials"}`
)

func setup(t testing.TB) (*apitest.Env, *apitest.Client) {
	t.Helper()
	env := apitest.New(t)
	d := tokenapi.Deps{Store: env.Store, Tokens: env.Tokens, Log: env.Log}
	return env, env.Client(tokenapi.New(d), tokenapi.Routes(d).Routes())
}

// hashes caches one argon2id hash per password: hashing is the slow part
// of creating test users and is not what these tests are about.
var hashes sync.Map

func hashOf(t testing.TB, p string) string {
	t.Helper()
	if h, ok := hashes.Load(p); ok {
		return h.(string)
	}
	h, err := password.Hash(p)
	if err != nil {
		t.Fatal(err)
	}
	hashes.Store(p, h)
	return h
}

type userOpt func(*pufinid.User)

func lifetimes(access, refresh int) userOpt {
	return func(u *pufinid.User) { u.AccessTokenLifetime, u.RefreshTokenLifetime = access, refresh }
}

func withHash(h string) userOpt { return func(u *pufinid.User) { u.PasswordHash = h } }

// mustUser creates user id with email id@example.com, username id, and pw.
func mustUser(t testing.TB, env *apitest.Env, id string, opts ...userOpt) pufinid.User {
	t.Helper()
	name := id
	u := pufinid.User{ID: id, Email: id + "@example.com", Username: &name, FirstName: new("F"), LastName: new("L"),
		PasswordHash: hashOf(t, pw), AccessTokenLifetime: 300, RefreshTokenLifetime: 86400, CreatedAt: env.Clock.Now()}
	for _, o := range opts {
		o(&u)
	}
	if err := env.Store.CreateUser(context.Background(), u, nil); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

type pair struct {
	Access           string `json:"access"`
	Refresh          string `json:"refresh"`
	AccessExpiresIn  int    `json:"access_expires_in"`
	RefreshExpiresIn int    `json:"refresh_expires_in"`
}

func mustLogin(t testing.TB, c *apitest.Client, login string) pair {
	t.Helper()
	resp := c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": login, "password": pw})
	if resp.Status != http.StatusOK {
		t.Fatalf("login %q: %d %s", login, resp.Status, resp.Body)
	}
	var p pair
	resp.JSON(t, &p)
	return p
}

func TestObtain(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	tests := []struct {
		name   string
		body   any
		status int
		want   string // exact body, unless empty
	}{
		{"by username", `{"username": "alice", "password": "` + pw + `"}`, 200, ""},
		{"by username in another case", map[string]string{"username": "ALICE", "password": pw}, 200, ""},
		{"by email", map[string]string{"username": "alice@example.com", "password": pw}, 200, ""},
		{"by email in another case", map[string]string{"username": "Alice@EXAMPLE.com", "password": pw}, 200, ""},
		{"username with surrounding spaces", map[string]string{"username": "  alice ", "password": pw}, 200, ""},
		{"unknown fields are ignored", map[string]any{"username": "alice", "password": pw, "remember": true}, 200, ""},
		{"wrong password", map[string]string{"username": "alice", "password": pw + "x"}, 401, noAccount},
		{"password is not trimmed", map[string]string{"username": "alice", "password": pw + " "}, 401, noAccount},
		{"password case matters", map[string]string{"username": "alice", "password": strings.ToUpper(pw)}, 401, noAccount},
		{"unknown username", map[string]string{"username": "bob", "password": pw}, 401, noAccount},
		{"unknown email", map[string]string{"username": "bob@example.com", "password": pw}, 401, noAccount},
		{"overlong username", map[string]string{"username": strings.Repeat("a", 5000), "password": pw}, 401, noAccount},
		{"empty body", map[string]string{}, 400, `{"password":["This field is required."],"username":["This field is required."]}`},
		{"missing password", map[string]string{"username": "alice"}, 400, `{"password":["This field is required."]}`},
		{"blank fields", map[string]string{"username": " ", "password": ""}, 400,
			`{"password":["This field may not be blank."],"username":["This field may not be blank."]}`},
		{"null username", `{"username": null, "password": "x"}`, 400, `{"username":["This field may not be null."]}`},
		{"username not a string", `{"username": ["alice"], "password": "x"}`, 400, `{"username":["Not a valid string."]}`},
		{"body not an object", `["alice"]`, 400, `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`},
		{"body not JSON", `{"username": `, 400, ""},
		{"not JSON by content type", apitest.Raw{ContentType: "text/plain", Body: []byte("username=alice")}, 415, ""},
		{"body too large", map[string]string{"username": "alice", "password": strings.Repeat("p", 70<<10)}, 413, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.Do(http.MethodPost, "/v1/token/", tc.body)
			if resp.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.Status, tc.status, resp.Body)
			}
			if tc.want != "" && string(resp.Body) != tc.want {
				t.Fatalf("body %s, want %s", resp.Body, tc.want)
			}
			if tc.status != 200 {
				return
			}
			var p pair
			resp.JSON(t, &p)
			if p.AccessExpiresIn != 300 || p.RefreshExpiresIn != 86400 {
				t.Errorf("lifetimes %d/%d, want 300/86400", p.AccessExpiresIn, p.RefreshExpiresIn)
			}
			assertClaims(t, env, p.Access, token.Access, "alice", 300*time.Second)
			assertClaims(t, env, p.Refresh, token.Refresh, "alice", 86400*time.Second)
		})
	}
}

func assertClaims(t *testing.T, env *apitest.Env, s string, typ token.Type, sub string, life time.Duration) {
	t.Helper()
	c, err := env.Tokens.Parse(context.Background(), s, typ)
	if err != nil {
		t.Fatalf("%s token does not parse as %s: %v", typ, typ, err)
	}
	if c.UserID() != sub || c.ExpiresAt.Sub(c.IssuedAt.Time) != life {
		t.Errorf("%s token: sub %q lifetime %v; want %q %v", typ, c.UserID(), c.ExpiresAt.Sub(c.IssuedAt.Time), sub, life)
	}
}

func TestDefaultLifetimesWhenTheOrganizationSetsNone(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice", lifetimes(0, 0))
	p := mustLogin(t, c, "alice")
	if p.AccessExpiresIn != 300 || p.RefreshExpiresIn != 86400 {
		t.Fatalf("lifetimes %d/%d, want the defaults 300/86400", p.AccessExpiresIn, p.RefreshExpiresIn)
	}
}

func TestOrganizationLifetimesApplyToLoginAndRefresh(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice", lifetimes(60, 600))
	mustUser(t, env, "bob", lifetimes(3600, 7*86400))
	for _, tc := range []struct {
		user            string
		access, refresh int
	}{{"alice", 60, 600}, {"bob", 3600, 7 * 86400}} {
		t.Run(tc.user, func(t *testing.T) {
			p := mustLogin(t, c, tc.user)
			if p.AccessExpiresIn != tc.access || p.RefreshExpiresIn != tc.refresh {
				t.Fatalf("lifetimes %d/%d, want %d/%d", p.AccessExpiresIn, p.RefreshExpiresIn, tc.access, tc.refresh)
			}
			assertClaims(t, env, p.Access, token.Access, tc.user, time.Duration(tc.access)*time.Second)
			assertClaims(t, env, p.Refresh, token.Refresh, tc.user, time.Duration(tc.refresh)*time.Second)
			resp := c.Do(http.MethodPost, "/v1/token/refresh/", map[string]string{"refresh": p.Refresh})
			var r struct {
				Access          string `json:"access"`
				AccessExpiresIn int    `json:"access_expires_in"`
			}
			resp.JSON(t, &r)
			if resp.Status != 200 || r.AccessExpiresIn != tc.access {
				t.Fatalf("refresh: %d %s", resp.Status, resp.Body)
			}
			assertClaims(t, env, r.Access, token.Access, tc.user, time.Duration(tc.access)*time.Second)
		})
	}
}

// Login and refresh tokens name the user's organization (token.Claims.
// Organization), which the PUF designs function reads alongside the
// profile; a user of no organization gets no claim.
func TestTokensNameTheUsersOrganization(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	const org = "0a000000-0000-4000-8000-00000000000a"
	mustUser(t, env, "alice", func(u *pufinid.User) { u.OrganizationID = org })
	mustUser(t, env, "bob")
	for _, tc := range []struct{ user, org string }{{"alice", org}, {"bob", ""}} {
		p := mustLogin(t, c, tc.user)
		resp := c.Do(http.MethodPost, "/v1/token/refresh/", map[string]string{"refresh": p.Refresh})
		var r struct {
			Access string `json:"access"`
		}
		resp.JSON(t, &r)
		if resp.Status != http.StatusOK {
			t.Fatalf("refresh: %d %s", resp.Status, resp.Body)
		}
		for name, tok := range map[string]string{"login's access": p.Access, "login's refresh": p.Refresh, "refreshed access": r.Access} {
			claims, err := env.Tokens.Parse(context.Background(), tok, "")
			if err != nil {
				t.Fatal(err)
			}
			if claims.Organization != tc.org {
				t.Errorf("%s: %s token names organization %q, want %q", tc.user, name, claims.Organization, tc.org)
			}
		}
	}
}

func TestRefreshKeepsTheRefreshTokensOwnExpiry(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice", lifetimes(60, 600))
	p := mustLogin(t, c, "alice")
	for _, step := range []struct {
		advance time.Duration
		status  int
	}{
		{0, 200},
		{300 * time.Second, 200},
		{299 * time.Second, 200}, // 599 s after login
		{time.Second, 401},       // 600 s: the refresh token is dead, however often it refreshed
	} {
		env.Clock.Advance(step.advance)
		resp := c.Do(http.MethodPost, "/v1/token/refresh/", map[string]string{"refresh": p.Refresh})
		if resp.Status != step.status {
			t.Fatalf("at %v: %d %s, want %d", env.Clock.Now(), resp.Status, resp.Body, step.status)
		}
		if resp.Status == 200 {
			var r struct{ Access string }
			resp.JSON(t, &r)
			assertClaims(t, env, r.Access, token.Access, "alice", 60*time.Second)
		} else if string(resp.Body) != tokenInvalid {
			t.Fatalf("body %s", resp.Body)
		}
	}
}

func TestRevocationIsSeenAtOnce(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	p := mustLogin(t, c, "alice")
	other := mustLogin(t, c, "alice")
	steps := []struct {
		name, path, field string
		tok               string
		status            int
		body              string
	}{
		{"verify refresh before revoke", "/v1/token/verify/", "token", p.Refresh, 200, `{}`},
		{"revoke", "/v1/token/revoke/", "refresh", p.Refresh, 200, `{}`},
		{"refresh after revoke", "/v1/token/refresh/", "refresh", p.Refresh, 401, tokenInvalid},
		{"verify after revoke", "/v1/token/verify/", "token", p.Refresh, 401, tokenInvalid},
		{"revoke again", "/v1/token/revoke/", "refresh", p.Refresh, 401, tokenInvalid},
		{"access token of the revoked pair still verifies", "/v1/token/verify/", "token", p.Access, 200, `{}`},
		{"the other session still refreshes", "/v1/token/refresh/", "refresh", other.Refresh, 200, ""},
		{"an access token cannot be revoked", "/v1/token/revoke/", "refresh", other.Access, 401, tokenInvalid},
	}
	for _, s := range steps {
		resp := c.Do(http.MethodPost, s.path, map[string]string{s.field: s.tok})
		if resp.Status != s.status || (s.body != "" && string(resp.Body) != s.body) {
			t.Fatalf("%s: %d %s; want %d %s", s.name, resp.Status, resp.Body, s.status, s.body)
		}
	}
}

func TestParallelRevokesSucceedOnce(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	p := mustLogin(t, c, "alice")
	const n = 10
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			statuses <- c.Do(http.MethodPost, "/v1/token/revoke/", map[string]string{"refresh": p.Refresh}).Status
		})
	}
	wg.Wait()
	close(statuses)
	got := map[int]int{}
	for s := range statuses {
		got[s]++
	}
	if got[200] != 1 || got[401] != n-1 {
		t.Fatalf("statuses %v, want one 200 and %d 401", got, n-1)
	}
}

func TestPasswordChangeRevokesEveryRefreshToken(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	u := mustUser(t, env, "alice")
	a, b := mustLogin(t, c, "alice"), mustLogin(t, c, "alice")
	if err := env.Store.ChangePassword(context.Background(), "alice", u.PasswordHash, hashOf(t, pw+" changed")); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{a.Refresh, b.Refresh} {
		for _, path := range []string{"/v1/token/refresh/", "/v1/token/revoke/"} {
			if resp := c.Do(http.MethodPost, path, map[string]string{"refresh": tok}); resp.Status != 401 {
				t.Fatalf("%s after a password change: %d %s", path, resp.Status, resp.Body)
			}
		}
		if resp := c.Do(http.MethodPost, "/v1/token/verify/", map[string]string{"token": tok}); resp.Status != 401 {
			t.Fatalf("verify after a password change: %d %s", resp.Status, resp.Body)
		}
	}
}

// A login past store.MaxRefreshTokens live tokens revokes the one that
// expires first, and keeps every other.
func TestLoginsKeepTheNewestRefreshTokens(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	u := mustUser(t, env, "alice")
	ctx := context.Background()
	// The older sessions, recorded directly (logins are capped): each
	// expires a second after the one before, all before a login's.
	var older []string
	for i := range store.MaxRefreshTokens - 1 {
		jti := fmt.Sprint("older-", i)
		exp := env.Clock.Now().Add(time.Hour + time.Duration(i)*time.Second)
		if err := env.Store.CreateRefreshToken(ctx, store.RefreshToken{UserID: u.ID, JTI: jti, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		older = append(older, jti)
	}
	first := mustLogin(t, c, "alice") // the 50th: nothing revoked
	if _, err := env.Store.RefreshToken(ctx, u.ID, older[0]); err != nil {
		t.Fatalf("the oldest token after the 50th login: %v", err)
	}
	second := mustLogin(t, c, "alice") // the 51st: the oldest goes
	if _, err := env.Store.RefreshToken(ctx, u.ID, older[0]); !apierror.Is(err, apierror.NotFound) {
		t.Fatalf("the oldest token after the 51st login: %v, want revoked", err)
	}
	for _, jti := range older[1:] {
		if _, err := env.Store.RefreshToken(ctx, u.ID, jti); err != nil {
			t.Fatalf("token %s after the 51st login: %v", jti, err)
		}
	}
	for _, p := range []pair{first, second} {
		if resp := c.Do(http.MethodPost, "/v1/token/refresh/", map[string]string{"refresh": p.Refresh}); resp.Status != 200 {
			t.Fatalf("refresh with a login's token: %d %s", resp.Status, resp.Body)
		}
	}
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// forgeries are tokens an attacker could make from a genuine one (claims
// copied from a real token, so only the forged part differs).
func forgeries(t *testing.T, env *apitest.Env, genuine string) map[string]string {
	t.Helper()
	var claims token.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(genuine, &claims); err != nil {
		t.Fatal(err)
	}
	k, _ := apitest.SigningKeys.Current()
	sign := func(m jwt.SigningMethod, key any, c jwt.Claims) string {
		t.Helper()
		tk := jwt.NewWithClaims(m, c)
		tk.Header["kid"] = k.ID // every forgery names the real key
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	rsaOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	out := map[string]string{
		"alg none":                           sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims),
		"HS256 keyed with the public key":    sign(jwt.SigningMethodHS256, []byte(k.Public), claims),
		"RS256":                              sign(jwt.SigningMethodRS256, rsaKey, claims),
		"EdDSA by another key, the real kid": sign(jwt.SigningMethodEdDSA, otherKey, claims),
		"garbage":                            "not-a-jwt",
		"signature dropped":                  genuine[:strings.LastIndex(genuine, ".")+1],
	}
	// Tampered payload: another user, the genuine signature.
	parts := strings.Split(genuine, ".")
	var payload map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(raw, &payload)
	payload["sub"] = "mallory"
	raw, _ = json.Marshal(payload)
	out["tampered payload"] = parts[0] + "." + base64.RawURLEncoding.EncodeToString(raw) + "." + parts[2]
	// Right key, wrong claims.
	noType := claims
	noType.TokenType = ""
	out["no token type"] = sign(jwt.SigningMethodEdDSA, k.Private, noType)
	otherIss := claims
	otherIss.Issuer = "someone-else"
	out["another issuer"] = sign(jwt.SigningMethodEdDSA, k.Private, otherIss)
	noExp := claims
	noExp.ExpiresAt = nil
	out["no expiry"] = sign(jwt.SigningMethodEdDSA, k.Private, noExp)
	return out
}

func TestForgedTokensAreRefused(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	p := mustLogin(t, c, "alice")
	routes := []struct{ path, field string }{
		{"/v1/token/refresh/", "refresh"}, {"/v1/token/revoke/", "refresh"}, {"/v1/token/verify/", "token"},
	}
	for name, forged := range forgeries(t, env, p.Refresh) {
		for _, r := range routes {
			t.Run(name+" "+r.path, func(t *testing.T) {
				resp := c.Do(http.MethodPost, r.path, map[string]string{r.field: forged})
				if resp.Status != 401 || string(resp.Body) != tokenInvalid {
					t.Fatalf("%d %s", resp.Status, resp.Body)
				}
			})
		}
	}
	for name, forged := range forgeries(t, env, p.Access) {
		t.Run("access "+name+" on verify", func(t *testing.T) {
			resp := c.Do(http.MethodPost, "/v1/token/verify/", map[string]string{"token": forged})
			if resp.Status != 401 || string(resp.Body) != tokenInvalid {
				t.Fatalf("%d %s", resp.Status, resp.Body)
			}
		})
	}
	// The genuine tokens still work: the forgeries were refused for what they are.
	if resp := c.Do(http.MethodPost, "/v1/token/refresh/", map[string]string{"refresh": p.Refresh}); resp.Status != 200 {
		t.Fatalf("genuine refresh: %d %s", resp.Status, resp.Body)
	}
}

func TestTokensOfTheWrongTypeAreRefused(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	p := mustLogin(t, c, "alice")
	for _, path := range []string{"/v1/token/refresh/", "/v1/token/revoke/"} {
		resp := c.Do(http.MethodPost, path, map[string]string{"refresh": p.Access})
		if resp.Status != 401 || string(resp.Body) != tokenInvalid {
			t.Errorf("access token on %s: %d %s", path, resp.Status, resp.Body)
		}
	}
	// A refresh token is not an access token on routes that need one.
	req := httptest.NewRequest(http.MethodGet, "/v1/users/me/", nil)
	req.Header.Set("Authorization", "Bearer "+p.Refresh)
	if _, err := env.Tokens.Authenticate(req); err == nil {
		t.Error("a refresh token authenticates as an access token")
	}
}

func TestExpiredTokensAreRefused(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice", lifetimes(60, 600))
	p := mustLogin(t, c, "alice")
	env.Clock.Advance(60 * time.Second)
	if resp := c.Do(http.MethodPost, "/v1/token/verify/", map[string]string{"token": p.Access}); resp.Status != 401 {
		t.Errorf("expired access token verifies: %d", resp.Status)
	}
	if resp := c.Do(http.MethodPost, "/v1/token/verify/", map[string]string{"token": p.Refresh}); resp.Status != 200 {
		t.Errorf("live refresh token refused: %d", resp.Status)
	}
	env.Clock.Advance(540 * time.Second)
	for _, path := range []string{"/v1/token/verify/", "/v1/token/refresh/", "/v1/token/revoke/"} {
		field := "refresh"
		if strings.Contains(path, "verify") {
			field = "token"
		}
		if resp := c.Do(http.MethodPost, path, map[string]string{field: p.Refresh}); resp.Status != 401 || string(resp.Body) != tokenInvalid {
			t.Errorf("expired refresh token on %s: %d %s", path, resp.Status, resp.Body)
		}
	}
}

func TestDeletedAccountsTokensFail(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	u := mustUser(t, env, "alice")
	p := mustLogin(t, c, "alice")
	if err := env.Store.DeleteUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if resp := c.Do(http.MethodPost, "/v1/token/refresh/", map[string]string{"refresh": p.Refresh}); resp.Status != 401 {
		t.Errorf("refresh of a deleted account: %d %s", resp.Status, resp.Body)
	}
	if resp := c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": "alice", "password": pw}); resp.Status != 401 {
		t.Errorf("login of a deleted account: %d %s", resp.Status, resp.Body)
	}
}

func TestTokenFieldErrors(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	tests := []struct{ path, body, want string }{
		{"/v1/token/refresh/", `{}`, `{"refresh":["This field is required."]}`},
		{"/v1/token/revoke/", `{"refresh": ""}`, `{"refresh":["This field may not be blank."]}`},
		{"/v1/token/verify/", `{"refresh": "x"}`, `{"token":["This field is required."]}`},
		{"/v1/token/verify/", `{"token": null}`, `{"token":["This field may not be null."]}`},
		{"/v1/token/verify/", `{"token": {"a": 1}}`, `{"token":["Not a valid string."]}`},
	}
	for _, tc := range tests {
		t.Run(tc.path+" "+tc.body, func(t *testing.T) {
			resp := c.Do(http.MethodPost, tc.path, tc.body)
			if resp.Status != 400 || string(resp.Body) != tc.want {
				t.Fatalf("%d %s, want 400 %s", resp.Status, resp.Body, tc.want)
			}
		})
	}
	for _, path := range []string{"/v1/token/", "/v1/token/refresh/", "/v1/token/revoke/", "/v1/token/verify/"} {
		if resp := c.Do(http.MethodPost, path, apitest.Raw{ContentType: "application/xml", Body: []byte("<a/>")}); resp.Status != 415 {
			t.Errorf("%s with XML: %d", path, resp.Status)
		}
		if resp := c.Do(http.MethodGet, path, nil); resp.Status != 405 || string(resp.Body) != `{"detail":"Method \"GET\" not allowed."}` {
			t.Errorf("GET %s: %d %s", path, resp.Status, resp.Body)
		}
	}
}

func TestPathsWorkWithoutTrailingSlash(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	p := mustLogin(t, c, "alice")
	resp := c.Do(http.MethodPost, "/v1/token", map[string]string{"username": "alice", "password": pw})
	if resp.Status != 200 {
		t.Fatalf("/v1/token: %d", resp.Status)
	}
	// In this order: revoking first would make the refresh fail.
	for _, tc := range []struct {
		path string
		body map[string]string
	}{
		{"/v1/token/verify", map[string]string{"token": p.Access}},
		{"/v1/token/refresh", map[string]string{"refresh": p.Refresh}},
		{"/v1/token/revoke", map[string]string{"refresh": p.Refresh}},
	} {
		if resp := c.Do(http.MethodPost, tc.path, tc.body); resp.Status != 200 {
			t.Errorf("%s: %d %s", tc.path, resp.Status, resp.Body)
		}
	}
}

func TestFailedLoginsThrottleTheAccount(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	mustUser(t, env, "bob")
	wrong := map[string]string{"username": "alice", "password": "wrong password"}
	right := map[string]string{"username": "alice", "password": pw}
	for i := range 5 {
		// Failures by username and by email count for the same account.
		login := "alice"
		if i%2 == 1 {
			login = "ALICE@example.com"
		}
		resp := c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": login, "password": "wrong password"})
		if resp.Status != 401 {
			t.Fatalf("failure %d: %d %s", i+1, resp.Status, resp.Body)
		}
		env.Clock.Advance(time.Minute)
	}
	// The window opened at the first failure, 5 minutes ago: 600 s remain.
	for _, body := range []map[string]string{wrong, right, {"username": "alice@example.com", "password": pw}} {
		resp := c.Do(http.MethodPost, "/v1/token/", body)
		if resp.Status != 429 || resp.Header.Get("Retry-After") != "600" ||
			string(resp.Body) != `{"detail":"Request was throttled. Expected available in 600 seconds."}` {
			t.Fatalf("locked account: %d %q %s", resp.Status, resp.Header.Get("Retry-After"), resp.Body)
		}
	}
	if p := mustLogin(t, c, "bob"); p.Access == "" {
		t.Fatal("another account is locked too")
	}
	env.Clock.Advance(599 * time.Second)
	if resp := c.Do(http.MethodPost, "/v1/token/", right); resp.Status != 429 || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("a second before the window passes: %d %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	env.Clock.Advance(time.Second)
	mustLogin(t, c, "alice")
}

// A right password among wrong ones does not wipe the source's failures
// (they age out with their window), so it buys an attacker who guesses in
// parallel no more wrong guesses; the right one itself is not counted.
func TestASuccessfulLoginDoesNotWipeTheSourcesFailures(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	wrong := map[string]string{"username": "alice", "password": "nope"}
	for range 4 {
		if resp := c.Do(http.MethodPost, "/v1/token/", wrong); resp.Status != 401 {
			t.Fatalf("failure: %d", resp.Status)
		}
	}
	mustLogin(t, c, "alice")
	mustLogin(t, c, "alice")
	if resp := c.Do(http.MethodPost, "/v1/token/", wrong); resp.Status != 401 {
		t.Fatalf("fifth failure: %d", resp.Status)
	}
	if resp := c.Do(http.MethodPost, "/v1/token/", wrong); resp.Status != 429 {
		t.Fatalf("sixth failure: %d, want 429", resp.Status)
	}
}

func TestUnknownAccountsAnswerLikeKnownOnes(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	for _, login := range []string{"alice", "nobody"} {
		var last *apitest.Response
		for range 6 {
			last = c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": login, "password": "nope"})
		}
		// Checks of a moment ago may still be running (and be given back
		// if right): retry in a second; once they cannot be, the window.
		if last.Status != 429 || last.Header.Get("Retry-After") != "1" {
			t.Errorf("%s right after 5 failures: %d %q %s", login, last.Status, last.Header.Get("Retry-After"), last.Body)
		}
		env.Clock.Advance(10 * time.Second)
		last = c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": login, "password": "nope"})
		if last.Status != 429 || last.Header.Get("Retry-After") != "890" {
			t.Errorf("%s 10 s after 5 failures: %d %q %s", login, last.Status, last.Header.Get("Retry-After"), last.Body)
		}
	}
}

// Parallel logins of one user from one address, all with the right
// password: the ones past the source's 5 reservations in flight are told
// to retry in a second, and then log in, as the first ones gave theirs
// back.
func TestParallelRightPasswordsFromOneSourceAllLogIn(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		retry int
	)
	body := map[string]string{"username": "alice", "password": pw}
	for range 10 {
		wg.Go(func() {
			resp := c.Do(http.MethodPost, "/v1/token/", body)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case resp.Status == 200:
			case resp.Status == 429 && resp.Header.Get("Retry-After") == "1":
				retry++
			default:
				t.Errorf("parallel right password: %d %q %s", resp.Status, resp.Header.Get("Retry-After"), resp.Body)
			}
		})
	}
	wg.Wait()
	env.Clock.Advance(time.Second)
	for range retry {
		mustLogin(t, c, "alice")
	}
}

func TestFailedLoginsThrottleTheSourceIP(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("50 password checks")
	}
	env, c := setup(t)
	mustUser(t, env, "alice")
	attacker, other := apitest.From("203.0.113.9"), apitest.From("198.51.100.20")
	for i := range store.SourceIPFailureLimit {
		// 50 different names, each far under the per-account limit.
		resp := c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": fmt.Sprint("guess", i), "password": "x"}, attacker)
		if resp.Status != 401 {
			t.Fatalf("failure %d: %d %s", i, resp.Status, resp.Body)
		}
	}
	right := map[string]string{"username": "alice", "password": pw}
	if resp := c.Do(http.MethodPost, "/v1/token/", right, attacker); resp.Status != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("51st attempt from the IP: %d %s", resp.Status, resp.Body)
	}
	if resp := c.Do(http.MethodPost, "/v1/token/", right, other); resp.Status != 200 {
		t.Fatalf("another IP is throttled: %d %s", resp.Status, resp.Body)
	}
}

// weakHash is a PHC hash under parameters weaker than today's, as stored
// before a parameter raise.
func weakHash(p string) string {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte(p), salt, 1, 8192, 1, 32)
	return fmt.Sprintf("$argon2id$v=19$m=8192,t=1,p=1$%s$%s",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func TestLoginUpgradesAWeakHash(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice", withHash(weakHash(pw)))
	before := env.Requests.Load()
	mustLogin(t, c, "alice")
	if n := env.Requests.Load() - before; n > 6 && env.Faults == nil {
		t.Errorf("login with rehash took %d DynamoDB requests, want at most 6", n)
	}
	acct, err := env.Store.Account(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(acct.User.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash not upgraded: %.40s", acct.User.PasswordHash)
	}
	if ok, rehash, err := password.Verify(pw, acct.User.PasswordHash); !ok || rehash || err != nil {
		t.Fatalf("upgraded hash: ok %v rehash %v err %v", ok, rehash, err)
	}
	mustLogin(t, c, "alice")
}

func TestDynamoDBRequestsPerCall(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	p := mustLogin(t, c, "alice")
	tests := []struct {
		name string
		path string
		body map[string]string
		max  int64
	}{
		{"verify access", "/v1/token/verify/", map[string]string{"token": p.Access}, 0},
		{"verify refresh", "/v1/token/verify/", map[string]string{"token": p.Refresh}, 1},
		{"refresh", "/v1/token/refresh/", map[string]string{"refresh": p.Refresh}, 2},
		// A login: two lookups, then its password check reserved on three
		// counters (the account from this source, the source, the account),
		// then, when right, one transaction.
		{"failed login", "/v1/token/", map[string]string{"username": "alice", "password": "x"}, 5},
		{"login clearing failures", "/v1/token/", map[string]string{"username": "alice", "password": pw}, 6},
		{"login", "/v1/token/", map[string]string{"username": "alice", "password": pw}, 6},
		{"unknown login", "/v1/token/", map[string]string{"username": "nobody", "password": pw}, 5},
		{"forged token", "/v1/token/verify/", map[string]string{"token": "x.y.z"}, 0},
		{"revoke", "/v1/token/revoke/", map[string]string{"refresh": p.Refresh}, 1},
	}
	for _, tc := range tests {
		before := env.Requests.Load()
		resp := c.Do(http.MethodPost, tc.path, tc.body)
		if resp.Status >= 500 {
			t.Fatalf("%s: %d", tc.name, resp.Status)
		}
		if n := env.Requests.Load() - before; n > tc.max && env.Faults == nil {
			t.Errorf("%s: %d DynamoDB requests, want at most %d", tc.name, n, tc.max)
		}
	}
}

func TestOutageIs503(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	p := mustLogin(t, c, "alice")
	defer env.Outage()()
	for _, tc := range []struct {
		path string
		body map[string]string
	}{
		{"/v1/token/", map[string]string{"username": "alice", "password": pw}},
		{"/v1/token/", map[string]string{"username": "nobody@example.com", "password": "x"}},
		{"/v1/token/refresh/", map[string]string{"refresh": p.Refresh}},
		{"/v1/token/revoke/", map[string]string{"refresh": p.Refresh}},
		{"/v1/token/verify/", map[string]string{"token": p.Refresh}},
	} {
		resp := c.Do(http.MethodPost, tc.path, tc.body)
		if resp.Status != 503 || string(resp.Body) != `{"detail":"Service temporarily unavailable."}` {
			t.Errorf("%s during an outage: %d %s", tc.path, resp.Status, resp.Body)
		}
	}
	// Verifying an access token needs no DynamoDB at all.
	if resp := c.Do(http.MethodPost, "/v1/token/verify/", map[string]string{"token": p.Access}); resp.Status != 200 {
		t.Errorf("verify access during an outage: %d %s", resp.Status, resp.Body)
	}
}

func TestLoginDuringAnOutageCountsNothing(t *testing.T) {
	t.Parallel()
	env, c := setup(t)
	mustUser(t, env, "alice")
	recover := env.Outage()
	for range 6 {
		c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": "alice", "password": "x"})
	}
	recover()
	mustLogin(t, c, "alice")
}

// fuzzRoute sends each body to path and checks the answer is never a 5xx
// (and, through the client, that it matches the OpenAPI document). One
// table with alice in it serves every input of a fuzzing process, since a
// new table and user per input would cost more than the request; the
// clock moves a throttle window per input so earlier inputs' failed logins
// do not turn every later one into a 429.
func fuzzRoute(f *testing.F, path string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	base := apitest.New(f)
	mustUser(f, base, "alice")
	f.Fuzz(func(t *testing.T, body []byte) {
		env := base.For(t)
		env.Clock.Advance(store.CheckWindow)
		d := tokenapi.Deps{Store: env.Store, Tokens: env.Tokens, Log: env.Log}
		c := env.Client(tokenapi.New(d), tokenapi.Routes(d).Routes())
		resp := c.Do(http.MethodPost, path, apitest.Raw{ContentType: "application/json", Body: body})
		if resp.Status >= 500 {
			t.Fatalf("%s %q: %d %s", path, body, resp.Status, resp.Body)
		}
	})
}

func FuzzObtain(f *testing.F) {
	fuzzRoute(f, "/v1/token/",
		`{"username": "alice", "password": "`+pw+`"}`,
		`{"username": "ALICE@example.com", "password": "`+pw+`"}`,
		`{"username": "alice", "password": 12345678}`,
		`{"username": "a\u0000@x", "password": ""}`,
		`{"username": {"$ne": null}, "password": {"$ne": null}}`,
		`{}`, `[]`, `null`, `"x"`, `{"username": "`+strings.Repeat("é", 300)+`", "password": "x"}`)
}

func FuzzRefresh(f *testing.F) {
	fuzzRoute(f, "/v1/token/refresh/", `{"refresh": "a.b.c"}`, `{"refresh": 1}`, `{"refresh": ["x"]}`, `{}`,
		`{"refresh": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."}`)
}

func FuzzRevoke(f *testing.F) {
	fuzzRoute(f, "/v1/token/revoke/", `{"refresh": "a.b.c"}`, `{"refresh": null}`, `{"refresh": ""}`, `{`)
}

func FuzzVerify(f *testing.F) {
	fuzzRoute(f, "/v1/token/verify/", `{"token": "a.b.c"}`, `{"token": true}`, `{"token": "..."}`, `{"token": "`+strings.Repeat("A", 4000)+`"}`)
}

func BenchmarkLogin(b *testing.B) {
	env, c := setup(b)
	mustUser(b, env, "alice")
	c.SkipOpenAPI = true
	body := map[string]string{"username": "alice", "password": pw}
	benchLoop(b, env, func() *apitest.Response {
		env.Clock.Advance(store.CheckWindow) // one check per window: never at the account's cap
		return c.Do(http.MethodPost, "/v1/token/", body)
	})
}

func BenchmarkRefresh(b *testing.B) {
	env, c := setup(b)
	mustUser(b, env, "alice")
	p := mustLogin(b, c, "alice")
	c.SkipOpenAPI = true
	body := map[string]string{"refresh": p.Refresh}
	benchLoop(b, env, func() *apitest.Response { return c.Do(http.MethodPost, "/v1/token/refresh/", body) })
}

func BenchmarkVerifyAccess(b *testing.B) {
	env, c := setup(b)
	mustUser(b, env, "alice")
	p := mustLogin(b, c, "alice")
	c.SkipOpenAPI = true
	body := map[string]string{"token": p.Access}
	benchLoop(b, env, func() *apitest.Response { return c.Do(http.MethodPost, "/v1/token/verify/", body) })
}

func BenchmarkVerifyRefresh(b *testing.B) {
	env, c := setup(b)
	mustUser(b, env, "alice")
	p := mustLogin(b, c, "alice")
	c.SkipOpenAPI = true
	body := map[string]string{"token": p.Refresh}
	benchLoop(b, env, func() *apitest.Response { return c.Do(http.MethodPost, "/v1/token/verify/", body) })
}

// BenchmarkPasswordVerify is the hashing part of a login, reported apart.
func BenchmarkPasswordVerify(b *testing.B) {
	h := hashOf(b, pw)
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, _ := password.Verify(pw, h); !ok {
			b.Fatal("no match")
		}
	}
}

func benchLoop(b *testing.B, env *apitest.Env, do func() *apitest.Response) {
	b.Helper()
	b.ReportAllocs()
	before := env.Requests.Load()
	for b.Loop() {
		if resp := do(); resp.Status != 200 {
			b.Fatalf("%d %s", resp.Status, resp.Body)
		}
	}
	b.ReportMetric(float64(env.Requests.Load()-before)/float64(b.N), "ddb-req/op")
}
