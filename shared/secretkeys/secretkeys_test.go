package secretkeys_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/secretsemu"
	"github.com/pufinid/pufinid-api/shared/secretkeys"
	"github.com/pufinid/pufinid-api/shared/token"
)

func emulator(t *testing.T) *secretsemu.Emulator {
	t.Helper()
	e, err := secretsemu.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func privateSet(t *testing.T, now time.Time) []byte {
	t.Helper()
	s, err := token.FirstKeySet(rand.Reader, now)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := s.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func env(e *secretsemu.Emulator, arn string) func(string) string {
	vars := map[string]string{secretkeys.EnvSecret: arn, secretkeys.EnvEndpoint: e.URL}
	return func(k string) string { return vars[k] }
}

// The secret is read on the first use, not at Open (Lambda init), then
// kept for the cache's lifetime; a failed read is a 503 and is not kept.
func TestTheSecretIsReadOnFirstUseThenCached(t *testing.T) {
	t.Parallel()
	e := emulator(t)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	arn := e.Put("pufinid/signing-keys", string(privateSet(t, now)))
	clock := now
	src, err := secretkeys.Open(env(e, arn), secretkeys.Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.Calls("GetSecretValue"); n != 0 {
		t.Fatalf("Open read the secret %d times; it must wait for the first use", n)
	}
	for range 5 {
		set, err := src.KeySet(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := set.Current(); !ok {
			t.Fatal("no current key")
		}
	}
	if n := e.Calls("GetSecretValue"); n != 1 {
		t.Errorf("5 uses read the secret %d times, want 1", n)
	}
	clock = clock.Add(token.DefaultCacheTTL)
	if _, err := src.KeySet(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := e.Calls("GetSecretValue"); n != 2 {
		t.Errorf("after the cache's lifetime, %d reads, want 2", n)
	}
}

func TestAnUnreadableSecretIsA503(t *testing.T) {
	t.Parallel()
	e := emulator(t)
	now := time.Now()
	empty := e.Put("empty", `{"keys":[]}`)
	garbage := e.Put("garbage", `not json`)
	tests := map[string]string{
		"no such secret":    "arn:aws:secretsmanager:us-east-1:000000000000:secret:nope",
		"a set with no key": empty,
		"not a key set":     garbage,
	}
	for name, arn := range tests {
		src, err := secretkeys.Open(env(e, arn), secretkeys.Options{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.KeySet(context.Background())
		if !apierror.Is(err, apierror.Unavailable) {
			t.Errorf("%s: err %v, want a 503", name, err)
		}
	}
	// A failure is not kept: once the secret is good, the same source's
	// next call reads it, on the same instant.
	src, _ := secretkeys.Open(env(e, empty), secretkeys.Options{Now: func() time.Time { return now }})
	if _, err := src.KeySet(context.Background()); err == nil {
		t.Fatal("a set with no key was accepted")
	}
	e.Put("empty", string(privateSet(t, now)))
	if _, err := src.KeySet(context.Background()); err != nil {
		t.Errorf("the secret, fixed: %v", err)
	}
	if _, err := secretkeys.Open(func(string) string { return "" }, secretkeys.Options{}); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("Open without %s: err %v", secretkeys.EnvSecret, err)
	}
}
