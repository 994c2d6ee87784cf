// Command benchlambda measures every function of template.yaml as Lambda
// runs it, against a hello-world aws-lambda-go function (./hello) built
// with the same flags: each bootstrap runs under AWS's Lambda Runtime
// Interface Emulator with DynamoDB pointed at the embedded store, and
// answers its group's sample event (functions.Group.Sample: a DynamoDB
// read, prepared as the replay prepares its events).
//
// For each it reports the size of the deployed binary (linux/arm64), the
// cold start (median of -cold starts: from the first invocation, which
// makes the emulator exec the bootstrap, to its complete answer; the
// emulator's own start is not counted), warm latency percentiles (-warm
// invocations of a running bootstrap) and the bootstrap's peak RSS
// (VmHWM). Functions are measured interleaved, round by round, so a noisy
// machine slows them all alike and the ratios hold; beside the median of
// the rounds' ratios (the budget's figure) it gives their interquartile
// range, which on a shared 2-core machine is wide (0.3 to 0.5× seen here),
// so that a median within 0.1× of the budget is read as the coin toss it is.
//
// It exits non-zero when a function is over budget: cold start above 1.5×
// the hello-world's, binary above 15 MB, peak RSS of 64 MB or more.
//
//	go run ./cmd/benchlambda [-cold 15] [-warm 200]    (make bench-lambda)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pufinid/pufinid-api/functions"
	"github.com/pufinid/pufinid-api/shared/dev/lambdarun"
	"github.com/pufinid/pufinid-api/shared/dev/module"
	"github.com/pufinid/pufinid-api/shared/dev/replay"
)

// The budget.
const (
	maxColdRatio = 1.5
	maxSize      = 15 << 20
	maxRSS       = 64 << 20
	hello        = "hello-world"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchlambda:", err)
		os.Exit(1)
	}
}

// subject is one bootstrap under test.
type subject struct {
	name      string
	bootstrap string // host architecture, run here
	size      int64  // of the linux/arm64 build
	event     []byte
	env       map[string]string
	cold      []time.Duration
	warm      []time.Duration
	rss       int64
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("benchlambda", flag.ContinueOnError)
	rie := fs.String("rie", "", "the Runtime Interface Emulator `binary` (default: built by make rie-path)")
	colds := fs.Int("cold", 15, "cold starts per function (the median is reported)")
	warms := fs.Int("warm", 200, "warm invocations per function")
	limit := fs.Duration("measure-timeout", 0, "bound on the measurement, which starts once everything is built (0: none)")
	var extra envFlag
	fs.Var(&extra, "env", "`NAME=value` added to every bootstrap's environment, hello-world's included (repeatable): to measure a setting such as GOGC")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *colds < 1 {
		return fmt.Errorf("-cold %d: at least one cold start per function", *colds)
	}
	if *colds < 10 {
		// make test's check that every function is measured runs 2; a
		// median worth reading takes 10 or more (make bench-lambda: 15).
		fmt.Fprintf(stdout, "-cold %d: fewer than 10 starts, a rough median; for figures use 10 or more\n", *colds)
	}
	root, err := module.Root(".")
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "building the bootstraps and starting the embedded DynamoDB...")
	r, err := replay.NewReplayer(ctx, replay.Options{Root: root, Setups: functions.Setups(), EventSetups: functions.EventSetups(), RIE: *rie, Targets: []string{replay.Emulator}})
	if err != nil {
		return err
	}
	defer r.Close()
	subjects, cleanup, err := prepare(ctx, root, r)
	defer cleanup()
	if err != nil {
		return err
	}
	for _, s := range subjects {
		maps.Copy(s.env, extra)
	}
	// Compiling takes minutes on cold caches and 2 cores; only what
	// follows is measured, so only it is bounded.
	if *limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *limit)
		defer cancel()
	}

	fmt.Fprintf(stdout, "cold starts: %d rounds of %d bootstraps...\n", *colds, len(subjects))
	// A first round, not counted, loads each binary into the page cache.
	for round := -1; round < *colds; round++ {
		// Rotate who goes first, so no function always follows the same one.
		for i := range subjects {
			s := subjects[(i+max(round, 0))%len(subjects)]
			d, err := coldStart(ctx, r.RIE(), s)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			if round >= 0 {
				s.cold = append(s.cold, d)
			}
		}
	}

	fmt.Fprintf(stdout, "warm: %d invocations of each, interleaved...\n", *warms)
	if err := warm(ctx, r.RIE(), subjects, *warms); err != nil {
		return err
	}
	return report(stdout, subjects)
}

// prepare builds hello-world and each function's event and environment.
func prepare(ctx context.Context, root string, r *replay.Replayer) ([]*subject, func(), error) {
	dir, err := os.MkdirTemp("", "benchlambda-")
	if err != nil {
		return nil, func() {}, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	helloBin, err := lambdarun.BuildPackage(ctx, root, "./cmd/benchlambda/hello", filepath.Join(dir, "hello"))
	if err != nil {
		return nil, cleanup, err
	}
	helloArm, err := lambdarun.BuildPackageFor(ctx, root, "./cmd/benchlambda/hello", filepath.Join(dir, "hello-arm64"), "arm64")
	if err != nil {
		return nil, cleanup, err
	}
	// The yardstick answers any event; it gets the first group's sample.
	sample, err := os.ReadFile(filepath.Join(root, functions.Groups[0].Sample))
	if err != nil {
		return nil, cleanup, err
	}
	h := &subject{name: hello, bootstrap: helloBin, event: sample, env: map[string]string{"AWS_LAMBDA_FUNCTION_NAME": hello}}
	if h.size, err = fileSize(helloArm); err != nil {
		return nil, cleanup, err
	}
	subjects := []*subject{h}
	evs, err := r.Events()
	if err != nil {
		return nil, cleanup, err
	}
	for _, f := range r.Template().Functions {
		path := ""
		if g, ok := functions.Lookup(f.LogicalID); ok {
			path = g.Sample
		} else if e, ok := functions.LookupEvent(f.LogicalID); ok {
			path = e.Sample
		}
		if path == "" {
			return nil, cleanup, fmt.Errorf("%s has no sample event in package functions' lists", f.LogicalID)
		}
		i := slices.IndexFunc(evs, func(e replay.Event) bool { return e.Path == path })
		if i < 0 {
			return nil, cleanup, fmt.Errorf("%s: no event %s", f.LogicalID, path)
		}
		bin, ok := r.Bootstrap(f.LogicalID)
		if !ok {
			return nil, cleanup, fmt.Errorf("%s: its bootstrap did not build", f.LogicalID)
		}
		s := &subject{name: f.LogicalID, bootstrap: bin}
		if s.event, s.env, err = r.Prepare(ctx, evs[i]); err != nil {
			return nil, cleanup, err
		}
		arm, err := lambdarun.BuildFor(ctx, root, f.LogicalID, filepath.Join(dir, f.LogicalID+"-arm64"), "arm64")
		if err != nil {
			return nil, cleanup, err
		}
		if s.size, err = fileSize(arm); err != nil {
			return nil, cleanup, err
		}
		subjects = append(subjects, s)
	}
	return subjects, cleanup, nil
}

// coldStart times a fresh emulator's first invocation: the emulator
// execs the bootstrap, which initializes, fetches the event and answers.
func coldStart(ctx context.Context, rie string, s *subject) (time.Duration, error) {
	p, out, d, err := lambdarun.Cold(ctx, lambdarun.Config{RIE: rie, Bootstrap: s.bootstrap, Env: s.env}, s.event)
	if err != nil {
		return 0, err
	}
	p.Close()
	return d, answered(out)
}

// warm runs every subject's bootstrap at once and invokes them in turn.
func warm(ctx context.Context, rie string, subjects []*subject, n int) error {
	procs := make([]*lambdarun.Process, len(subjects))
	defer func() {
		for _, p := range procs {
			if p != nil {
				p.Close()
			}
		}
	}()
	for i, s := range subjects {
		p, _, _, err := lambdarun.Cold(ctx, lambdarun.Config{RIE: rie, Bootstrap: s.bootstrap, Env: s.env}, s.event) // not counted
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		procs[i] = p
	}
	for range n {
		for i, s := range subjects {
			start := time.Now()
			out, err := procs[i].Invoke(ctx, s.event)
			d := time.Since(start)
			if err == nil {
				err = answered(out)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			s.warm = append(s.warm, d)
		}
	}
	for i, s := range subjects {
		rss, err := procs[i].PeakRSS()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		s.rss = rss
	}
	return nil
}

// answered checks that a response is the event's success, not an error
// that would make the timing meaningless.
func answered(out []byte) error {
	// An event function answers null (and an error object on failure).
	if string(bytes.TrimSpace(out)) == "null" {
		return nil
	}
	var resp struct {
		StatusCode int `json:"statusCode"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 {
		return fmt.Errorf("answered %s, want status 200 (or null, from an event function)", out)
	}
	return nil
}

// pairedRatios are s's cold starts over hello-world's in the same round,
// sorted. Each round runs every bootstrap once, back to back, so a machine
// that slows down for a while (a neighbour on the host: hello-world's
// median moved from 5.5 to 7.7 ms between runs here) slows both sides of a
// round's ratio alike; the ratio of two medians taken over the whole run
// does not cancel it.
func pairedRatios(s, hello *subject) []float64 {
	ratios := make([]float64, 0, len(s.cold))
	for i := range min(len(s.cold), len(hello.cold)) {
		ratios = append(ratios, float64(s.cold[i])/float64(hello.cold[i]))
	}
	slices.Sort(ratios)
	return ratios
}

// pairedRatio is the median of pairedRatios: the figure the budget holds.
func pairedRatio(s, hello *subject) float64 {
	ratios := pairedRatios(s, hello)
	if len(ratios) == 0 {
		return 0
	}
	if n := len(ratios); n%2 == 0 {
		return (ratios[n/2-1] + ratios[n/2]) / 2
	}
	return ratios[len(ratios)/2]
}

// pairedSpread is the interquartile range of pairedRatios (nearest rank):
// how far one round's ratio strays on this machine, which tells how much a
// median near the budget can be trusted.
func pairedSpread(s, hello *subject) (q25, q75 float64) {
	ratios := pairedRatios(s, hello)
	if len(ratios) == 0 {
		return 0, 0
	}
	rank := func(p int) float64 { return ratios[max((p*len(ratios)+99)/100-1, 0)] }
	return rank(25), rank(75)
}

func report(w io.Writer, subjects []*subject) error {
	base := percentile(subjects[0].cold, 50)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "function\tsize (arm64)\tcold p50\tp50 / hello p50\tcold / hello (paired)\tpaired q25–q75\twarm p50\twarm p99\tpeak RSS\tbudget\t")
	var over []string
	for _, s := range subjects {
		cold := percentile(s.cold, 50)
		medians := float64(cold) / float64(base)
		ratio := pairedRatio(s, subjects[0])
		verdict := "ok"
		var why []string
		if s.name != hello && ratio > maxColdRatio {
			why = append(why, fmt.Sprintf("cold start %.2f× hello-world's, paired by round (max %.1f×)", ratio, maxColdRatio))
		}
		if s.size > maxSize {
			why = append(why, fmt.Sprintf("binary %s (max %s)", mb(s.size), mb(maxSize)))
		}
		if s.rss >= maxRSS {
			why = append(why, fmt.Sprintf("peak RSS %s (max %s)", mb(s.rss), mb(maxRSS)))
		}
		if len(why) > 0 {
			verdict = "OVER"
			for _, y := range why {
				over = append(over, s.name+": "+y)
			}
		}
		q25, q75 := pairedSpread(s, subjects[0])
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f×\t%.2f×\t%.2f–%.2f×\t%s\t%s\t%s\t%s\t\n", s.name, mb(s.size), ms(cold), medians, ratio, q25, q75,
			ms(percentile(s.warm, 50)), ms(percentile(s.warm, 99)), mb(s.rss), verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "budget: cold start ≤ %.1f× hello-world's, binary ≤ %s, peak RSS < %s\n", maxColdRatio, mb(maxSize), mb(maxRSS))
	if len(over) > 0 {
		for _, o := range over {
			fmt.Fprintln(w, "OVER BUDGET", o)
		}
		return fmt.Errorf("%d over budget", len(over))
	}
	return nil
}

// percentile is the nearest-rank p-th percentile.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(i, 0)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// envFlag collects -env NAME=value settings.
type envFlag map[string]string

func (e *envFlag) String() string { return fmt.Sprint(map[string]string(*e)) }

func (e *envFlag) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("%q: want NAME=value", v)
	}
	if *e == nil {
		*e = envFlag{}
	}
	(*e)[name] = value
	return nil
}
