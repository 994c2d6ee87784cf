package tokenapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/secretkeys"
	"github.com/pufinid/pufinid-api/shared/telemetry"
	"github.com/pufinid/pufinid-api/shared/token"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Setup builds the group's handler from its function's environment
// (template.yaml sets it). It makes no network call: the private key set
// is read from AWS Secrets Manager on the first token signed, unless env
// gives it (the local server, the tests). lambdafn.Start runs
// it in Lambda; the tests check the variables it reads against the
// template.
func Setup(ctx context.Context, env config.Env) (http.Handler, error) {
	st, err := config.Store(ctx, env)
	if err != nil {
		return nil, err
	}
	keys := env.SigningKeys
	var rotation *secretkeys.Rotation
	if keys == nil {
		if keys, err = secretkeys.Open(env.Getenv, secretkeys.Options{Now: env.Now}); err != nil {
			return nil, err
		}
		// The secret's rotation function is this function: the only one
		// whose role may read the private keys.
		if rotation, err = secretkeys.NewRotation(env.Getenv, secretkeys.Options{Now: env.Now}, st, rand.Reader); err != nil {
			return nil, err
		}
	}
	// Tokens are verified, and the JWKS answered, with the published public
	// set, as every function does: only signing waits for the secret.
	tokens := token.NewIssuer(keys, env.Clock()).VerifyWith(config.PublishedKeys(st, env))
	h := web.WithWarmUp(New(Deps{Store: st, Tokens: tokens, Log: env.Log}), tokens.WarmUp)
	if rotation == nil {
		return h, nil
	}
	return NewRotating(h, rotation, env.Log), nil
}

// Rotating is the token function's handler in Lambda: its routes, and
// the rotation of its signing keys' secret, whose steps Secrets Manager
// invokes it with (lambdafn.EventHandler).
type Rotating struct {
	http.Handler
	Rotation *secretkeys.Rotation
	events   *telemetry.Events
}

// NewRotating is h, also the rotation function of r's secret.
func NewRotating(h http.Handler, r *secretkeys.Rotation, log *slog.Logger) *Rotating {
	return &Rotating{Handler: h, Rotation: r, events: &telemetry.Events{Log: log, Source: "aws:secretsmanager"}}
}

// WarmUp warms up the routes (web.WarmUpper): the embedded http.Handler
// promotes only ServeHTTP. An instance that a rotation step starts warms
// up too; that step reads the published keys itself, so it costs at most
// the pointer's half read unit, a few times a rotation.
func (h *Rotating) WarmUp(ctx context.Context) {
	if w, ok := h.Handler.(web.WarmUpper); ok {
		w.WarmUp(ctx)
	}
}

// HandleEvent runs one rotation step.
func (h *Rotating) HandleEvent(ctx context.Context, payload []byte) ([]byte, error) {
	err := h.events.Serve(ctx, func(ctx context.Context, log *slog.Logger) (int, int, error) {
		var ev secretkeys.RotationEvent
		if err := json.Unmarshal(payload, &ev); err != nil || ev.Step == "" {
			return 1, 1, errors.New("not a Secrets Manager rotation event")
		}
		log.Info("signing keys rotation", "step", ev.Step, "version", ev.ClientRequestToken)
		return 1, 0, h.Rotation.Rotate(ctx, ev)
	})
	if err != nil {
		return nil, err
	}
	return []byte("null"), nil
}
