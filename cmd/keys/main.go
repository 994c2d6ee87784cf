// Command keys runs the signing keys' rotation procedure on a deployment:
// it changes the private key set in the AWS Secrets Manager secret the
// token function reads (SIGNING_KEYS_SECRET) and publishes the public set
// in the table (TABLE_NAME) every verifying function reads. README,
// "Signing keys", gives the procedure; each step is one run:
//
//	go run ./cmd/keys -action show                  the keys, their states and since when
//	go run ./cmd/keys -action init                  the first key of a new deployment
//	go run ./cmd/keys -action add                   publish a next key (accepted, not signing)
//	go run ./cmd/keys -action promote               make it current, once every cache has it
//	go run ./cmd/keys -action retire [-max-refresh 720h]   drop previous keys whose tokens have all expired
//
// A step that would break a live token refuses: promote before the next
// key has been published for token.DefaultCacheTTL, retire before
// -max-refresh (the longest refresh_token_lifetime of any organization)
// has passed since the key stopped signing.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/toolenv"
	"github.com/pufinid/pufinid-api/shared/secretkeys"
	"github.com/pufinid/pufinid-api/shared/token"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, time.Now)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "keys:", err)
		os.Exit(1)
	}
}

// DefaultMaxRefresh is retire's default wait, the automatic rotation's
// (secretkeys.DefaultRetireAfter): longer than any refresh lifetime an
// organization may set (pufinid.MaxRefresh). Pass the real longest to
// retire sooner.
const DefaultMaxRefresh = secretkeys.DefaultRetireAfter

func run(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer, now func() time.Time) error {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	fs.SetOutput(stdout)
	action := fs.String("action", "show", "show, init, add, promote or retire")
	maxRefresh := fs.Duration("max-refresh", DefaultMaxRefresh, "retire: the longest refresh token lifetime of any organization")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	secret := getenv(secretkeys.EnvSecret)
	if secret == "" {
		return fmt.Errorf("%s is not set: the secret's ARN or name (the stack's SigningKeys)", secretkeys.EnvSecret)
	}
	sm, err := toolenv.SecretsManager(ctx, getenv)
	if err != nil {
		return err
	}
	st, err := toolenv.Store(ctx, getenv)
	if err != nil {
		return err
	}
	set, exists, err := read(ctx, sm, secret)
	if err != nil {
		return err
	}
	at := now()
	switch *action {
	case "show":
		show(stdout, set, at)
		return nil
	case "init":
		if len(set.Keys) > 0 {
			return fmt.Errorf("the secret has keys already; rotate them with add, promote and retire")
		}
		if set, err = token.FirstKeySet(rand.Reader, at); err != nil {
			return err
		}
	case "add":
		k, err := token.NewKey(rand.Reader, at)
		if err != nil {
			return err
		}
		if set, err = set.AddNext(k); err != nil {
			return err
		}
	case "promote":
		if set, err = set.Promote(at, token.DefaultCacheTTL); err != nil {
			return err
		}
	case "retire":
		var retired []string
		if set, retired = set.Retire(at, *maxRefresh); len(retired) == 0 {
			fmt.Fprintf(stdout, "nothing to retire: no previous key stopped signing %s ago or more\n", *maxRefresh)
			return nil
		}
		fmt.Fprintf(stdout, "retiring %v\n", retired)
	default:
		return fmt.Errorf("-action %q: want show, init, add, promote or retire", *action)
	}
	if err := write(ctx, sm, secret, exists, set); err != nil {
		return err
	}
	jwks, err := set.JWKS()
	if err != nil {
		return err
	}
	if err := st.PublishPublicKeys(ctx, jwks); err != nil {
		return fmt.Errorf("the secret is written, but publishing the public keys failed (run the step again): %w", err)
	}
	show(stdout, set, at)
	return nil
}

func show(w io.Writer, set token.KeySet, now time.Time) {
	if len(set.Keys) == 0 {
		fmt.Fprintln(w, "no keys: run -action init")
		return
	}
	for _, k := range set.Keys {
		fmt.Fprintf(w, "%-8s %s  since %s (%s ago)\n", k.State, k.ID, k.Since.Format(time.RFC3339), now.Sub(k.Since).Round(time.Second))
	}
}

// read returns the secret's key set; exists is false when there is no
// such secret (a local Secrets Manager before init).
func read(ctx context.Context, sm *secretsmanager.Client, id string) (set token.KeySet, exists bool, err error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	var nf *smtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return token.KeySet{}, false, nil
	}
	if err != nil {
		return token.KeySet{}, false, err
	}
	set, err = token.ParseKeySet([]byte(aws.ToString(out.SecretString)))
	return set, true, err
}

func write(ctx context.Context, sm *secretsmanager.Client, id string, exists bool, set token.KeySet) error {
	doc, err := set.MarshalPrivate()
	if err != nil {
		return err
	}
	if !exists {
		_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(id), SecretString: aws.String(string(doc))})
		return err
	}
	if err := noRotationPending(ctx, sm, id); err != nil {
		return err
	}
	_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(id), SecretString: aws.String(string(doc))})
	return err
}

// errRotationPending refuses a step while Secrets Manager rotates the
// secret: the rotation's pending version was built from the set before
// this step, and its finishSecret would make it current, undoing the step
// in the secret while the table kept the step's public set.
var errRotationPending = errors.New("a rotation of the secret is in progress")

// noRotationPending is errRotationPending when a version other than the
// current one is labelled AWSPENDING (a rotation between its createSecret
// and finishSecret steps, or one that failed and waits to be retried).
func noRotationPending(ctx context.Context, sm *secretsmanager.Client, id string) error {
	out, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		return err
	}
	for version, stages := range out.VersionIdsToStages {
		if slices.Contains(stages, "AWSPENDING") && !slices.Contains(stages, "AWSCURRENT") {
			return fmt.Errorf("%w (version %s is AWSPENDING): let it finish (aws secretsmanager describe-secret shows its stages), "+
				"or cancel it with aws secretsmanager cancel-rotate-secret, then run this step again", errRotationPending, version)
		}
	}
	return nil
}
