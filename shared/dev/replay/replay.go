// Package replay replays the API Gateway HTTP API (payload 2.0) events of
// events/ against the function each belongs to, two ways: in process,
// through the same aws-lambda-go-api-proxy adapter the function's main
// uses, and as the function's compiled bootstrap running under AWS's
// Lambda Runtime Interface Emulator (see shared/dev/lambdarun). DynamoDB is the
// embedded store, with a fresh table holding the demo fixture for every
// event; the users function's bootstrap sends its emails to the SES v2
// emulator (aws-ses-v2-local). Each answer is compared with the
// expectation beside its event (events/<group>/<name>.expected.json);
// Options.Update rewrites them from the in-process answers.
//
// Events needing state name it with placeholders ({{ACCESS_TOKEN}},
// {{CONFIRM_TOKEN}}...; see state.go), which the replay fills in after
// creating that state through the functions' own handlers. Volatile parts
// of answers (tokens, new ids, timestamps of now) are replaced by
// placeholders before comparing.
//
// Every AWS call each function makes goes through a recording proxy, and
// the calls are checked against the function's policies in template.yaml.
//
// cmd/replay (`make replay`) and this package's test (part of `make test`)
// run it, each giving it the list of groups (package functions); cmd/benchlambda
// uses it to prepare its events.
package replay

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/embeddeddb"
	"github.com/pufinid/pufinid-api/shared/dev/fixtures"
	"github.com/pufinid/pufinid-api/shared/dev/gateway"
	"github.com/pufinid/pufinid-api/shared/dev/lambdarun"
	"github.com/pufinid/pufinid-api/shared/dev/logcheck"
	"github.com/pufinid/pufinid-api/shared/dev/outbox"
	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
	"github.com/pufinid/pufinid-api/shared/dev/secretsemu"
	"github.com/pufinid/pufinid-api/shared/dev/sesemulator"
	"github.com/pufinid/pufinid-api/shared/lambdafn"
	"github.com/pufinid/pufinid-api/shared/mailer/sesmail"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/secretkeys"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/token"
)

// The two ways every event is replayed.
const (
	InProcess = "in-process" // the handler through the adapter its main uses
	Emulator  = "emulator"   // the compiled bootstrap under the Runtime Interface Emulator
)

// Values the replay gives the functions, as template.yaml's parameters
// would in a deployment.
const (
	sesFrom     = "no-reply@pufinid.test"
	confirmLink = "https://app.pufinid.test/confirm-email?email={email}&token={token}"
	resetLink   = "https://app.pufinid.test/reset-password?email={email}&token={token}"
	region      = "eu-west-1"
)

// Options configure a replay.
type Options struct {
	Root string // module root
	// Setups are the functions' Setups by logical id (functions.Setups()),
	// each run in process: a function of template.yaml with none is
	// reported as not replayable.
	Setups map[string]lambdafn.Setup
	// EventSetups are the Setups of the functions outside the HTTP API
	// (functions.EventSetups()). Their events are replayed the same two
	// ways; the expectation holds the function's answer and the items the
	// event wrote to the table.
	EventSetups map[string]lambdafn.EventSetup
	RIE         string         // the emulator; "" builds it with `make rie-path`
	Targets     []string       // InProcess, Emulator; nil: both
	Filter      *regexp.Regexp // replays only the event files it matches; nil: all
	Update      bool           // rewrite each expectation from the in-process answer
	Logs        io.Writer      // the functions' logs; nil discards them
	// Parallel is how many events replay at once (default 2, this
	// machine's core count).
	Parallel int
}

// Event is one event file and the function it is for.
type Event struct {
	Path     string // relative to Root, "events/faq/list.json"
	Function string // logical id
	Raw      []byte
}

// ExpectedPath is the file holding the event's expected response.
func (e Event) ExpectedPath() string { return strings.TrimSuffix(e.Path, ".json") + ".expected.json" }

// Result is one event replayed one way.
type Result struct {
	Event   string
	Target  string
	Err     error  // the mismatch, with a diff, or what went wrong
	Skipped string // why it was not replayed
}

// Report is a whole replay.
type Report struct {
	Results []Result
	// Missing names functions that could not be replayed, and why.
	Missing map[string]string
	// Policy lists the template policy problems found.
	Policy []string
	// Actions are the AWS actions each function performed.
	Actions map[string][]string
}

// Failed reports whether anything failed.
func (r *Report) Failed() bool {
	if len(r.Policy) > 0 || len(r.Missing) > 0 {
		return true
	}
	return slices.ContainsFunc(r.Results, func(x Result) bool { return x.Err != nil })
}

// Replayer holds what every replayed event shares: the embedded DynamoDB,
// the recording proxies, the built bootstraps.
type Replayer struct {
	opts       Options
	tmpl       *samtemplate.Template
	db         *embeddeddb.DB
	dynamo     map[string]*recorder // by function
	ses        map[string]*recorder // by function (users only, when the SES emulator runs)
	sesStop    func()
	secrets    *secretsemu.Emulator
	sm         map[string]*recorder // by function (those that read the signing keys' secret)
	keys       token.KeySet         // the private signing keys, in the secret
	keysARN    string
	sesMissing string
	bootstraps map[string]string // by function
	missing    map[string]string // function → why it cannot run
	ref        pufinid.Reference
	stable     map[string]bool // UUIDs that are data, not volatile
	tables     atomic.Int64
	tmpDir     string
}

// setup is the Setup of the group served by function.
func (r *Replayer) setup(function string) (lambdafn.Setup, bool) {
	setup, ok := r.opts.Setups[function]
	return setup, ok && setup != nil
}

// NewReplayer starts the embedded store and the recorders and, when the
// emulator target is wanted, builds every function's bootstrap.
func NewReplayer(ctx context.Context, o Options) (_ *Replayer, err error) {
	if o.Targets == nil {
		o.Targets = []string{InProcess, Emulator}
	}
	if o.Parallel < 1 {
		o.Parallel = 2
	}
	if o.Logs == nil {
		o.Logs = io.Discard
	}
	r := &Replayer{opts: o, dynamo: map[string]*recorder{}, ses: map[string]*recorder{}, sm: map[string]*recorder{},
		bootstraps: map[string]string{}, missing: map[string]string{}, stable: map[string]bool{}}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if r.tmpl, err = samtemplate.LoadModule(o.Root); err != nil {
		return nil, err
	}
	if r.ref, err = fixtures.Demo(); err != nil {
		return nil, err
	}
	demo, err := json.Marshal(r.ref)
	if err != nil {
		return nil, err
	}
	for _, u := range uuidRE.FindAllString(string(demo), -1) {
		r.stable[strings.ToLower(u)] = true
	}
	if r.db, err = embeddeddb.Start(""); err != nil {
		return nil, err
	}
	for _, f := range r.tmpl.Functions {
		if r.dynamo[f.LogicalID], err = newRecorder(r.db.URL, dynamoActions); err != nil {
			return nil, err
		}
		if f.InAPI() {
			if _, ok := r.setup(f.LogicalID); !ok {
				r.missing[f.LogicalID] = "no Setup in Options.Setups (package functions' list of groups)"
			}
		} else if setup := r.opts.EventSetups[f.LogicalID]; setup == nil {
			r.missing[f.LogicalID] = "no Setup in Options.EventSetups (package functions' list of event functions)"
		}
	}
	if err := r.startSecrets(); err != nil {
		return nil, err
	}
	if slices.Contains(o.Targets, Emulator) {
		if err := r.startSES(); err != nil {
			r.sesMissing = err.Error()
		}
		if err := r.build(ctx); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// startSES starts the SES v2 emulator (aws-ses-v2-local, installed by
// `npm ci`) for the functions whose template environment has SES_ENDPOINT.
func (r *Replayer) startSES() error {
	needs := slices.ContainsFunc(r.tmpl.Functions, func(f samtemplate.Function) bool { _, ok := f.Env[sesmail.EnvEndpoint]; return ok })
	if !needs {
		return nil
	}
	url, stop, err := sesemulator.Start(r.opts.Root)
	if err != nil {
		return err
	}
	r.sesStop = stop
	for _, f := range r.tmpl.Functions {
		if _, ok := f.Env[sesmail.EnvEndpoint]; ok {
			if r.ses[f.LogicalID], err = newRecorder(url, sesActions); err != nil {
				return err
			}
		}
	}
	return nil
}

// startSecrets makes the deployment's signing keys and serves them as
// Secrets Manager would, for the functions whose template environment
// names the secret, through a recorder of their calls.
func (r *Replayer) startSecrets() error {
	var err error
	if r.secrets, err = secretsemu.Start(); err != nil {
		return err
	}
	// One key from a fixed seed, so the replayed JWKS is the same answer
	// every run.
	if r.keys, err = token.FirstKeySet(bytes.NewReader(bytes.Repeat([]byte("replay-signing-key-seed"), 2)), time.Now()); err != nil {
		return err
	}
	doc, err := r.keys.MarshalPrivate()
	if err != nil {
		return err
	}
	r.keysARN = r.secrets.Put("pufinid/replay/signing-keys", string(doc))
	for _, f := range r.tmpl.Functions {
		if _, ok := f.Env[secretkeys.EnvSecret]; ok {
			if r.sm[f.LogicalID], err = newRecorder(r.secrets.URL, secretsActions); err != nil {
				return err
			}
		}
	}
	return nil
}

// build compiles every function's bootstrap (host architecture, the
// flags of `sam build`) and finds the emulator.
func (r *Replayer) build(ctx context.Context) error {
	var err error
	if r.opts.RIE == "" {
		if r.opts.RIE, err = lambdarun.RIE(ctx, r.opts.Root); err != nil {
			return err
		}
	}
	if r.tmpDir, err = os.MkdirTemp("", "replay-"); err != nil {
		return err
	}
	for _, f := range r.tmpl.Functions {
		bin, err := lambdarun.Build(ctx, r.opts.Root, f.LogicalID, filepath.Join(r.tmpDir, f.LogicalID))
		if err != nil {
			r.missing[f.LogicalID] = "bootstrap does not build: " + err.Error()
			continue
		}
		r.bootstraps[f.LogicalID] = bin
	}
	return nil
}

// Close stops everything NewReplayer started.
func (r *Replayer) Close() {
	for _, rec := range r.dynamo {
		rec.Close()
	}
	for _, rec := range r.ses {
		rec.Close()
	}
	for _, rec := range r.sm {
		rec.Close()
	}
	if r.secrets != nil {
		r.secrets.Close()
	}
	if r.sesStop != nil {
		r.sesStop()
	}
	if r.db != nil {
		r.db.Close()
	}
	if r.tmpDir != "" {
		os.RemoveAll(r.tmpDir)
	}
}

// Events lists the event files under events/, each with its function:
// events/<dir>/ holds the events of the function built from functions/<dir>.
func (r *Replayer) Events() ([]Event, error) {
	byDir := map[string]string{}
	for _, f := range r.tmpl.Functions {
		byDir[strings.TrimPrefix(lambdarun.Dir(f.LogicalID), "functions/")] = f.LogicalID
	}
	var evs []Event
	err := filepath.WalkDir(filepath.Join(r.opts.Root, "events"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".expected.json") {
			return err
		}
		rel, err := filepath.Rel(r.opts.Root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if r.opts.Filter != nil && !r.opts.Filter.MatchString(rel) {
			return nil
		}
		dir := strings.Split(rel, "/")[1]
		fn, ok := byDir[dir]
		if !ok {
			return fmt.Errorf("%s: events/%s/ belongs to no function of template.yaml", rel, dir)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		evs = append(evs, Event{Path: rel, Function: fn, Raw: raw})
		return nil
	})
	return evs, err
}

// Run replays every event every way and checks the functions' policies
// against what they did.
func (r *Replayer) Run(ctx context.Context) (*Report, error) {
	evs, err := r.Events()
	if err != nil {
		return nil, err
	}
	rep := &Report{Missing: map[string]string{}, Actions: map[string][]string{}}
	maps.Copy(rep.Missing, r.missing)
	type job struct {
		ev     Event
		target string
	}
	var jobs []job
	for _, ev := range evs {
		for _, t := range r.opts.Targets {
			jobs = append(jobs, job{ev, t})
		}
	}
	results := make([]Result, len(jobs))
	// In-process answers first: with Update they write the expectations
	// the emulator's answers are then held against, so a bootstrap that
	// answers differently fails even an update run.
	for _, target := range []string{InProcess, Emulator} {
		var (
			next atomic.Int64
			wg   sync.WaitGroup
		)
		for range r.opts.Parallel {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= len(jobs) {
						return
					}
					if jobs[i].target == target {
						results[i] = r.one(ctx, jobs[i].ev, target)
					}
				}
			})
		}
		wg.Wait()
	}
	rep.Results = results
	complete := len(rep.Missing) == 0 && r.opts.Filter == nil && len(r.opts.Targets) == 2 && r.sesMissing == ""
	for _, f := range r.tmpl.Functions {
		var acts []string
		acts = append(acts, r.dynamo[f.LogicalID].Actions()...)
		if rec, ok := r.ses[f.LogicalID]; ok {
			acts = append(acts, rec.Actions()...)
		}
		if rec, ok := r.sm[f.LogicalID]; ok {
			acts = append(acts, rec.Actions()...)
		}
		rep.Actions[f.LogicalID] = acts
		// Only a replay of every event by every function, both ways, has
		// seen all the calls a function makes.
		if complete {
			rep.Policy = append(rep.Policy, checkPolicies(f, acts)...)
		}
	}
	return rep, nil
}

// Template is the template the replay reads.
func (r *Replayer) Template() *samtemplate.Template { return r.tmpl }

// RIE is the emulator's path (empty without the Emulator target).
func (r *Replayer) RIE() string { return r.opts.RIE }

// Bootstrap is the path of function's built bootstrap.
func (r *Replayer) Bootstrap(function string) (string, bool) {
	b, ok := r.bootstraps[function]
	return b, ok
}

// Prepare makes ev ready to send to its function's bootstrap: a fresh
// table with the demo fixture and the state ev's placeholders need, the
// event with them filled in, and the bootstrap's environment for that
// table.
func (r *Replayer) Prepare(ctx context.Context, ev Event) (event []byte, env map[string]string, err error) {
	event, env, _, err = r.prepareEvent(ctx, ev)
	return event, env, err
}

// prepareEvent is Prepare, also returning the placeholders' values.
func (r *Replayer) prepareEvent(ctx context.Context, ev Event) (event []byte, env, vals map[string]string, err error) {
	f, ok := r.tmpl.Function(ev.Function)
	if !ok {
		return nil, nil, nil, fmt.Errorf("template.yaml has no %s", ev.Function)
	}
	table := fmt.Sprintf("replay-%d", r.tables.Add(1))
	if err := r.newTable(ctx, table); err != nil {
		return nil, nil, nil, err
	}
	if vals, err = r.prepare(ctx, ev, table); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: setting up its state: %w", ev.Path, err)
	}
	if event, err = fill(ev.Raw, vals); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", ev.Path, err)
	}
	env, err = r.env(f, table)
	return event, env, vals, err
}

// one replays ev one way, on a table of its own holding the demo fixture.
func (r *Replayer) one(ctx context.Context, ev Event, target string) Result {
	res := Result{Event: ev.Path, Target: target}
	if why, ok := r.missing[ev.Function]; ok {
		res.Skipped = ev.Function + ": " + why
		return res
	}
	f, _ := r.tmpl.Function(ev.Function)
	if target == Emulator && r.sesMissing != "" {
		if _, usesSES := f.Env[sesmail.EnvEndpoint]; usesSES {
			res.Skipped = ev.Function + ": SES emulator not available: " + r.sesMissing
			return res
		}
	}
	var got []byte
	if f.InAPI() {
		resp, vals, err := r.invoke(ctx, ev, f, target)
		if err != nil {
			res.Err = err
			return res
		}
		if got, err = normalize(resp, vals, r.stable); err != nil {
			res.Err = err
			return res
		}
	} else {
		var err error
		if got, err = r.invokeEvent(ctx, ev, f, target); err != nil {
			res.Err = err
			return res
		}
	}
	expPath := filepath.Join(r.opts.Root, ev.ExpectedPath())
	if r.opts.Update && target == InProcess {
		res.Err = os.WriteFile(expPath, got, 0o644)
		return res
	}
	want, err := os.ReadFile(expPath)
	if err != nil {
		res.Err = fmt.Errorf("%s: no expectation (run with -update to write it): %w", ev.Path, err)
		return res
	}
	if f.InAPI() {
		want, err = canonical(want)
	} else {
		want, err = canonicalEvent(want)
	}
	if err != nil {
		res.Err = fmt.Errorf("%s: %w", ev.ExpectedPath(), err)
		return res
	}
	if !bytes.Equal(got, want) {
		res.Err = fmt.Errorf("%s (%s, %s): response differs from %s:\n%s",
			ev.Path, ev.Function, target, ev.ExpectedPath(), diff(string(want), string(got)))
	}
	return res
}

// invoke sets up the event's state, fills its placeholders and sends it.
func (r *Replayer) invoke(ctx context.Context, ev Event, f samtemplate.Function, target string) (events.APIGatewayV2HTTPResponse, map[string]string, error) {
	var resp events.APIGatewayV2HTTPResponse
	raw, env, vals, err := r.prepareEvent(ctx, ev)
	if err != nil {
		return resp, nil, err
	}
	// The function's lines of this one invocation, held to telemetry's
	// conventions below.
	logs := &lockedBuffer{}
	logOut := io.MultiWriter(logs, r.opts.Logs)
	switch target {
	case InProcess:
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return resp, nil, fmt.Errorf("%s: not an HTTP API payload 2.0 event: %w", ev.Path, err)
		}
		log := config.FunctionLogger(mapEnv(env), logOut)
		setup, _ := r.setup(f.LogicalID)
		h, err := setup(ctx, config.Env{Getenv: mapEnv(env), Log: log, Mailer: outbox.New(log)})
		if err != nil {
			return resp, nil, fmt.Errorf("%s: %s does not start: %w", ev.Path, f.LogicalID, err)
		}
		// As in Lambda: the warm-up runs while the event is on its way.
		warmed := lambdafn.WarmUp(h)
		defer func() { <-warmed }()
		resp, err = httpadapter.NewV2(h).ProxyWithContext(gateway.Invocation(ctx, f.LogicalID), req)
		if err != nil {
			return resp, nil, fmt.Errorf("%s: adapter: %w", ev.Path, err)
		}
	case Emulator:
		p, out, _, err := lambdarun.Cold(ctx, lambdarun.Config{RIE: r.opts.RIE, Bootstrap: r.bootstraps[f.LogicalID], Env: env, Output: logOut}, raw)
		if err != nil {
			return resp, nil, fmt.Errorf("%s: %w", ev.Path, err)
		}
		p.Close()
		if err := json.Unmarshal(out, &resp); err != nil {
			return resp, nil, fmt.Errorf("%s: the bootstrap's answer is not an HTTP API response: %w\n%s", ev.Path, err, out)
		}
	}
	// Each replay is a new process (or a new Setup): a cold start.
	if lines, _ := logcheck.Parse(logs.Bytes()); logcheck.Invocation(lines, true) != nil {
		return resp, nil, fmt.Errorf("%s: the function's log lines break telemetry's conventions: %w\n%s",
			ev.Path, logcheck.Invocation(lines, true), logcheck.String(lines))
	}
	return resp, vals, nil
}

// lockedBuffer is a bytes.Buffer a process's output and the test can share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func (r *Replayer) newTable(ctx context.Context, table string) error {
	st, err := store.Open(ctx, store.Options{Table: table, Endpoint: r.db.URL})
	if err != nil {
		return err
	}
	if err := st.CreateTable(ctx); err != nil {
		return err
	}
	jwks, err := r.keys.JWKS()
	if err != nil {
		return err
	}
	if err := st.PublishPublicKeys(ctx, jwks); err != nil {
		return err
	}
	return fixtures.Load(ctx, st, r.ref)
}

// env is the bootstrap's whole environment: what Lambda itself sets, and
// the variables template.yaml gives the function, with the values a local
// deployment has. A variable the template sets that the replay cannot
// give is an error, so a new variable cannot go unreplayed.
func (r *Replayer) env(f samtemplate.Function, table string) (map[string]string, error) {
	values := map[string]string{
		config.EnvTable:             table,
		config.EnvDynamoDBEndpoint:  r.dynamo[f.LogicalID].URL,
		secretkeys.EnvSecret:        r.keysARN,
		secretkeys.EnvEndpoint:      "",
		sesmail.EnvFromAddress:      sesFrom,
		sesmail.EnvConfigurationSet: "",
		// The in-process handler keeps its emails; only bootstraps send
		// through SES, to the emulator's recorder set below.
		sesmail.EnvEndpoint:        "",
		config.EnvConfirmEmailURL:  confirmLink,
		config.EnvResetPasswordURL: resetLink,
	}
	if rec, ok := r.ses[f.LogicalID]; ok {
		values[sesmail.EnvEndpoint] = rec.URL
	}
	if rec, ok := r.sm[f.LogicalID]; ok {
		values[secretkeys.EnvEndpoint] = rec.URL
	}
	env := lambdaEnv(f.LogicalID)
	for _, name := range f.EnvNames() {
		v, ok := values[name]
		if !ok {
			return nil, fmt.Errorf("template.yaml gives %s the variable %s, which the replay does not know a value for (shared/dev/replay, Replayer.env)", f.LogicalID, name)
		}
		env[name] = v
	}
	return env, nil
}

// lambdaEnv is what the Lambda service sets in every function's
// environment (the part the functions can read).
func lambdaEnv(function string) map[string]string {
	return map[string]string{
		"AWS_REGION":                      region,
		"AWS_DEFAULT_REGION":              region,
		"AWS_ACCESS_KEY_ID":               "replay",
		"AWS_SECRET_ACCESS_KEY":           "replay",
		"AWS_SESSION_TOKEN":               "replay",
		"AWS_LAMBDA_FUNCTION_NAME":        function,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"TZ":                              ":UTC",
	}
}

func mapEnv(env map[string]string) config.Getenv { return func(k string) string { return env[k] } }

// expectation is an expected response: the status, the headers that
// matter, and the body (JSON as JSON, anything else as a string).
type expectation struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers,omitempty"`
	Body       any               `json:"body,omitempty"`
}

// headersThatMatter are compared; the rest (dates, lengths) are not part
// of the contract.
var headersThatMatter = []string{"allow", "content-type", "location", "retry-after", "www-authenticate"}

var (
	jwtRE  = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
	uuidRE = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	// timeRE finds RFC 3339 timestamps. Those of the fixture are data;
	// those of now (an acceptance, a creation) are volatile: they are the
	// ones within a day of the replay.
	timeRE = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`)
)

// normalize turns a response into its expectation, with the volatile
// parts replaced deterministically: the values the replay filled in by
// their placeholders, other tokens by {{JWT}}, ids not from the fixture by
// {{UUID}}, timestamps of today by {{NOW}}.
func normalize(resp events.APIGatewayV2HTTPResponse, vals map[string]string, stable map[string]bool) ([]byte, error) {
	body := resp.Body
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return nil, err
		}
		body = string(b)
	}
	exp := expectation{StatusCode: resp.StatusCode, Headers: map[string]string{}}
	all := map[string]string{}
	for k, v := range resp.Headers {
		all[strings.ToLower(k)] = v
	}
	for k, vs := range resp.MultiValueHeaders {
		all[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	for _, h := range headersThatMatter {
		if v, ok := all[h]; ok {
			exp.Headers[h] = v
		}
	}
	if body != "" {
		var v any
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&v); err == nil && !dec.More() {
			exp.Body = v
		} else {
			exp.Body = body
		}
	}
	n := normalizer{vals: vals, stable: stable}
	exp.Body = n.walk(exp.Body)
	for k, v := range exp.Headers {
		exp.Headers[k] = n.str(v)
	}
	return marshal(exp)
}

type normalizer struct {
	vals   map[string]string
	stable map[string]bool
}

func (n normalizer) walk(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = n.walk(e)
		}
	case []any:
		for i, e := range x {
			x[i] = n.walk(e)
		}
	case string:
		return n.str(x)
	}
	return v
}

// volatile are the placeholders whose values change from run to run.
var volatile = []string{"ACCESS_TOKEN", "REFRESH_TOKEN", "CONFIRM_TOKEN", "RESET_TOKEN", "USER_ID"}

func (n normalizer) str(s string) string {
	for _, name := range volatile {
		if v := n.vals[name]; v != "" {
			s = strings.ReplaceAll(s, v, "{{"+name+"}}")
		}
	}
	s = jwtRE.ReplaceAllString(s, "{{JWT}}")
	s = uuidRE.ReplaceAllStringFunc(s, func(u string) string {
		if n.stable[strings.ToLower(u)] {
			return u
		}
		return "{{UUID}}"
	})
	return timeRE.ReplaceAllStringFunc(s, func(ts string) string {
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil && time.Since(t).Abs() < 24*time.Hour {
			return "{{NOW}}"
		}
		return ts
	})
}

func marshal(exp any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(exp); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// canonical re-encodes an expectation file as normalize writes it, so
// hand edits that change only spacing or key order still compare equal.
func canonical(b []byte) ([]byte, error) {
	var exp expectation
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&exp); err != nil {
		return nil, err
	}
	if exp.Headers == nil {
		exp.Headers = map[string]string{}
	}
	return marshal(exp)
}

var placeholderRE = regexp.MustCompile(`\{\{([A-Z_]+)\}\}`)

// tokenSafe are the characters a filled-in value may hold: it lands inside
// JSON strings (some of them JSON inside a JSON string) and in paths.
var tokenSafe = regexp.MustCompile(`^[A-Za-z0-9._~@+-]+$`)

// fill replaces the event's placeholders by vals.
func fill(raw []byte, vals map[string]string) ([]byte, error) {
	var errs []error
	out := placeholderRE.ReplaceAllFunc(raw, func(m []byte) []byte {
		v, ok := vals[string(m[2:len(m)-2])]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("unknown placeholder %s (known: %s)", m, strings.Join(slices.Sorted(maps.Keys(placeholders)), ", ")))
		case !tokenSafe.MatchString(v):
			errs = append(errs, fmt.Errorf("value of %s has characters that need escaping: %q", m, v))
		}
		return []byte(v)
	})
	return out, errors.Join(errs...)
}
