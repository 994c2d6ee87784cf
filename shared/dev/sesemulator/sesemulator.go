// Package sesemulator runs aws-ses-v2-local, an Amazon SES v2 emulator from
// the npm registry (pinned in package.json; `npm ci` installs it), on a free
// loopback port, for the tests and the event replay that send real SES v2
// requests. It is never linked into a Lambda function.
package sesemulator

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/pufinid/pufinid-api/shared/dev/module"
)

// Version is the emulator npx fetches when node_modules has none; keep it
// equal to package.json's.
const Version = "2.10.2"

// Start runs the emulator and waits until it answers. It takes
// node_modules/.bin/aws-ses-v2-local under the module root that contains
// dir, or else asks npx for Version. stop ends it: it runs in a process
// group of its own (npx starts node as a child), so ending the group ends
// exactly what was started, and it dies with the process that started it.
func Start(dir string) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	args := []string{"--host", "127.0.0.1", "--port", strconv.Itoa(port)}
	var cmd *exec.Cmd
	if bin, ok := installed(dir); ok {
		cmd = exec.Command(bin, args...)
	} else if npx, err := exec.LookPath("npx"); err == nil {
		cmd = exec.Command(npx, append([]string{"--yes", "aws-ses-v2-local@" + Version}, args...)...)
	} else {
		return "", nil, errors.New("neither node_modules/.bin/aws-ses-v2-local nor npx found (run npm ci)")
	}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	url = "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(60 * time.Second) // npx may have to fetch it first
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return "", nil, fmt.Errorf("SES emulator exited: %v\n%s", err, out.String())
		default:
		}
		if resp, err := http.Get(url + "/health-check"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, stop, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("SES emulator did not answer at %s within 60s\n%s", url, out.String())
}

// installed finds node_modules/.bin/aws-ses-v2-local at the module root
// above dir.
func installed(dir string) (string, bool) {
	root, err := module.Root(dir)
	if err != nil {
		return "", false
	}
	bin := filepath.Join(root, "node_modules", ".bin", "aws-ses-v2-local")
	_, err = os.Stat(bin)
	return bin, err == nil
}

// syncBuffer collects the emulator's output, written by exec's copying
// goroutines and read on failure.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
