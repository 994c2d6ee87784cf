package telemetry_test

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/dev/logcheck"
	"github.com/pufinid/pufinid-api/shared/telemetry"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// logger writes JSON lines without their time, so lines are golden.
func logger(buf *bytes.Buffer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
}

var at = time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)

func TestEmitWritesOneEMFLinePerRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		counts map[telemetry.Metric]float64
		golden string // "" when nothing is written
	}{
		{name: "nothing counted writes nothing"},
		{
			name:   "a cold start, a signup and its email",
			counts: map[telemetry.Metric]float64{telemetry.ColdStart: 1, telemetry.SignUps: 1, telemetry.EmailSent: 1},
			golden: "signup.golden",
		},
		{
			name:   "a 503 after DynamoDB retries, by route",
			counts: map[telemetry.Metric]float64{telemetry.ServerErrors: 1, telemetry.DynamoDBRetries: 4},
			golden: "outage.golden",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			// warn: the metrics line goes out whatever the level.
			log := telemetry.FunctionLogger(logger(&buf, slog.LevelWarn), "UsersFunction", "512")
			log = telemetry.Invocation{AWSRequestID: "aws-1", APIGWRequestID: "gw-1", ColdStart: tc.counts[telemetry.ColdStart] > 0}.Logger(log)
			ctx, rec := telemetry.WithRecorder(context.Background())
			for m, n := range tc.counts {
				telemetry.Add(ctx, m, n)
			}
			rec.Emit(ctx, log, at, "POST /v1/users")
			if tc.golden == "" {
				if buf.Len() != 0 {
					t.Fatalf("wrote %q, want nothing", buf.String())
				}
				return
			}
			lines, other := logcheck.Parse(buf.Bytes())
			if len(lines) != 1 || len(other) != 0 {
				t.Fatalf("want one JSON line, got %q", buf.String())
			}
			if err := logcheck.EMF(lines[0]); err != nil {
				t.Errorf("not valid EMF: %v\n%s", err, buf.String())
			}
			for m, n := range tc.counts {
				if lines[0][string(m)] != n {
					t.Errorf("%s = %v, want %v", m, lines[0][string(m)], n)
				}
			}
			golden(t, tc.golden, buf.Bytes())
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n got %s\nwant %s", path, got, want)
	}
}

func TestCountOutsideARequestDoesNothing(t *testing.T) {
	t.Parallel()
	telemetry.Count(context.Background(), telemetry.SignUps) // must not panic
}

// Handlers count from the goroutines a request starts (signup reads its
// references in parallel); the recorder must add them all.
func TestCountsFromConcurrentGoroutinesAddUp(t *testing.T) {
	t.Parallel()
	ctx, rec := telemetry.WithRecorder(context.Background())
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { telemetry.Count(ctx, telemetry.DynamoDBRetries) })
	}
	wg.Wait()
	var buf bytes.Buffer
	rec.Emit(ctx, telemetry.FunctionLogger(logger(&buf, slog.LevelInfo), "f", ""), at, "-")
	lines, _ := logcheck.Parse(buf.Bytes())
	if len(lines) != 1 || lines[0]["DynamoDBRetries"] != 50.0 {
		t.Fatalf("got %s, want DynamoDBRetries 50", buf.String())
	}
	if _, ok := lines[0][telemetry.FieldFunctionMemory]; ok {
		t.Errorf("no memory given, yet the line has %s", telemetry.FieldFunctionMemory)
	}
}

// Every metric has the service dimension, and at most one other: each
// combination is billed as a metric of its own.
func TestDimensionsStayFew(t *testing.T) {
	t.Parallel()
	for _, m := range telemetry.Metrics {
		d := m.Dimensions()
		if len(d) == 0 || d[0] != telemetry.FieldService || len(d) > 2 {
			t.Errorf("%s: dimensions %v", m, d)
		}
	}
}
