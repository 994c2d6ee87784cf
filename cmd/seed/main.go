// Command seed loads a reference-data fixture into the table: the
// organizations, terms, FAQ topics, PUF designs and apps profiles the API
// serves. It loads into TABLE_NAME, at DYNAMODB_ENDPOINT when that is set
// (LocalStack, the embedded store) and in AWS otherwise.
//
//	go run ./cmd/seed [-fixtures path.json] [-create-table] [-force]
//	go run ./cmd/seed -migrate-email-claims [-force]
//
// It writes only to a local table unless -force is given (make seed
// FORCE=1): DYNAMODB_ENDPOINT must be on a loopback host or LocalStack's
// compose container (see isLocalEndpoint), since a seed run by mistake
// against a deployed table would overwrite its reference data.
//
// Without -fixtures it loads the demo fixture shipped in
// shared/dev/fixtures/demo.json. The whole file is validated before anything is
// written; loading the same file again changes nothing.
//
// With -migrate-email-claims it loads nothing and instead moves the email
// claims of accounts made before addresses were compared in their
// canonical form to their canonical keys (store.MigrateEmailClaims): run
// it once on a table that existed before, safe to run again.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/fixtures"
	"github.com/pufinid/pufinid-api/shared/dev/toolenv"
	"github.com/pufinid/pufinid-api/shared/store"
)

// tableWait bounds how long a created table may take to become ACTIVE.
const tableWait = 2 * time.Minute

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

// composeHost is LocalStack's container name in localstack/docker-compose.yml,
// the name its endpoint has on the compose network.
const composeHost = "pufinid-localstack"

// opener opens the table a run writes to; tests pass one that records
// whether a run got that far.
type opener func(ctx context.Context, getenv config.Getenv) (*store.Store, error)

func run(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	return runWith(ctx, args, getenv, stdout, toolenv.Store)
}

func runWith(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer, open opener) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stdout)
	path := fs.String("fixtures", "", "fixture `file` to load (default: the demo fixture)")
	create := fs.Bool("create-table", false, "create the table first if it does not exist (LocalStack, local stores)")
	migrate := fs.Bool("migrate-email-claims", false, "instead of loading, move email claims made before the canonical form to their canonical keys")
	force := fs.Bool("force", false, "write to a table that is not local (AWS, or an endpoint on another host)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	// Both checks come before anything is read or any client is built, so
	// a refused run has touched nothing, not even the network.
	if getenv(config.EnvTable) == "" {
		return fmt.Errorf("config: %s is not set", config.EnvTable)
	}
	if err := refuseRemote(getenv, *force); err != nil {
		return err
	}

	if *migrate {
		st, err := open(ctx, getenv)
		if err != nil {
			return err
		}
		m, err := st.MigrateEmailClaims(ctx)
		if err != nil {
			return fmt.Errorf("migrate email claims of %s: %w", st.Table(), err)
		}
		_, err = fmt.Fprintf(stdout, "table %s: %v\n", st.Table(), m)
		return err
	}

	// Read and validate the file before touching the table, so a bad file
	// leaves it exactly as it was.
	ref, source, err := fixtures.Read(*path)
	if err != nil {
		return err
	}
	st, err := open(ctx, getenv)
	if err != nil {
		return err
	}
	if *create {
		if err := st.CreateTable(ctx); err != nil {
			return fmt.Errorf("create table %s: %w", st.Table(), err)
		}
		if err := st.WaitForTable(ctx, tableWait); err != nil {
			return fmt.Errorf("wait for table %s: %w", st.Table(), err)
		}
	}
	if err := fixtures.Load(ctx, st, ref); err != nil {
		return fmt.Errorf("load %s into %s: %w", source, st.Table(), err)
	}
	where := getenv(config.EnvDynamoDBEndpoint)
	if where == "" {
		where = "AWS"
	}
	_, err = fmt.Fprintf(stdout, "loaded %s into table %s at %s: %d organizations, %d term versions, %d FAQ topics, %d PUF designs, %d apps profiles\n",
		source, st.Table(), where, len(ref.Organizations), len(ref.Terms), len(ref.FAQTopics), len(ref.PufDesigns), len(ref.AppProfiles))
	return err
}

// refuseRemote fails unless the table is local or force is set.
func refuseRemote(getenv config.Getenv, force bool) error {
	endpoint := getenv(config.EnvDynamoDBEndpoint)
	if force || isLocalEndpoint(endpoint) {
		return nil
	}
	where := "in AWS (" + config.EnvDynamoDBEndpoint + " is not set)"
	if endpoint != "" {
		where = fmt.Sprintf("at %s, which is not local (a loopback host or %s)", endpoint, composeHost)
	}
	return fmt.Errorf("refusing to write to table %s %s: pass -force (make seed FORCE=1) to seed it anyway",
		getenv(config.EnvTable), where)
}

// isLocalEndpoint reports whether endpoint is an http(s) URL whose host is
// localhost, a loopback address or LocalStack's compose container. The
// host must be one of those exactly: a name that only starts with one
// (localhost.example.com, 127.0.0.1.nip.io) may resolve anywhere, and a
// URL with userinfo (http://localhost@example.com) is refused outright,
// since it exists mostly to make a remote host look like a local one.
func isLocalEndpoint(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Opaque != "" {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.EqualFold(host, composeHost) {
		return true
	}
	// netip accepts only canonical forms: 127.1 and 0x7f.0.0.1, which
	// some resolvers read as loopback, are not local here.
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
