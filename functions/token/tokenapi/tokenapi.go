// Package tokenapi is the token group's HTTP handler: obtain a token pair
// with a username (or email) and password, refresh an access token, revoke
// a refresh token, and verify either kind. It answers as simplejwt does,
// with the contract's additions: refresh tokens are tracked in the table so
// revocation is seen at once by every Lambda instance, and failed logins are
// throttled per account and per source IP.
package tokenapi

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/password"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/telemetry"
	"github.com/pufinid/pufinid-api/shared/token"
	"github.com/pufinid/pufinid-api/shared/web"
)

// MsgNoAccount is simplejwt's answer to wrong credentials, whatever was wrong.
const MsgNoAccount = "No active account found with the given credentials"

// Deps are what the group needs.
type Deps struct {
	Store  *store.Store
	Tokens *token.Issuer
	Log    *slog.Logger
}

// Routes lists the group's whole surface.
func Routes(d Deps) *web.Router {
	r := web.NewRouter()
	r.Handle(http.MethodPost, "/v1/token", handleObtain(d))
	r.Handle(http.MethodPost, "/v1/token/refresh", handleRefresh(d))
	r.Handle(http.MethodPost, "/v1/token/revoke", handleRevoke(d))
	r.Handle(http.MethodPost, "/v1/token/verify", handleVerify(d))
	r.Handle(http.MethodGet, "/.well-known/jwks.json", handleJWKS(d))
	return r
}

// handleJWKS publishes the public signing keys (RFC 7517), for services
// that verify the API's tokens themselves. Caches may keep it as long as
// the functions keep theirs: a key is published that long before it
// signs, so a client that refetches on an unknown kid never misses one.
func handleJWKS(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, err := d.Tokens.JWKS(r.Context())
		if err != nil {
			web.Error(w, r, err)
			return
		}
		web.PublicDocument(w, r, "application/jwk-set+json", doc, int(token.DefaultCacheTTL/time.Second))
	})
}

// New returns the group's handler, as its Lambda and the local server run it.
func New(d Deps) http.Handler { return web.Serve(d.Log, Routes(d)) }

type obtainResponse struct {
	Access           string `json:"access"`
	Refresh          string `json:"refresh"`
	AccessExpiresIn  int64  `json:"access_expires_in"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
}

// handleObtain logs a user in. Every refusal for bad credentials is the same
// 401 after the same hashing work, whether the account exists or not; an
// attempt the password checks' caps refuse (store.Reserve) gets 429
// without its password being checked.
func handleObtain(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := web.DecodeObject(r)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		login, _ := in.String("username", web.Str{Required: true})
		pw, _ := in.String("password", web.Str{Required: true, NoTrim: true})
		if err := in.Err(); err != nil {
			web.Error(w, r, err)
			return
		}
		log := web.Logger(r.Context())
		attempt, err := d.Store.LoginLookup(r.Context(), login, web.SourceIP(r))
		if err != nil {
			web.Error(w, r, err)
			return
		}
		// The check is reserved before the password is looked at: a request
		// that cannot reserve (its source has failed 5 times on this account,
		// the account has had 20 checks, the source 50 failures) gets 429
		// unchecked, however many run at once. A reservation stands as a
		// failure unless the login succeeds.
		if err := d.Store.Reserve(r.Context(), attempt.Check()); err != nil {
			if apierror.Is(err, apierror.Throttled) {
				telemetry.Count(r.Context(), telemetry.LoginThrottled)
				log.Info("login throttled", "user_id", attempt.User.ID)
			}
			web.Error(w, r, err)
			return
		}
		// The key set is read while the password is hashed (the first
		// login of an instance): the hash takes longer than the read.
		d.Tokens.Warm(r.Context())
		ok, rehash := checkPassword(log, attempt, pw)
		if !ok {
			telemetry.Count(r.Context(), telemetry.LoginFailed)
			log.Info("login refused", "user_id", attempt.User.ID, "known_account", attempt.Found)
			web.Error(w, r, apierror.New(apierror.NotAuthenticated, MsgNoAccount))
			return
		}

		u := attempt.User
		life := u.Lifetimes()
		accessLife, refreshLife := life.Access, life.Refresh
		access, _, err := d.Tokens.Mint(r.Context(), token.Access, u.ID, u.OrganizationID, accessLife)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		refresh, rc, err := d.Tokens.Mint(r.Context(), token.Refresh, u.ID, u.OrganizationID, refreshLife)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		newHash := ""
		if rehash {
			// A failed rehash only postpones the upgrade to the next login.
			if newHash, err = password.Hash(pw); err != nil {
				log.Warn("password rehash failed", "user_id", u.ID, "err", err)
				newHash = ""
			}
		}
		rt := store.RefreshToken{UserID: u.ID, JTI: rc.ID, ExpiresAt: rc.ExpiresAt.Time, AccessLifetime: accessLife}
		if err := d.Store.LoginSucceeded(r.Context(), attempt, rt, newHash); err != nil {
			if errors.Is(err, store.ErrLoginStale) {
				telemetry.Count(r.Context(), telemetry.LoginFailed)
				log.Info("login refused: account changed during login", "user_id", u.ID)
				web.Error(w, r, apierror.New(apierror.NotAuthenticated, MsgNoAccount))
				return
			}
			web.Error(w, r, err)
			return
		}
		telemetry.Count(r.Context(), telemetry.LoginSucceeded)
		web.JSON(w, r, http.StatusOK, obtainResponse{
			Access: access, Refresh: refresh,
			AccessExpiresIn: int64(accessLife / time.Second), RefreshExpiresIn: int64(refreshLife / time.Second),
		})
	})
}

// checkPassword verifies pw against the attempt's account, or against the
// dummy hash when there is none, so both cost one argon2id computation.
func checkPassword(log *slog.Logger, a *store.LoginAttempt, pw string) (ok, rehash bool) {
	if !a.Found {
		password.VerifyDummy(pw)
		return false, false
	}
	ok, rehash, err := password.Verify(pw, a.User.PasswordHash)
	if err != nil {
		// A stored hash this code cannot read: nobody can log in with it,
		// and someone should look. The hash itself is never logged.
		log.Error("stored password hash unreadable", "user_id", a.User.ID, "err", err)
		password.VerifyDummy(pw)
		return false, false
	}
	return ok, rehash
}

type refreshResponse struct {
	Access          string `json:"access"`
	AccessExpiresIn int64  `json:"access_expires_in"`
}

// handleRefresh mints a new access token for a live refresh token. The
// refresh token is not rotated and keeps its own expiry.
func handleRefresh(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, ok := liveRefreshToken(w, r, d, "refresh")
		if !ok {
			return
		}
		// The user's access lifetime, read with the token; the default
		// when they have none.
		life := pufinid.Lifetimes{Access: rt.AccessLifetime}.WithDefaults().Access
		access, _, err := d.Tokens.Mint(r.Context(), token.Access, rt.UserID, rt.OrganizationID, life)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		telemetry.Count(r.Context(), telemetry.TokenRefreshed)
		web.JSON(w, r, http.StatusOK, refreshResponse{Access: access, AccessExpiresIn: int64(life / time.Second)})
	})
}

// liveRefreshToken reads field as a refresh token that verifies and is
// still recorded (not revoked, not expired). On any failure it has answered
// and ok is false.
func liveRefreshToken(w http.ResponseWriter, r *http.Request, d Deps, field string) (store.RefreshToken, bool) {
	s, ok := readToken(w, r, field)
	if !ok {
		return store.RefreshToken{}, false
	}
	c, err := d.Tokens.Parse(r.Context(), s, token.Refresh)
	if err != nil {
		web.Error(w, r, parseErr(err))
		return store.RefreshToken{}, false
	}
	rt, err := d.Store.RefreshToken(r.Context(), c.UserID(), c.ID)
	if err != nil {
		web.Error(w, r, tokenErr(err))
		return store.RefreshToken{}, false
	}
	return rt, true
}

// readToken decodes a body holding one required token field.
func readToken(w http.ResponseWriter, r *http.Request, field string) (string, bool) {
	in, err := web.DecodeObject(r)
	if err != nil {
		web.Error(w, r, err)
		return "", false
	}
	s, _ := in.String(field, web.Str{Required: true})
	if err := in.Err(); err != nil {
		web.Error(w, r, err)
		return "", false
	}
	return s, true
}

// parseErr is simplejwt's 401 for a token that does not verify; a key
// set that cannot be read stays a 503.
func parseErr(err error) error {
	if errors.Is(err, token.ErrInvalid) {
		return apierror.TokenInvalid()
	}
	return err
}

// tokenErr turns "no such live token" into simplejwt's 401; outages stay 503.
func tokenErr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return apierror.TokenInvalid()
	}
	return err
}

// handleRevoke marks a refresh token revoked in its user's record, so it
// can no longer refresh or verify. Access tokens minted with it live on
// until they expire.
func handleRevoke(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := readToken(w, r, "refresh")
		if !ok {
			return
		}
		c, err := d.Tokens.Parse(r.Context(), s, token.Refresh)
		if err != nil {
			web.Error(w, r, parseErr(err))
			return
		}
		if err := d.Store.RevokeRefreshToken(r.Context(), c.UserID(), c.ID); err != nil {
			web.Error(w, r, tokenErr(err))
			return
		}
		web.JSON(w, r, http.StatusOK, struct{}{})
	})
}

// handleVerify checks a token of either kind. An access token is checked by
// signature, expiry and type alone (no DynamoDB request), so it stays valid
// after its refresh token is revoked; a refresh token must also still be
// recorded.
func handleVerify(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := readToken(w, r, "token")
		if !ok {
			return
		}
		c, err := d.Tokens.Parse(r.Context(), s, "")
		if err != nil {
			web.Error(w, r, parseErr(err))
			return
		}
		if c.TokenType == token.Refresh {
			if _, err := d.Store.RefreshToken(r.Context(), c.UserID(), c.ID); err != nil {
				web.Error(w, r, tokenErr(err))
				return
			}
		}
		web.JSON(w, r, http.StatusOK, struct{}{})
	})
}
