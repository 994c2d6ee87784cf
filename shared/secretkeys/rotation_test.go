package secretkeys_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/secretsemu"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/secretkeys"
	"github.com/pufinid/pufinid-api/shared/token"
)

// rotationWorld is a stack's secret (as the template creates it, with no
// key), the table the public keys are published in, and the clock.
type rotationWorld struct {
	env    *apitest.Env
	sm     *secretsemu.Emulator
	arn    string
	rot    *secretkeys.Rotation
	rounds int
}

func newRotationWorld(t *testing.T) *rotationWorld {
	t.Helper()
	e := emulator(t)
	arn := e.Put("pufinid/signing-keys", `{"keys":[]}`)
	a := apitest.New(t)
	rot, err := secretkeys.NewRotation(env(e, arn), secretkeys.Options{Now: a.Clock.Now}, a.Store, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &rotationWorld{env: a, sm: e, arn: arn, rot: rot}
}

// rotate runs Secrets Manager's four steps for a new version, as the
// service does on the schedule.
func (w *rotationWorld) rotate(t *testing.T) string {
	t.Helper()
	w.rounds++
	version := fmt.Sprintf("rotation-%d", w.rounds)
	if err := w.sm.BeginRotation(w.arn, version); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		if err := w.rot.Rotate(context.Background(), secretkeys.RotationEvent{SecretID: w.arn, ClientRequestToken: version, Step: step}); err != nil {
			t.Fatalf("rotation %d, %s: %v", w.rounds, step, err)
		}
	}
	return version
}

// current reads the secret as the token function does.
func (w *rotationWorld) current(t *testing.T) token.KeySet {
	t.Helper()
	src, err := secretkeys.Open(env(w.sm, w.arn), secretkeys.Options{CacheTTL: time.Nanosecond, Now: w.env.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	set, err := src.KeySet(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// published is the public set the verifying functions read.
func (w *rotationWorld) published(t *testing.T) token.KeySet {
	t.Helper()
	doc, found, err := w.env.Store.PublicKeys(context.Background())
	if err != nil || !found {
		t.Fatalf("published keys: found %v, %v", found, err)
	}
	set, err := token.ParseKeySet(doc)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func states(s token.KeySet) map[token.KeyState]string {
	m := map[token.KeyState]string{}
	for _, k := range s.Keys {
		m[k.State] = k.ID
	}
	return m
}

// Scheduled rotations walk the procedure of README "Signing keys" one step
// each: the first makes a key, each later one publishes a next key and
// promotes the one before; a token keeps verifying until its key retires,
// RetireAfter after it stopped signing, and is refused from then on.
func TestScheduledRotationsLogNobodyOutUntilTheirTokensExpire(t *testing.T) {
	t.Parallel()
	w := newRotationWorld(t)
	clock := w.env.Clock
	ctx := context.Background()
	verifies := func(tok string) error {
		_, err := token.NewIssuer(token.StaticKeys(w.published(t)), clock.Now).Parse(ctx, tok, token.Refresh)
		return err
	}
	mint := func() string {
		tok, _, err := token.NewIssuer(token.StaticKeys(w.current(t)), clock.Now).Mint(ctx, token.Refresh, "u1", "", 400*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	w.rotate(t) // the stack's first rotation: its first key, current at once
	first := states(w.current(t))[token.KeyCurrent]
	if first == "" || len(w.current(t).Keys) != 1 {
		t.Fatalf("after the first rotation: %v", states(w.current(t)))
	}
	old := mint()

	clock.Advance(30 * 24 * time.Hour)
	w.rotate(t) // a next key, published, not signing
	s := states(w.current(t))
	if s[token.KeyCurrent] != first || s[token.KeyNext] == "" || len(w.published(t).Keys) != 2 {
		t.Fatalf("after the second rotation: %v, %d published", s, len(w.published(t).Keys))
	}
	second := s[token.KeyNext]

	clock.Advance(30 * 24 * time.Hour)
	w.rotate(t) // the next key signs; the first is previous, still accepted
	s = states(w.current(t))
	if s[token.KeyCurrent] != second || s[token.KeyPrevious] != first || s[token.KeyNext] == "" {
		t.Fatalf("after the third rotation: %v", s)
	}
	if err := verifies(old); err != nil {
		t.Fatalf("a token of the previous key is refused: %v", err)
	}
	if kid := kidOf(t, mint()); kid != second {
		t.Errorf("new tokens are signed by %s, want the promoted key %s", kid, second)
	}

	clock.Advance(30 * 24 * time.Hour)
	w.rotate(t) // the first key stopped signing 30 days ago: retired
	if _, ok := w.published(t).Lookup(first); ok {
		t.Fatalf("the first key is still published after its retirement: %v", states(w.current(t)))
	}
	if err := verifies(old); !errors.Is(err, token.ErrInvalid) {
		t.Errorf("a token of a retired key: %v, want refused", err)
	}
	if n := len(w.current(t).Keys); n != 3 {
		t.Errorf("%d keys, want 3 (previous, current, next)", n)
	}
}

// Secrets Manager retries a failed step: each step can run again, and a
// rotation that failed before finishSecret leaves the current version
// signing.
func TestRotationStepsCanBeRepeatedAndAFailureChangesNothingCurrent(t *testing.T) {
	t.Parallel()
	w := newRotationWorld(t)
	ctx := context.Background()
	w.rotate(t)
	before := states(w.current(t))

	w.env.Clock.Advance(30 * 24 * time.Hour)
	version := "rotation-outage"
	if err := w.sm.BeginRotation(w.arn, version); err != nil {
		t.Fatal(err)
	}
	step := func(name string) error {
		return w.rot.Rotate(ctx, secretkeys.RotationEvent{SecretID: w.arn, ClientRequestToken: version, Step: name})
	}
	for range 2 {
		if err := step("createSecret"); err != nil {
			t.Fatal(err)
		}
	}
	recover := w.env.Outage()
	if err := step("setSecret"); err == nil {
		t.Fatal("setSecret succeeded while DynamoDB is down")
	}
	if got := states(w.current(t)); got[token.KeyCurrent] != before[token.KeyCurrent] || len(w.current(t).Keys) != 1 {
		t.Fatalf("a failed rotation changed the current set: %v", got)
	}
	recover()
	for _, name := range []string{"setSecret", "setSecret", "testSecret", "finishSecret", "finishSecret", "createSecret"} {
		if err := step(name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if got := w.current(t); len(got.Keys) != 2 {
		t.Errorf("after the retried rotation: %v, want the current key and one next", states(got))
	}
	// Another secret's rotation is not this function's.
	err := w.rot.Rotate(ctx, secretkeys.RotationEvent{SecretID: "arn:aws:secretsmanager:us-east-1:000000000000:secret:other", ClientRequestToken: "x", Step: "createSecret"})
	if err == nil {
		t.Error("a rotation event for another secret was run")
	}
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	header, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// A retired key verifies nothing, so it must outlive every refresh token
// it signed: the longest refresh lifetime an organization may set, plus
// the time the old key may still sign after a rotation's first step
// stamped its retirement clock (until the token function's cached key set
// expires) and an hour for the rotation's own steps.
func TestKeysAreRetiredOnlyAfterTheLongestRefreshLifetime(t *testing.T) {
	t.Parallel()
	if need := pufinid.MaxRefresh + token.DefaultCacheTTL + time.Hour; secretkeys.DefaultRetireAfter < need {
		t.Errorf("DefaultRetireAfter %v, want at least %v (pufinid.MaxRefresh %v + token.DefaultCacheTTL %v + 1h)",
			secretkeys.DefaultRetireAfter, need, pufinid.MaxRefresh, token.DefaultCacheTTL)
	}
}
