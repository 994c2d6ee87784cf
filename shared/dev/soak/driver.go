package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// driver is one run: the clients, the clock, and what they found.
type driver struct {
	cfg   Config
	ref   *reference
	nonce string // makes this run's addresses and usernames its own, even in a table other runs used
	skew  time.Duration

	// timeMu is held shared by every operation and exclusively by a move
	// of the clock, so that time never moves while a request runs.
	timeMu sync.RWMutex
	ctx    context.Context
	cancel context.CancelFunc

	requests, outbox atomic.Int64

	mu          sync.Mutex
	ops         map[string]int64
	statuses    map[int]int64
	failures    []Failure
	failureKeys map[string]int
	advanced    time.Duration
	sendBodies  map[string]string // email-sending route -> its 200 body, the same for every address
}

// Run runs cfg's clients against the server until its budget is spent, ctx
// ends or MaxFailures were found. The error is for a run that could not
// start; what the run found is in the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("soak: no BaseURL")
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.Requests <= 0 && cfg.Duration <= 0 {
		return nil, errors.New("soak: neither Requests nor Duration bounds the run")
	}
	if cfg.Clients <= 0 {
		cfg.Clients = 8
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ref, err := newReference(cfg.Reference)
	if err != nil {
		return nil, err
	}
	d := &driver{cfg: cfg, ref: ref, skew: cfg.ClockSkew,
		nonce: strconv.FormatInt(time.Now().UnixNano(), 36),
		ops:   map[string]int64{}, statuses: map[int]int64{}, sendBodies: map[string]string{}, failureKeys: map[string]int{}}
	if d.skew == 0 && cfg.Advance == nil {
		d.skew = time.Second
	}
	d.ctx, d.cancel = context.WithCancel(ctx)
	if cfg.Duration > 0 {
		d.ctx, d.cancel = context.WithTimeout(ctx, cfg.Duration)
	}
	defer d.cancel()

	start := time.Now()
	var wg sync.WaitGroup
	for i := range cfg.Clients {
		c := d.newClient(i)
		wg.Go(c.loop)
	}
	if cfg.Logf != nil {
		stop := make(chan struct{})
		defer close(stop)
		go d.progress(start, stop)
	}
	wg.Wait()

	d.mu.Lock()
	defer d.mu.Unlock()
	return &Report{
		Seed: cfg.Seed, Clients: cfg.Clients, Duration: time.Since(start),
		Requests: d.requests.Load(), OutboxRequests: d.outbox.Load(),
		Ops: d.ops, Statuses: d.statuses, Advanced: d.advanced, Failures: d.failures,
	}, nil
}

func (d *driver) progress(start time.Time, stop <-chan struct{}) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			n := d.requests.Load()
			d.mu.Lock()
			failures := len(d.failures)
			d.mu.Unlock()
			el := time.Since(start)
			d.cfg.Logf("soak: %v: %d requests (%.0f/s), %d failures", el.Round(time.Second), n, float64(n)/el.Seconds(), failures)
		}
	}
}

// running reports whether clients should start another operation.
func (d *driver) running() bool {
	return d.ctx.Err() == nil && (d.cfg.Requests <= 0 || d.requests.Load() < int64(d.cfg.Requests))
}

// now is the server's time as far as the driver knows.
func (d *driver) now() span {
	t := d.cfg.Now()
	return span{t.Add(-d.skew), t.Add(d.skew)}
}

// soon is now, widened by how long an operation may take on a real clock:
// a token chosen as live at soon stays live through the requests that use it.
func (d *driver) soon() span {
	s := d.now()
	if d.cfg.Advance == nil {
		s.hi = s.hi.Add(10 * time.Second)
	}
	return s
}

// advance moves the server's clock while no operation runs.
func (d *driver) advance(by time.Duration) {
	d.timeMu.Lock()
	defer d.timeMu.Unlock()
	d.cfg.Advance(by)
	d.mu.Lock()
	d.advanced += by
	d.mu.Unlock()
}

func (d *driver) countOp(name string) {
	d.mu.Lock()
	d.ops[name]++
	d.mu.Unlock()
}

// addFailure records f under key, the check that found it: a check that
// fails again only counts, so that one disagreement repeated on every
// request does not hide the others, and MaxFailures counts distinct ones.
func (d *driver) addFailure(key string, f Failure) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i, seen := d.failureKeys[key]; seen {
		d.failures[i].Count++
		return
	}
	f.Count = 1
	d.failureKeys[key] = len(d.failures)
	d.failures = append(d.failures, f)
	if len(d.failures) >= d.cfg.MaxFailures {
		d.cancel()
	}
}

// sameSendBody checks that an email-sending route answers every address
// with the same body, so that the answer cannot tell who has an account.
func (d *driver) sameSendBody(route string, body []byte) (first string, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	first, seen := d.sendBodies[route]
	if !seen {
		d.sendBodies[route] = string(body)
		return string(body), true
	}
	return first, first == string(body)
}

// client is one simulated client: its own random sequence, source address,
// users and model of them.
type client struct {
	d    *driver
	id   int
	rng  *rand.Rand
	http *http.Client

	users  []*user
	ghosts []*user // deleted users, for the checks that they stay gone
	// free are addresses the model knows have no account; tainted ones it
	// cannot know about (a signup that answered 503) and never uses again.
	free    []string
	tainted map[string]bool
	mail    map[string]*mailLog // by canonical address and route
	seq     int

	cur     string  // the operation running, for failure messages
	touched []*user // users the operation involved: dropped if it failed
	// mu guards what the goroutines of a race write: failed and history.
	mu      sync.Mutex
	failed  bool
	history []string
}

const historyLen = 16

func (d *driver) newClient(i int) *client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if d.cfg.LoopbackSources {
		dialer.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, byte(i/250), byte(2+i%250))}
	}
	tr := &http.Transport{DialContext: dialer.DialContext, MaxIdleConns: 16, MaxIdleConnsPerHost: 16,
		IdleConnTimeout: 90 * time.Second}
	return &client{
		d: d, id: i,
		rng:     rand.New(rand.NewPCG(uint64(d.cfg.Seed), uint64(i)+1)),
		http:    &http.Client{Transport: tr, Timeout: time.Minute},
		tainted: map[string]bool{}, mail: map[string]*mailLog{},
	}
}

// loop runs operations until the run ends.
func (c *client) loop() {
	defer c.http.CloseIdleConnections()
	for c.d.running() {
		o := c.pickOp()
		if o.expiry { // moves the clock: takes the time lock exclusively itself
			o.run(c)
			continue
		}
		c.d.timeMu.RLock()
		c.touched, c.failed = nil, false
		o.run(c)
		if c.failed {
			// After a wrong answer the model of these users is not to be
			// trusted: later checks on them would only repeat the failure.
			for _, u := range c.touched {
				c.forget(u)
			}
		}
		c.d.timeMu.RUnlock()
	}
}

// begin names the operation starting (for counts and failure messages);
// the function it returns restores the outer one (defer c.begin("x")()).
func (c *client) begin(name string) func() {
	prev := c.cur
	c.cur = name
	c.d.countOp(name)
	return func() { c.cur = prev }
}

func (c *client) touch(us ...*user) { c.touched = append(c.touched, us...) }

// forget drops u from the model; its address is never used again.
func (c *client) forget(u *user) {
	c.users = removeUser(c.users, u)
	c.ghosts = removeUser(c.ghosts, u)
	c.tainted[u.addr()] = true
}

// lost is forget after a 503 (with faults on): what the request changed,
// if anything, is unknown.
func (c *client) lost(u *user) { c.forget(u) }

func removeUser(s []*user, u *user) []*user {
	out := s[:0]
	for _, x := range s {
		if x != u {
			out = append(out, x)
		}
	}
	return out
}

// fail records a failure of the running operation: an answer the model
// does not allow. The users the operation touched are dropped after it,
// since the model of them can no longer be trusted.
func (c *client) fail(format string, args ...any) {
	c.report(true, format, args...)
}

// note records a failure of an answer's form (a header, the OpenAPI
// document), which says nothing of the state the model keeps.
func (c *client) note(format string, args ...any) {
	c.report(false, format, args...)
}

func (c *client) report(stateful bool, format string, args ...any) {
	key := format // a form check is the same whatever the operation
	if stateful {
		key = c.cur + "|" + format
	}
	c.reportKey(stateful, key, format, args...)
}

// reportKey records a failure under key: the same key again only counts.
func (c *client) reportKey(stateful bool, key, format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed = c.failed || stateful
	c.d.addFailure(key,
		Failure{Client: c.id, Op: c.cur, What: fmt.Sprintf(format, args...), History: slices.Clone(c.history)})
}

// remember keeps line in the client's recent history.
func (c *client) remember(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.history = append(c.history, line)
	if len(c.history) > historyLen {
		c.history = c.history[1:]
	}
}

// answer is one API answer.
type answer struct {
	req    string // "POST /v1/token/", for messages
	status int
	header http.Header
	body   []byte
	at     span           // the server's time while it answered
	obj    map[string]any // the body, when a JSON object
	val    any            // the body, when JSON
	// down: no usable answer (503, or none at all). The operation stops;
	// what the request may have changed is unknown.
	down bool
}

func (a *answer) String() string {
	return fmt.Sprintf("%s answered %d %s", a.req, a.status, clip(a.body, 600))
}

func clip(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// call sends one API request. body nil sends none; json.RawMessage is sent
// as is; anything else as JSON. bearer, if not "", is the access token.
func (c *client) call(method, path string, body any, bearer string) *answer {
	var raw []byte
	switch b := body.(type) {
	case nil:
	case json.RawMessage:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			panic(err) // the driver's own bodies always marshal
		}
	}
	// Every path works with and without its trailing slash.
	if p, q, _ := strings.Cut(path, "?"); strings.HasSuffix(p, "/") && c.rng.IntN(6) == 0 {
		path = strings.TrimSuffix(p, "/")
		if q != "" {
			path += "?" + q
		}
	}
	ct := ""
	if body != nil {
		ct = "application/json"
	}
	return c.send(method, path, ct, raw, body != nil, bearer)
}

// callRaw sends body as is, with contentType.
func (c *client) callRaw(method, path, contentType string, body []byte) *answer {
	return c.send(method, path, contentType, body, true, "")
}

// send is call without the choices that use the client's random source, so
// that the goroutines of a race may use it at once.
func (c *client) send(method, path, contentType string, raw []byte, hasBody bool, bearer string) *answer {
	req, err := http.NewRequest(method, c.d.cfg.BaseURL+path, bytes.NewReader(raw))
	if err != nil {
		panic(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if !hasBody {
		req.Body, req.ContentLength = nil, 0
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	a := &answer{req: method + " " + path}
	t0 := c.d.cfg.Now()
	resp, err := c.http.Do(req)
	if err == nil {
		a.body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	t1 := c.d.cfg.Now()
	a.at = span{t0.Add(-c.d.skew), t1.Add(c.d.skew)}
	c.d.requests.Add(1)
	if err != nil {
		a.down = true
		c.remember(fmt.Sprintf("%s %s -> no answer: %v", a.req, clip(raw, 300), err))
		c.fail("%s: no answer: %v", a.req, err)
		return a
	}
	a.status, a.header = resp.StatusCode, resp.Header
	c.d.mu.Lock()
	c.d.statuses[a.status]++
	c.d.mu.Unlock()
	c.remember(fmt.Sprintf("%s %s -> %d %s", a.req, clip(raw, 300), a.status, clip(a.body, 300)))
	if len(a.body) > 0 && json.Unmarshal(a.body, &a.val) == nil {
		a.obj, _ = a.val.(map[string]any)
	}

	// What holds for every answer.
	if a.header.Get("X-Content-Type-Options") != "nosniff" {
		c.note("%s: no X-Content-Type-Options: nosniff", a)
	}
	if a.status != http.StatusNoContent && !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		c.note("%s with Content-Type %q, want application/json", a, a.header.Get("Content-Type"))
	}
	if check := c.d.cfg.Check; check != nil {
		if err := check(Exchange{Method: method, Path: path, RequestHeader: req.Header, RequestBody: raw,
			Status: a.status, Header: a.header, Body: a.body}); err != nil {
			c.reportKey(false, fmt.Sprintf("check %s %s %d", method, route(path), a.status), "%s: %v", a.req, err)
		}
	}
	switch {
	case a.status == http.StatusServiceUnavailable:
		a.down = true
		if !c.d.cfg.Faults {
			c.fail("%s, and fault injection is off", a)
		} else if a.obj["detail"] != "Service temporarily unavailable." {
			c.note("%s; a 503 says {\"detail\": \"Service temporarily unavailable.\"}", a)
		}
	case a.status >= 500:
		a.down = true
		c.fail("%s: the contract never answers %d", a, a.status)
	}
	return a
}

var idSegment = regexp.MustCompile(`/[0-9a-fA-F-]{36}/?|/[0-9]+/?`)

// route is path with its query left out and its ids as {id}: the route an
// answer is of, for telling failures of one check on different routes apart.
func route(path string) string {
	p, _, _ := strings.Cut(path, "?")
	return idSegment.ReplaceAllString(strings.TrimSuffix(p, "/")+"/", "/{id}/")
}

// The expectations. Each records a failure and returns false when the
// answer is not the one wanted.

func (c *client) wantStatus(a *answer, status int) bool {
	if a.status != status {
		c.fail("%s; want %d", a, status)
		return false
	}
	return true
}

// wantField wants a 400 naming field among its field errors.
func (c *client) wantField(a *answer, field string) bool {
	if a.status != http.StatusBadRequest || !isMessages(a.obj[field]) {
		c.fail("%s; want 400 {%q: [...]}", a, field)
		return false
	}
	return true
}

// wantFieldErrors wants a 400 of field errors, whichever fields.
func (c *client) wantFieldErrors(a *answer) bool {
	ok := a.status == http.StatusBadRequest && len(a.obj) > 0
	for _, v := range a.obj {
		ok = ok && isMessages(v)
	}
	if !ok {
		c.fail("%s; want 400 {\"<field>\": [\"message\", ...]}", a)
	}
	return ok
}

func isMessages(v any) bool {
	l, ok := stringList(v)
	return ok && len(l) > 0
}

// wantDetail wants status with {"detail": detail} ("" takes any detail).
func (c *client) wantDetail(a *answer, status int, detail string) bool {
	got, _ := a.obj["detail"].(string)
	if a.status != status || got == "" || detail != "" && got != detail {
		w := "..."
		if detail != "" {
			w = strconv.Quote(detail)
		}
		c.fail("%s; want %d {\"detail\": %s}", a, status, w)
		return false
	}
	return true
}

const (
	msgNoAccount    = "No active account found with the given credentials"
	msgTokenInvalid = "Token is invalid or expired"
	msgRequired     = "This field is required."
	msgUnavailable  = "Service temporarily unavailable."
)

// wantTokenInvalid wants the token routes' 401.
func (c *client) wantTokenInvalid(a *answer) bool {
	if a.status != http.StatusUnauthorized || a.obj["detail"] != msgTokenInvalid || a.obj["code"] != "token_not_valid" {
		c.fail("%s; want 401 {\"detail\": %q, \"code\": \"token_not_valid\"}", a, msgTokenInvalid)
		return false
	}
	return true
}

func (c *client) wantForbidden(a *answer) bool { return c.wantDetail(a, http.StatusForbidden, "") }
func (c *client) wantNotFound(a *answer) bool  { return c.wantDetail(a, http.StatusNotFound, "") }

var throttledDetail = regexp.MustCompile(`^Request was throttled\. Expected available in [0-9]+ seconds?\.$`)

// wantThrottled checks a 429's body and Retry-After.
func (c *client) wantThrottled(a *answer) bool {
	d, _ := a.obj["detail"].(string)
	n, err := strconv.Atoi(a.header.Get("Retry-After"))
	if a.status != http.StatusTooManyRequests || !throttledDetail.MatchString(d) || err != nil || n < 0 {
		c.fail("%s (Retry-After %q); want 429 {\"detail\": \"Request was throttled. Expected available in N seconds.\"} with Retry-After",
			a, a.header.Get("Retry-After"))
		return false
	}
	return true
}

// wantNoStore checks an answer that carries a token or a user's data.
func (c *client) wantNoStore(a *answer) {
	if !strings.Contains(a.header.Get("Cache-Control"), "no-store") {
		c.note("%s without Cache-Control: no-store, yet it carries a token or a user's data", a.req)
	}
}

// passwordCheck handles the throttling part of the answer to a password
// check of u (failed: with a wrong password), whose exact answer would be
// want: a 429 is accepted when the throttles allow one, and otherwise is a
// failure. It records the check, and reports whether the caller is to
// check the exact answer (the request was not throttled and got one).
func (c *client) passwordCheck(a *answer, u *user, want int, failed bool) bool {
	fails, checks := countWithin(u.failures, loginWindow, a.at), countWithin(u.checks, loginWindow, a.at)
	allowed := fails >= loginFailureLimit || checks >= loginAccountChecks
	// A 429 or no answer counts as a failed check too: the model's counts
	// stay upper bounds of the server's, so they err toward allowing a 429.
	u.checked(a.at, failed || a.status == http.StatusTooManyRequests || a.down)
	switch {
	case a.down:
		return false
	case a.status == http.StatusTooManyRequests && allowed:
		c.wantThrottled(a)
		return false
	case a.status == http.StatusTooManyRequests:
		c.fail("%s, yet %s had at most %d failed password checks (%d checks) in the last 15 minutes: under 5 failures the exact answer %d is owed",
			a, u.email, fails, checks, want)
		return false
	}
	return true
}
