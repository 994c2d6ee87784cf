package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/dev/lambdarun"
	"github.com/pufinid/pufinid-api/shared/dev/module"
)

// rssDesigns is the size of the memory test's Demo organization.
const rssDesigns = 50_000

// The local server, as `make run DESIGNS=50000` runs it (the real binary,
// in a process of its own), holds its memory steady under requests: after
// warm-up rounds of every kind of read (which fill the functions' caches
// and take the heap towards the collector's steady state), at least one
// of three more rounds adds at most rssStepBound to its resident memory. A
// server that kept something per request (a cache without a bound, a log
// buffer, a map of request ids) would grow by every round. The peak (VmHWM) is the load's,
// logged for the record.
func TestLocalServerMemoryDoesNotGrowPerRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 50,000 designs into a server of its own")
	}
	// Parallel: what it measures is the server's process, not this one.
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	const rssStepBound = 4 << 20
	root, err := module.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "local")
	build := exec.Command("go", "build", "-o", bin, "./cmd/local")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/local: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-port", "0", "-designs", strconv.Itoa(rssDesigns))
	cmd.Dir = root
	// GOGC=10: the collector runs every ~30 MB allocated on ~300 MB of
	// live data, a few times a round, so the resident memory the rounds
	// compare is what the server keeps. At the default (100) the heap may
	// grow to twice the live data before a cycle, and a server that makes
	// little garbage per request is still approaching that goal, a few MiB
	// a round, many rounds after the warm-up.
	cmd.Env = append(os.Environ(), "LOG_LEVEL=info", "GOGC=10")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	base, loaded := awaitServing(t, stdout)
	t.Logf("loaded: %s", loaded)
	afterLoad := procStatus(t, cmd.Process.Pid)

	access := mustSignUpAndLogIn(t, base, "memory@example.com")

	mib := func(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
	seq := 0
	round := func(requests int) {
		var wg sync.WaitGroup
		const clients = 4
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := c; i < requests; i += clients {
					seq := seq + i
					var path, bearer string
					switch i % 6 {
					case 0: // a page of designs read from the store: a new URL each time
						path, bearer = fmt.Sprintf("/v1/puf-designs/?limit=20&offset=%d&uncached=%d", (seq*37)%rssDesigns, seq), access
					case 1:
						path, bearer = fmt.Sprintf("/v1/puf-designs/?limit=100&offset=%d", (seq*101)%rssDesigns), access
					case 2:
						path = fmt.Sprintf("/v1/faq/topics/?uncached=%d", seq)
					case 3:
						path = "/v1/terms/"
					case 4:
						path, bearer = "/v1/users/me/", access
					case 5:
						path = fmt.Sprintf("/v1/no-such-route/%d/", seq)
					}
					req, _ := http.NewRequest(http.MethodGet, base+path, nil)
					if bearer != "" {
						req.Header.Set("Authorization", "Bearer "+bearer)
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if want := map[bool]int{true: http.StatusNotFound, false: http.StatusOK}[i%6 == 5]; resp.StatusCode != want {
						t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
						return
					}
				}
			}()
		}
		wg.Wait()
		seq += requests
	}
	// The first rounds take the heap to the collector's steady state
	// (GOGC=10: a tenth over the live data, most of it the embedded
	// store's), the later ones must leave it there.
	const perRound, warmRounds, rounds = 2000, 3, 3
	for range warmRounds {
		round(perRound)
	}
	first := procStatus(t, cmd.Process.Pid)
	prev, levels, steps := first, []string{}, []int64{}
	for range rounds {
		round(perRound)
		now := procStatus(t, cmd.Process.Pid)
		levels, steps = append(levels, mib(now.RSS)), append(steps, now.RSS-prev.RSS)
		prev = now
	}
	t.Logf("%d designs: RSS %s after the load (peak %s); %s after %d requests, then %v after each %d more; peak %s",
		rssDesigns, mib(afterLoad.RSS), mib(afterLoad.Peak), mib(first.RSS), warmRounds*perRound, levels, perRound, mib(prev.Peak))
	// A server that keeps something per request grows by every round; one
	// that does not levels off, though a busy machine can leave it still
	// approaching its steady state after the warm-up.
	if !slices.ContainsFunc(steps, func(d int64) bool { return d <= rssStepBound }) {
		t.Errorf("resident memory grew by more than %s in each of the %d rounds of %d requests after the warm-up: %v", mib(rssStepBound), rounds, perRound, levels)
	}
}

// awaitServing reads the server's JSON log until it serves, and returns
// its URL and the line that reported the load; the rest of the log is
// drained in the background.
func awaitServing(t *testing.T, stdout interface{ Read([]byte) (int, error) }) (url, loaded string) {
	t.Helper()
	type result struct{ url, loaded string }
	got := make(chan result, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var r result
		for sc.Scan() {
			var line struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			switch line.Msg {
			case "loaded the reference data":
				r.loaded = sc.Text()
			case "serving the PufinID API":
				r.url = line.URL
				got <- r
			}
		}
		close(got)
	}()
	select {
	case r, ok := <-got:
		if !ok {
			t.Fatal("the server stopped before serving")
		}
		return r.url, r.loaded
	case <-time.After(2 * time.Minute):
		t.Fatal("the server did not serve within 2 minutes")
	}
	return "", ""
}

// procStatus is a process's resident memory now and at its peak.
func procStatus(t *testing.T, pid int) lambdarun.Memory {
	t.Helper()
	m, err := lambdarun.ProcMemory(pid)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
