package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
)

func ms10(n int) []time.Duration {
	ds := make([]time.Duration, 10)
	for i := range ds {
		ds[i] = time.Duration(n) * time.Millisecond / 10
	}
	return ds
}

// The budget: cold start at most 1.5× hello-world's (median),
// binary at most 15 MB, peak RSS under 64 MB. Each breach is named.
func TestReportAppliesTheBudget(t *testing.T) {
	subjects := []*subject{
		{name: hello, size: 5 << 20, cold: ms10(40), warm: ms10(10), rss: 10 << 20},
		{name: "AtTheLimit", size: 15 << 20, cold: ms10(60), warm: ms10(10), rss: 63 << 20},
		{name: "SlowStart", size: 8 << 20, cold: ms10(61), warm: ms10(10), rss: 14 << 20},
		{name: "Big", size: 15<<20 + 1, cold: ms10(50), warm: ms10(10), rss: 14 << 20},
		{name: "Hungry", size: 8 << 20, cold: ms10(50), warm: ms10(10), rss: 64 << 20},
	}
	var out bytes.Buffer
	err := report(&out, subjects)
	if err == nil || err.Error() != "3 over budget" {
		t.Errorf("report: %v, want 3 over budget", err)
	}
	for _, want := range []string{
		"OVER BUDGET SlowStart: cold start 1.52× hello-world's, paired by round (max 1.5×)",
		"OVER BUDGET Big: binary 15.0 MB (max 15.0 MB)",
		"OVER BUDGET Hungry: peak RSS 64.0 MB (max 64.0 MB)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report does not say %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "OVER BUDGET AtTheLimit") {
		t.Errorf("a function exactly at every limit is within budget:\n%s", out.String())
	}
}

// Rounds are paired: a round where the machine was slow for both sides
// leaves the ratio alone, and the spread is the ratios' quartiles.
func TestPairedRatioAndSpread(t *testing.T) {
	t.Parallel()
	ms := func(ns ...int) []time.Duration {
		ds := make([]time.Duration, len(ns))
		for i, n := range ns {
			ds[i] = time.Duration(n) * time.Millisecond
		}
		return ds
	}
	tests := []struct {
		name             string
		hello, fn        []time.Duration
		median, q25, q75 float64
	}{
		// Round 3 is three times slower on both sides: ratios 1.5, 1.5, 1.5, 1.5.
		{"a slow round cancels", ms(4, 4, 12, 4), ms(6, 6, 18, 6), 1.5, 1.5, 1.5},
		// Ratios 1.2, 1.4, 1.6, 1.8, 2.0: median 1.6; quartiles by nearest
		// rank, the 2nd and 4th.
		{"spread of five rounds", ms(10, 10, 10, 10, 10), ms(20, 12, 18, 14, 16), 1.6, 1.4, 1.8},
		// Even count: the median is the mean of the middle two.
		{"even count", ms(10, 10), ms(12, 14), 1.3, 1.2, 1.4},
		{"no rounds", nil, nil, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, f := &subject{cold: tt.hello}, &subject{cold: tt.fn}
			near := func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
			if got := pairedRatio(f, h); !near(got, tt.median) {
				t.Errorf("pairedRatio %.3f, want %.3f", got, tt.median)
			}
			if q25, q75 := pairedSpread(f, h); !near(q25, tt.q25) || !near(q75, tt.q75) {
				t.Errorf("pairedSpread %.3f–%.3f, want %.3f–%.3f", q25, q75, tt.q25, tt.q75)
			}
		})
	}
}

// The whole command, briefly: every function of template.yaml and the
// hello-world yardstick are built, started cold and measured. The budget
// itself is not asserted here (make bench-lambda is the measurement; a
// shared CI machine is too noisy for it), only that it is reported.
func TestBenchmarkMeasuresEveryFunction(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Runtime Interface Emulator runs on Linux")
	}
	// The bound starts after the builds, which on empty caches and 2 cores
	// take minutes of their own (go test's -timeout still bounds them).
	var out bytes.Buffer
	// Two cold starts each: this checks that every function is measured
	// and the budget reported; the figures are make bench-lambda's.
	err := run(t.Context(), []string{"-cold", "2", "-warm", "5", "-measure-timeout", "3m"}, &out)
	if err != nil && !strings.HasSuffix(err.Error(), "over budget") {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	tmpl, err := samtemplate.LoadModule(".")
	if err != nil {
		t.Fatal(err)
	}
	rows := []string{hello}
	for _, f := range tmpl.Functions {
		rows = append(rows, f.LogicalID)
	}
	for _, name := range rows {
		if !strings.Contains(out.String(), name+" ") {
			t.Errorf("no row for %s:\n%s", name, out.String())
		}
	}
	if !strings.Contains(out.String(), "budget: cold start ≤ 1.5× hello-world's") {
		t.Errorf("the budget is not reported:\n%s", out.String())
	}
}
