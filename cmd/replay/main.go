// Command replay replays the API Gateway events of events/ against every
// function, in process and as its compiled bootstrap under AWS's Lambda
// Runtime Interface Emulator, and compares each answer with the
// expectation beside the event; see package shared/dev/replay.
//
//	go run ./cmd/replay [-update] [-run regexp] [-target in-process|emulator] [-v]
//
// `make replay` runs it (`make replay UPDATE=1` rewrites the expectations).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pufinid/pufinid-api/functions"
	"github.com/pufinid/pufinid-api/shared/dev/module"
	"github.com/pufinid/pufinid-api/shared/dev/replay"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stdout)
	rie := fs.String("rie", "", "the Runtime Interface Emulator `binary` (default: built by make rie-path)")
	update := fs.Bool("update", false, "rewrite the expectations from the in-process answers")
	filter := fs.String("run", "", "replay only the event files matching this `regexp`")
	target := fs.String("target", "", "replay only one way: in-process or emulator")
	verbose := fs.Bool("v", false, "show the functions' logs")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	root, err := module.Root(".")
	if err != nil {
		fmt.Fprintln(stdout, err)
		return 1
	}
	o := replay.Options{Root: root, Setups: functions.Setups(), EventSetups: functions.EventSetups(), RIE: *rie, Update: *update}
	if *filter != "" {
		if o.Filter, err = regexp.Compile(*filter); err != nil {
			fmt.Fprintln(stdout, "-run:", err)
			return 2
		}
	}
	switch *target {
	case "":
	case replay.InProcess, replay.Emulator:
		o.Targets = []string{*target}
	default:
		fmt.Fprintf(stdout, "-target %q: want %s or %s\n", *target, replay.InProcess, replay.Emulator)
		return 2
	}
	if *verbose {
		o.Logs = stdout
	}
	start := time.Now()
	r, err := replay.NewReplayer(ctx, o)
	if err != nil {
		fmt.Fprintln(stdout, "replay:", err)
		return 1
	}
	defer r.Close()
	rep, err := r.Run(ctx)
	if err != nil {
		fmt.Fprintln(stdout, "replay:", err)
		return 1
	}
	printReport(stdout, rep, time.Since(start))
	if rep.Failed() {
		return 1
	}
	return 0
}

func printReport(w io.Writer, rep *replay.Report, took time.Duration) {
	passed, failed, skipped := 0, 0, 0
	for _, res := range rep.Results {
		switch {
		case res.Err != nil:
			failed++
			fmt.Fprintf(w, "FAIL %s [%s]\n%v\n", res.Event, res.Target, res.Err)
		case res.Skipped != "":
			skipped++
			fmt.Fprintf(w, "SKIP %s [%s]: %s\n", res.Event, res.Target, res.Skipped)
		default:
			passed++
		}
	}
	for _, fn := range sortedKeys(rep.Missing) {
		fmt.Fprintf(w, "MISSING %s: %s\n", fn, rep.Missing[fn])
	}
	for _, p := range rep.Policy {
		fmt.Fprintf(w, "POLICY %s\n", p)
	}
	for _, fn := range sortedKeys(rep.Actions) {
		fmt.Fprintf(w, "calls  %-20s %s\n", fn, strings.Join(rep.Actions[fn], " "))
	}
	fmt.Fprintf(w, "replay: %d passed, %d failed, %d skipped (%s)\n", passed, failed, skipped, took.Round(time.Millisecond))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
