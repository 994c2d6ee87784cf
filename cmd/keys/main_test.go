package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/secretsemu"
	"github.com/pufinid/pufinid-api/shared/secretkeys"
	"github.com/pufinid/pufinid-api/shared/token"
)

// deployment is one stack's Secrets Manager (its secret not yet created)
// and table, and the environment make keys runs with against them.
func deployment(t *testing.T) (*secretsemu.Emulator, *apitest.Env, config.Getenv) {
	t.Helper()
	sm, err := secretsemu.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sm.Close() })
	env := apitest.New(t)
	vars := map[string]string{
		secretkeys.EnvSecret: "pufinid-signing-keys", secretkeys.EnvEndpoint: sm.URL,
		config.EnvTable: env.Store.Table(), config.EnvDynamoDBEndpoint: env.DB.URL,
	}
	return sm, env, func(k string) string { return vars[k] }
}

// The procedure, step by step on one deployment (a Secrets Manager and a
// table), on an injected clock: init, add, a promote too soon refused, a
// promote, a retire too soon doing nothing, a retire. After each step the
// table's public set is the secret's, and the token function's source
// reads what the step wrote.
func TestTheRotationProcedure(t *testing.T) {
	_, env, getenv := deployment(t)
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	step := func(t *testing.T, args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		err := run(context.Background(), args, getenv, &out, func() time.Time { return clock })
		return out.String(), err
	}
	state := func(t *testing.T) token.KeySet {
		t.Helper()
		src, err := secretkeys.Open(getenv, secretkeys.Options{})
		if err != nil {
			t.Fatal(err)
		}
		priv, err := src.KeySet(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		doc, found, err := env.Store.PublicKeys(context.Background())
		if err != nil || !found {
			t.Fatalf("public keys: found %v, %v", found, err)
		}
		pub, err := token.ParseKeySet(doc)
		if err != nil {
			t.Fatal(err)
		}
		if len(pub.Keys) != len(priv.Keys) {
			t.Fatalf("the table publishes %d keys, the secret holds %d", len(pub.Keys), len(priv.Keys))
		}
		for _, k := range priv.Keys {
			if _, ok := pub.Lookup(k.ID); !ok {
				t.Errorf("key %s is in the secret, not in the table", k.ID)
			}
		}
		return priv
	}
	states := func(s token.KeySet) string {
		var b []string
		for _, k := range s.Keys {
			b = append(b, string(k.State))
		}
		return strings.Join(b, ",")
	}

	if _, err := step(t, "-action", "init"); err != nil {
		t.Fatal(err)
	}
	if got := states(state(t)); got != "current" {
		t.Fatalf("after init: %s", got)
	}
	if _, err := step(t, "-action", "init"); err == nil {
		t.Error("a second init was accepted")
	}
	clock = clock.Add(24 * time.Hour)
	if _, err := step(t, "-action", "add"); err != nil {
		t.Fatal(err)
	}
	if got := states(state(t)); got != "current,next" {
		t.Fatalf("after add: %s", got)
	}
	if _, err := step(t, "-action", "promote"); err == nil {
		t.Error("a promote right after the add was accepted: a verifier may not have the key")
	}
	clock = clock.Add(token.DefaultCacheTTL)
	if _, err := step(t, "-action", "promote"); err != nil {
		t.Fatal(err)
	}
	if got := states(state(t)); got != "previous,current" {
		t.Fatalf("after promote: %s", got)
	}
	clock = clock.Add(DefaultMaxRefresh - time.Minute)
	if out, err := step(t, "-action", "retire"); err != nil || !strings.Contains(out, "nothing to retire") {
		t.Errorf("retire before the longest refresh lifetime: %v %q", err, out)
	}
	clock = clock.Add(time.Minute)
	if _, err := step(t, "-action", "retire"); err != nil {
		t.Fatal(err)
	}
	if got := states(state(t)); got != "current" {
		t.Fatalf("after retire: %s", got)
	}
	out, err := step(t, "-action", "show")
	if err != nil || !strings.Contains(out, "current") || strings.Contains(out, `"d"`) {
		t.Errorf("show: %v %q", err, out)
	}
	if _, err := step(t, "-action", "nope"); err == nil {
		t.Error("an unknown action was accepted")
	}
}

// A step run while Secrets Manager rotates the secret is refused and
// changes nothing: the rotation's finishSecret would make its pending
// version, built from the set before the step, current over it.
func TestAStepDuringAScheduledRotationIsRefused(t *testing.T) {
	sm, env, getenv := deployment(t)
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	step := func(args ...string) error {
		return run(context.Background(), args, getenv, io.Discard, func() time.Time { return clock })
	}
	if err := step("-action", "init"); err != nil {
		t.Fatal(err)
	}
	before, _, err := env.Store.PublicKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := sm.BeginRotation("pufinid-signing-keys", "rotation-1"); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(24 * time.Hour)
	if err := step("-action", "add"); !errors.Is(err, errRotationPending) {
		t.Fatalf("add during a rotation: %v, want errRotationPending", err)
	}
	after, _, err := env.Store.PublicKeys(context.Background())
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("the refused step changed the published set: %v\n%s\n%s", err, before, after)
	}
}
