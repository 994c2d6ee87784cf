package main

import (
	"bufio"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/dev/outbox"
)

// testTimeouts are serverTimeouts shortened, each apart from the others so
// that a disconnection tells which one cut it.
var testTimeouts = timeouts{
	readHeader: 400 * time.Millisecond,
	read:       800 * time.Millisecond,
	write:      3 * time.Second,
	idle:       1200 * time.Millisecond,
}

// slack is how much later than its timeout a disconnection may come on a
// busy machine.
const slack = 3 * time.Second

// mustServeWithTimeouts serves the local API (the demo fixture behind the
// local API Gateway) over real TCP with tm until the test ends, and
// returns its address.
func mustServeWithTimeouts(t *testing.T, tm timeouts) string {
	t.Helper()
	gw, env := mustGateway(t)
	srv := newServer(newMux(gw, outbox.New(env.Log)), log.New(io.Discard, "", 0), tm)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// waitForClose reads from c until the server closes it, and fails if that
// takes longer than within (plus slack) or happens much sooner, which
// would mean something other than the timeout cut it.
func waitForClose(t *testing.T, c net.Conn, r io.Reader, since time.Time, within time.Duration) {
	t.Helper()
	if err := c.SetReadDeadline(since.Add(within + slack)); err != nil {
		t.Fatal(err)
	}
	_, err := io.Copy(io.Discard, r)
	elapsed := time.Since(since)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		t.Fatalf("still connected after %v; want the server to hang up within %v", elapsed.Round(time.Millisecond), within)
	}
	if elapsed < within*3/4 {
		t.Fatalf("hung up after %v (%v); want it to wait for the %v timeout", elapsed.Round(time.Millisecond), err, within)
	}
}

const loginHead = "POST /v1/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"

// The attack: slowloris. A client opens connections and sends each request
// a little at a time, or stops halfway, holding a goroutine and a file
// descriptor per connection; with only ReadHeaderTimeout, a client that
// sent its headers could stall mid-body for ever. Each way of stalling is
// cut by its own timeout.
func TestServerHangsUpOnClientsThatStall(t *testing.T) {
	t.Parallel()
	addr := mustServeWithTimeouts(t, testTimeouts)
	body := `{"username": "nobody@example.com", "password": "not-the-password"}`
	tests := []struct {
		name   string
		send   string
		within time.Duration
	}{
		{"headers, then half the body", loginHead + "Content-Length: 1000\r\n\r\n" + body[:20], testTimeouts.read},
		{"headers, then no body at all", loginHead + "Content-Length: 1000\r\n\r\n", testTimeouts.read},
		{"chunked body that never ends", loginHead + "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"use\r\n", testTimeouts.read},
		{"half the headers", loginHead, testTimeouts.readHeader},
		{"nothing after connecting", "", testTimeouts.readHeader},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, tc.send); err != nil {
				t.Fatal(err)
			}
			waitForClose(t, c, c, start, tc.within)
		})
	}
}

// A slow client that does finish within the read timeout is answered as
// any other, and its kept-alive connection is closed once it has been idle
// for the idle timeout.
func TestServerAnswersSlowClientsWithinTheTimeouts(t *testing.T) {
	t.Parallel()
	addr := mustServeWithTimeouts(t, testTimeouts)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := `{"username": "nobody@example.com", "password": "not-the-password"}`
	if _, err := io.WriteString(c, loginHead+"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body[:20]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(testTimeouts.read / 3)
	if _, err := io.WriteString(c, body[20:]); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to a slow but complete request: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// An unknown user: the login's own answer, not "Could not read the
	// request body."
	if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(got), "request body") {
		t.Fatalf("slow login: %d %s; want the 401 of an unknown user", resp.StatusCode, got)
	}
	waitForClose(t, c, br, time.Now(), testTimeouts.idle)
}

// serverTimeouts, run's, are all set, newServer applies them, and each is
// long enough for what it bounds.
func TestServerTimeoutsAreAllSet(t *testing.T) {
	t.Parallel()
	srv := newServer(http.NotFoundHandler(), nil, serverTimeouts)
	tm := serverTimeouts
	if srv.ReadHeaderTimeout != tm.readHeader || srv.ReadTimeout != tm.read || srv.WriteTimeout != tm.write || srv.IdleTimeout != tm.idle {
		t.Fatalf("newServer does not apply its timeouts: %+v", srv)
	}
	if tm.readHeader <= 0 || tm.read < tm.readHeader || tm.write < tm.read || tm.idle <= 0 {
		t.Errorf("serverTimeouts %+v: want each set, read at least readHeader, write at least read", tm)
	}
	// 64 KiB, the largest body a function takes, at 4 KiB/s.
	if tm.read < 16*time.Second {
		t.Errorf("read timeout %v cuts off a 64 KiB body at 4 KiB/s", tm.read)
	}
}
