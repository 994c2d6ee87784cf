// Command local serves the whole API on one port for development: every
// function of template.yaml behind a local API Gateway that routes exactly
// as the deployed HTTP API does, each function's handler reached through the
// same Lambda adapter as in AWS. With no DYNAMODB_ENDPOINT it runs an
// embedded DynamoDB-compatible store and loads the demo fixture, so
// `make run` needs nothing else. Sent emails are kept and listed at
// GET /_aws/ses; the OpenAPI document is at GET /openapi.yaml.
//
//	go run ./cmd/local [-port 3000] [-fixtures path/to/fixture.json] [-designs N] [-faq-topics N]
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/ddbfault"
	"github.com/pufinid/pufinid-api/shared/dev/embeddeddb"
	"github.com/pufinid/pufinid-api/shared/dev/fixtures"
	"github.com/pufinid/pufinid-api/shared/dev/outbox"
	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
	"github.com/pufinid/pufinid-api/shared/store"
	"github.com/pufinid/pufinid-api/shared/token"
)

// defaultTable names the table when TABLE_NAME is unset.
const defaultTable = "pufinid-local"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, nil, nil); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		stop()
		os.Exit(1)
	}
}

// run serves until ctx ends. listening, if not nil, is told the server's
// base URL once it accepts connections (tests start it on -port 0). now,
// if not nil, is the clock of every function, token and store write in
// place of time.Now, so that a test can move time forward (the soak test
// expires tokens and throttle windows with it).
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, listening func(url string), now func() time.Time) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stdout)
	port := fs.Int("port", 3000, "port to listen on, on 127.0.0.1 (0: any free port)")
	fixturePath := fs.String("fixtures", "", "reference data fixture file (default: the demo fixture, shared/dev/fixtures/demo.json)")
	templatePath := fs.String("template", "", "SAM template whose routes to serve (default: template.yaml at the module root)")
	designs := fs.Int("designs", 0, "generate PUF designs until the Demo organization has this many (measuring page cost)")
	topics := fs.Int("faq-topics", 0, "generate FAQ topics until there are this many")
	corsOrigins := fs.String("cors-origins", strings.Join(defaultCORSOrigins, ","), "origins browsers may call the API from, comma separated (template.yaml's CorsConfiguration; host:* for any port)")
	dbPort := fs.Int("dynamodb-port", 0, "port of the embedded DynamoDB, on 127.0.0.1, for the AWS CLI and other tools (0: any free port)")
	if err := fs.Parse(args[1:]); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	log := config.Logger(getenv, stdout)

	if *templatePath == "" {
		p, err := samtemplate.Find(".")
		if err != nil {
			return err
		}
		*templatePath = p
	}
	tmpl, err := samtemplate.Load(*templatePath)
	if err != nil {
		return err
	}
	ref, source, err := fixtures.Read(*fixturePath)
	if err != nil {
		return err
	}
	if ref, err = fixtures.Grow(ref, *designs, *topics); err != nil {
		return err
	}
	if now == nil {
		now = time.Now
	}

	st, db, err := openStore(ctx, getenv, log, now, *dbPort)
	if err != nil {
		return err
	}
	defer db.close()
	if err := st.CreateTable(ctx); err != nil {
		return fmt.Errorf("create table %s: %w", st.Table(), err)
	}
	if getenv(config.EnvDynamoDBEndpoint) != "" {
		// Another DynamoDB (LocalStack) creates tables asynchronously; the
		// embedded store's are usable at once.
		if err := st.WaitForTable(ctx, time.Minute); err != nil {
			return fmt.Errorf("wait for table %s: %w", st.Table(), err)
		}
	}
	loadStart := time.Now()
	if err := fixtures.Load(ctx, st, ref); err != nil {
		return fmt.Errorf("load fixture: %w", err)
	}
	log.Info("loaded the reference data", "source", source, "organizations", len(ref.Organizations), "terms", len(ref.Terms),
		"faq_topics", len(ref.FAQTopics), "puf_designs", len(ref.PufDesigns), "apps_profiles", len(ref.AppProfiles),
		"took", time.Since(loadStart).Round(time.Millisecond).String())
	// A large fixture's load leaves about five times the data in garbage
	// (the SDK's and the embedded store's JSON); hand it back to the OS at
	// once, so that the server's resident memory is its data.
	debug.FreeOSMemory()

	keys, err := ephemeralKeys(ctx, st, now())
	if err != nil {
		return err
	}
	log.Info("signing tokens with an ephemeral Ed25519 key pair made for this run: they do not outlive it",
		"kid", keys.Keys[0].ID, "jwks", "/.well-known/jwks.json")
	mail := outbox.New(log)
	gw, unwired, err := newGateway(ctx, tmpl, localEnv{getenv: getenv, log: log, now: now, middleware: db.middleware, mail: mail,
		keys:        token.StaticKeys(keys),
		corsOrigins: append([]string{}, samtemplate.SplitList(*corsOrigins)...), // "" allows none
		values: map[string]string{
			config.EnvTable:            st.Table(),
			config.EnvDynamoDBEndpoint: db.endpoint,
			config.EnvConfirmEmailURL:  cmp.Or(getenv(config.EnvConfirmEmailURL), localConfirmEmailURL),
			config.EnvResetPasswordURL: cmp.Or(getenv(config.EnvResetPasswordURL), localResetPasswordURL),
		}})
	if err != nil {
		return err
	}
	if len(unwired) > 0 {
		log.Warn("functions of template.yaml with no endpoint group in package functions: their routes answer 404", "functions", unwired)
	}

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	srv := newServer(newMux(gw, mail), slog.NewLogLogger(log.Handler(), slog.LevelWarn), serverTimeouts)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("serving the PufinID API", "url", url, "table", st.Table(),
		"functions", gw.functions(), "cors_origins", gw.corsOrigins(), "openapi", url+"/openapi.yaml", "docs", url+"/docs", "emails", url+"/_aws/ses")
	if listening != nil {
		listening(url)
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// The links of the emails kept in the outbox when CONFIRM_EMAIL_URL and
// RESET_PASSWORD_URL are unset. No app serves them locally: a developer
// takes the token from the link (logged, and listed at GET /_aws/ses) and
// posts it to the API.
const (
	localConfirmEmailURL  = "http://app.localhost/confirm-email?email={email}&token={token}"
	localResetPasswordURL = "http://app.localhost/reset-password?email={email}&token={token}"
)

// inspectCommand is the AWS CLI command that lists the embedded store's
// items: any credentials do, the store checks none.
func inspectCommand(endpoint, table string) string {
	return fmt.Sprintf("AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws dynamodb scan --region us-east-1 --endpoint-url %s --table-name %s", endpoint, table)
}

// database is where the local server's DynamoDB is: the endpoint every
// function is given, the fault injection every client gets, and how to
// stop it.
type database struct {
	endpoint   string
	middleware []func(*middleware.Stack) error
	close      func()
}

// openStore opens the table at DYNAMODB_ENDPOINT (LocalStack, say) or,
// with none set, in an embedded store that lives as long as the process,
// whose expired items go every minute as DynamoDB's TTL would delete them.
// PUFINID_DYNAMODB_FAULTS injects DynamoDB's transient answers into every
// call (shared/dev/ddbfault): the database's middleware carries them to
// every function's client; its close logs what was injected.
func openStore(ctx context.Context, getenv func(string) string, log *slog.Logger, now func() time.Time, dbPort int) (*store.Store, database, error) {
	table := getenv(config.EnvTable)
	if table == "" {
		table = defaultTable
	}
	var db database
	report := func() {}
	if spec := getenv(ddbfault.EnvSpec); spec != "" {
		sp, err := ddbfault.ParseSpec(spec)
		if err != nil {
			return nil, db, err
		}
		faults := ddbfault.New(sp)
		db.middleware = append(db.middleware, faults.Install)
		log.Warn("injecting DynamoDB faults into every call", "faults", sp.String())
		report = func() {
			st := faults.Stats()
			log.Info("DynamoDB faults injected", "calls", st.Calls, "attempts", st.Attempts, "faults", st.Total(), "by_kind", st.Injected)
		}
	}
	if endpoint := getenv(config.EnvDynamoDBEndpoint); endpoint != "" {
		db.endpoint, db.close = endpoint, report
		st, err := store.Open(ctx, store.Options{Table: table, Endpoint: endpoint, Now: now, APIOptions: db.middleware})
		log.Info("using DynamoDB at DYNAMODB_ENDPOINT", "endpoint", endpoint, "table", table)
		return st, db, err
	}
	emb, err := embeddeddb.Start(net.JoinHostPort("127.0.0.1", strconv.Itoa(dbPort)))
	if err != nil {
		return nil, db, fmt.Errorf("start embedded DynamoDB: %w", err)
	}
	db.endpoint = emb.URL
	st, err := store.Open(ctx, store.Options{Table: table, Endpoint: emb.URL, Now: now, APIOptions: db.middleware})
	if err != nil {
		_ = emb.Close()
		return nil, db, err
	}
	sweep, stopSweep := context.WithCancel(context.Background())
	emb.SweepEvery(sweep, time.Minute, table, store.AttrTTL, now, func(err error) {
		log.Warn("embedded DynamoDB: sweeping expired items failed", "err", err)
	})
	log.Info("using an embedded DynamoDB; its data lasts until the server stops", "endpoint", emb.URL, "table", table,
		"inspect", inspectCommand(emb.URL, table))
	db.close = func() { stopSweep(); report(); _ = emb.Close() }
	return st, db, nil
}

// ephemeralKeys makes the run's signing key set, one current key, and
// publishes its public half in the table, where the verifying functions
// read it as they do in Lambda.
func ephemeralKeys(ctx context.Context, st *store.Store, now time.Time) (token.KeySet, error) {
	set, err := token.FirstKeySet(rand.Reader, now)
	if err != nil {
		return token.KeySet{}, err
	}
	doc, err := set.JWKS()
	if err != nil {
		return token.KeySet{}, err
	}
	if err := st.PublishPublicKeys(ctx, doc); err != nil {
		return token.KeySet{}, fmt.Errorf("publishing the signing keys: %w", err)
	}
	return set, nil
}
