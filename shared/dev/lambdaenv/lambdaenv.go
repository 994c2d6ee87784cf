// Package lambdaenv checks that a function reads exactly the environment
// template.yaml gives it: each functions/<group>/main.go runs its handler
// package's Setup through lambdafn.Start, Setup does all the reading, and
// Check runs it with a getenv that records every name asked for.
package lambdaenv

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
	"github.com/pufinid/pufinid-api/shared/mailer/sesmail"
	"github.com/pufinid/pufinid-api/shared/secretkeys"
)

// LambdaProvided are variables the Lambda service sets itself, which
// template.yaml must not and need not set.
var LambdaProvided = []string{
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
	"AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL", "AWS_LAMBDA_RUNTIME_API", "TZ",
}

// Optional are variables a main reads with a default, so the template may
// leave them out: LOG_LEVEL (info unless set), REFERENCE_CACHE_TTL (1m).
var Optional = []string{config.EnvLogLevel, config.EnvReferenceTTL}

// Recorder is a getenv that answers from Values and notes every name asked.
type Recorder struct {
	Values map[string]string
	mu     sync.Mutex
	asked  map[string]bool
}

// Getenv looks name up and records it.
func (r *Recorder) Getenv(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.asked == nil {
		r.asked = map[string]bool{}
	}
	r.asked[name] = true
	return r.Values[name]
}

// Asked lists the names asked for, sorted.
func (r *Recorder) Asked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for n := range r.asked {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Check runs setup as the Lambda service would start the function
// logicalID, with every variable its template environment sets given a
// valid value, and fails t unless setup succeeds and the variables it read
// are exactly the template's, plus Lambda-provided and optional ones.
func Check[H any](t *testing.T, logicalID string, setup func(context.Context, config.Env) (H, error)) {
	t.Helper()
	tmpl, err := samtemplate.LoadModule(".")
	if err != nil {
		t.Fatal(err)
	}
	f, ok := tmpl.Function(logicalID)
	if !ok {
		t.Fatalf("template.yaml has no %s", logicalID)
	}
	rec := &Recorder{Values: map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_LAMBDA_FUNCTION_NAME": logicalID,
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "session",
	}}
	for _, name := range f.EnvNames() {
		v, ok := sampleValues[name]
		if !ok {
			t.Fatalf("template.yaml sets %s for %s; give it a sample value in shared/dev/lambdaenv", name, logicalID)
		}
		rec.Values[name] = v
	}
	h, err := setup(context.Background(), config.Env{Getenv: rec.Getenv, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("setup with the template's environment: %v", err)
	}
	if any(h) == nil {
		t.Fatal("setup returned no handler")
	}
	asked := rec.Asked()
	for _, name := range asked {
		if !slices.Contains(f.EnvNames(), name) && !slices.Contains(LambdaProvided, name) && !slices.Contains(Optional, name) {
			t.Errorf("%s's main reads %s, which template.yaml does not set for it", logicalID, name)
		}
	}
	for _, name := range f.EnvNames() {
		if !slices.Contains(asked, name) {
			t.Errorf("template.yaml sets %s for %s, whose main never reads it", name, logicalID)
		}
	}
	for _, name := range f.EnvNames() {
		if slices.Contains(LambdaProvided, name) || strings.HasPrefix(name, "AWS_LAMBDA_") {
			t.Errorf("template.yaml sets %s, which Lambda sets itself", name)
		}
	}
}

// sampleValues are valid values of every variable template.yaml may set,
// as a deployment's parameters would give them.
var sampleValues = map[string]string{
	config.EnvTable:             "pufinid-api-dev-Table-EXAMPLE",
	config.EnvDynamoDBEndpoint:  "",
	secretkeys.EnvSecret:        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pufinid-api-dev-SigningKeys-EXAMPLE",
	secretkeys.EnvEndpoint:      "",
	sesmail.EnvFromAddress:      "no-reply@pufinid.example",
	sesmail.EnvConfigurationSet: "",
	sesmail.EnvEndpoint:         "",
	config.EnvConfirmEmailURL:   "https://app.pufinid.example/confirm-email?email={email}&token={token}",
	config.EnvResetPasswordURL:  "https://app.pufinid.example/reset-password?email={email}&token={token}",
}
