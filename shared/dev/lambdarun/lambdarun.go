// Package lambdarun builds the functions' bootstrap binaries and runs them
// the way Lambda does: under AWS's Lambda Runtime Interface Emulator (RIE),
// which execs the bootstrap on the first invocation and hands it events
// through the Lambda Runtime API. The event replay (cmd/replay) and the
// cold-start benchmark (cmd/benchlambda) use it.
//
// Builds go through lambda.mk's targets, so a bootstrap built here has the
// flags `sam build` uses (only the architecture differs: the host's, since
// the emulator runs it here). The emulator itself is built from the Go
// module proxy by `make rie-path`, at the version pinned in lambda.mk.
package lambdarun

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Dir is the package directory, relative to the module root, of the
// function with logical id logicalID: functions/<id without "Function",
// lower case>. lambda.mk's lambda_dir is the same rule.
func Dir(logicalID string) string {
	return "functions/" + strings.ToLower(strings.TrimSuffix(logicalID, "Function"))
}

// runMake runs a lambda.mk target at root and returns its standard output.
func runMake(ctx context.Context, root string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "make", append([]string{"-s", "--no-print-directory"}, args...)...)
	cmd.Dir = root
	// Under `make test`, the parent make's flags (its jobserver, its
	// command-line variables) must not leak into this one.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "MAKEFLAGS" && k != "MFLAGS" && k != "MAKELEVEL" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("make %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), nil
}

// Build compiles the function logicalID into dir/bootstrap for the host's
// architecture with `make build-<logicalID>`, and returns the binary's path.
func Build(ctx context.Context, root, logicalID, dir string) (string, error) {
	return BuildFor(ctx, root, logicalID, dir, runtime.GOARCH)
}

// BuildFor is Build for another architecture ("arm64": what is deployed).
func BuildFor(ctx context.Context, root, logicalID, dir, goarch string) (string, error) {
	_, err := runMake(ctx, root, "build-"+logicalID, "ARTIFACTS_DIR="+dir, "LAMBDA_GOARCH="+goarch)
	return filepath.Join(dir, "bootstrap"), err
}

// BuildPackage compiles any package (pkg relative to root, "./cmd/...")
// into dir/bootstrap with the same flags as the functions.
func BuildPackage(ctx context.Context, root, pkg, dir string) (string, error) {
	return BuildPackageFor(ctx, root, pkg, dir, runtime.GOARCH)
}

// BuildPackageFor is BuildPackage for another architecture.
func BuildPackageFor(ctx context.Context, root, pkg, dir, goarch string) (string, error) {
	_, err := runMake(ctx, root, "lambda-bootstrap", "LAMBDA_PKG="+pkg, "ARTIFACTS_DIR="+dir, "LAMBDA_GOARCH="+goarch)
	return filepath.Join(dir, "bootstrap"), err
}

// Functions lists lambda.mk's functions with their package directories
// (for the test that checks them against template.yaml).
func Functions(ctx context.Context, root string) (map[string]string, error) {
	out, err := runMake(ctx, root, "lambda-functions")
	if err != nil {
		return nil, err
	}
	fns := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		id, dir, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok {
			return nil, fmt.Errorf("lambdarun: unexpected line %q from make lambda-functions", sc.Text())
		}
		fns[id] = strings.TrimPrefix(dir, "./")
	}
	return fns, nil
}

// RIE returns the path of the Runtime Interface Emulator, building it
// first if it is not there yet (a few seconds, from the Go module proxy).
func RIE(ctx context.Context, root string) (string, error) {
	out, err := runMake(ctx, root, "rie-path")
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	path := lines[len(lines)-1]
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("lambdarun: make rie-path printed %q: %w", path, err)
	}
	return path, nil
}

// Config says what to run.
type Config struct {
	RIE       string // the emulator's binary
	Bootstrap string // the function's bootstrap
	// Env is the whole environment of the emulator, which passes it on to
	// the bootstrap (as Lambda passes a function's configured variables).
	// Nothing of this process's environment leaks in.
	Env map[string]string
	// Output receives the emulator's and the bootstrap's output (the
	// function's JSON logs); nil discards it.
	Output io.Writer
}

// Process is one running emulator and, after its first invocation, the
// bootstrap it execs.
type Process struct {
	// Started is when the emulator process was started.
	Started time.Time
	cmd     *exec.Cmd
	invoke  string
	exited  chan struct{}
	waitErr error
	client  *http.Client
	pid     int // the bootstrap's, once found

	bootstrap string // absolute, symlinks resolved
	ports     []int  // reserved until Close
	tail      tail   // the end of the output
}

// becomeSubreaper makes this process the reaper of its orphaned
// descendants, once (proc_linux.go).
var becomeSubreaper = sync.OnceFunc(becomeSubreaperOnce)

// Start starts the emulator on two free loopback ports and returns once it
// accepts invocations. The bootstrap starts on the first Invoke, as a cold
// Lambda does.
func Start(ctx context.Context, c Config) (*Process, error) {
	rie, err := filepath.Abs(c.RIE) // the command runs in the bootstrap's directory
	if err != nil {
		return nil, err
	}
	bootstrap, err := filepath.Abs(c.Bootstrap)
	if err != nil {
		return nil, err
	}
	if bootstrap, err = filepath.EvalSymlinks(bootstrap); err != nil {
		return nil, err
	}
	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}
	rtPort, err := freePort()
	if err != nil {
		release(apiPort)
		return nil, err
	}
	becomeSubreaper()
	invokeAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(apiPort))
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(rtPort)),
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = []string{}
	for k, v := range c.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = childAttr()
	p := &Process{
		cmd:       cmd,
		bootstrap: bootstrap,
		ports:     []int{apiPort, rtPort},
		invoke:    "http://" + invokeAddr + "/2015-03-31/functions/function/invocations",
		exited:    make(chan struct{}),
		// Keep-alive connections to the emulator, as Lambda's front end
		// has, so warm latencies measure the function, not TCP setup.
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}},
	}
	// The last lines of output go into errors, so a failed invocation
	// says what the emulator and the bootstrap printed.
	out := io.Writer(&p.tail)
	if c.Output != nil {
		out = io.MultiWriter(c.Output, &p.tail)
	}
	cmd.Stdout, cmd.Stderr = out, out
	p.Started = time.Now()
	if err := cmd.Start(); err != nil {
		release(p.ports...)
		return nil, err
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", invokeAddr, time.Second)
		if err == nil {
			conn.Close()
			return p, nil
		}
		select {
		case <-p.exited:
			release(p.ports...)
			return nil, fmt.Errorf("lambdarun: emulator exited before listening: %v", p.waitErr)
		case <-ctx.Done():
			p.Close()
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Close()
			return nil, fmt.Errorf("lambdarun: emulator not listening on %s after 10s", invokeAddr)
		}
	}
}

// ErrUnreachable is an invocation that never reached the function: the
// emulator did not answer at all (as when another process took one of its
// ports), or the bootstrap found no Runtime API to fetch the event from.
// The function's code did not run, so the invocation can be tried again
// on a fresh emulator.
var ErrUnreachable = errors.New("lambdarun: emulator unreachable")

// runtimeAPIRefused is what aws-lambda-go prints when it cannot fetch its
// first event. The emulator opens its Runtime API in a goroutine while it
// execs the bootstrap, so on a loaded machine the bootstrap can be first
// (seen about once in a thousand cold starts on 2 cores); the emulator
// then answers 502.
var runtimeAPIRefused = regexp.MustCompile(`failed to get the next invoke: .*/runtime/invocation/next": dial tcp [^ ]+: connect: connection refused`)

// Invoke sends one event and returns the function's response payload.
// A function error (the emulator's non-200 answer) is an error.
func (p *Process) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.invoke, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		// The bootstrap's output reaches us through the emulator's, which
		// may still be on its way when the emulator answers.
		if resp.StatusCode == http.StatusBadGateway && p.tail.waitFor(runtimeAPIRefused, 500*time.Millisecond) {
			return nil, fmt.Errorf("%w: the bootstrap started before the emulator's Runtime API listened\noutput:\n%s", ErrUnreachable, p.tail.String())
		}
		return nil, fmt.Errorf("lambdarun: emulator answered %d: %s\noutput:\n%s", resp.StatusCode, body, p.tail.String())
	}
	// A function that returned an error, or panicked, comes back as 200
	// with an errorMessage/errorType payload.
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte(`{"errorMessage"`)) {
		return nil, fmt.Errorf("lambdarun: function error: %s\noutput:\n%s", body, p.tail.String())
	}
	return body, nil
}

// Cold starts an emulator and sends it its first event, which makes it
// exec the bootstrap, as a cold Lambda does; d is how long that invocation
// took. An attempt that never reached the function (ErrUnreachable) is
// made again on a fresh emulator, three times at most. The caller closes
// the process; on error there is none.
func Cold(ctx context.Context, c Config, event []byte) (p *Process, out []byte, d time.Duration, err error) {
	for try := 1; ; try++ {
		if p, err = Start(ctx, c); err != nil {
			return nil, nil, 0, err
		}
		start := time.Now()
		out, err = p.Invoke(ctx, event)
		d = time.Since(start)
		if err == nil {
			return p, out, d, nil
		}
		p.Close()
		if !errors.Is(err, ErrUnreachable) || try == 3 {
			return nil, nil, 0, err
		}
	}
}

// BootstrapPID finds the bootstrap process the emulator started (a child
// of the emulator running the configured binary).
func (p *Process) BootstrapPID() (int, error) {
	if p.pid != 0 {
		return p.pid, nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || parentPID(pid) != p.cmd.Process.Pid {
			continue
		}
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && exe == p.bootstrap {
			p.pid = pid
			return pid, nil
		}
	}
	return 0, errors.New("lambdarun: no bootstrap process under the emulator (not invoked yet?)")
}

// parentPID reads the parent of pid from /proc/<pid>/stat, or -1.
func parentPID(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The command name, in parentheses, may hold spaces: fields count from
	// the last ')'. After it come state, then ppid.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return -1
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return ppid
}

// PeakRSS is the bootstrap's peak resident set size in bytes (VmHWM).
func (p *Process) PeakRSS() (int64, error) {
	pid, err := p.BootstrapPID()
	if err != nil {
		return 0, err
	}
	m, err := ProcMemory(pid)
	return m.Peak, err
}

// Memory is a process's resident set size, now and at its peak.
type Memory struct{ RSS, Peak int64 }

// ProcMemory reads a Linux process's resident memory from /proc (VmRSS
// and VmHWM), in bytes.
func ProcMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	var m Memory
	found := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		name, v, ok := strings.Cut(line, ":")
		var dst *int64
		switch {
		case !ok:
			continue
		case name == "VmRSS":
			dst = &m.RSS
		case name == "VmHWM":
			dst = &m.Peak
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("lambdarun: /proc/%d/status: %q: %w", pid, line, err)
		}
		*dst, found = kb*1024, found+1
	}
	if found != 2 {
		return Memory{}, errors.New("lambdarun: no VmRSS and VmHWM in /proc status")
	}
	return m, nil
}

// Close stops the emulator and the bootstrap.
func (p *Process) Close() {
	pid, err := p.BootstrapPID()
	if err == nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
	if err == nil {
		// Once the emulator is gone the bootstrap is this process's
		// child (becomeSubreaper): reap it. ECHILD if the emulator did.
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(pid, &ws, 0, nil)
	}
	p.client.CloseIdleConnections()
	release(p.ports...)
}

// reserved are the ports handed to emulators of this process that are
// still running. The emulator binds its Runtime API port only at the first
// invocation, so without this a port just given to one emulator could be
// given again to another started meanwhile (the kernel reuses a port
// released by a probe), and one of them would fail mid-replay.
var reserved = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// freePort finds a free loopback port and reserves it until release.
func freePort() (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		reserved.Lock()
		taken := reserved.ports[port]
		if !taken {
			reserved.ports[port] = true
		}
		reserved.Unlock()
		if !taken {
			return port, nil
		}
	}
	return 0, errors.New("lambdarun: no free port found")
}

func release(ports ...int) {
	reserved.Lock()
	defer reserved.Unlock()
	for _, p := range ports {
		delete(reserved.ports, p)
	}
}

// tail keeps the last tailSize bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 4 << 10

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - tailSize; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

// waitFor reports whether re matches the output within timeout.
func (t *tail) waitFor(re *regexp.Regexp, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(5 * time.Millisecond) {
		if re.MatchString(t.String()) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
