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
