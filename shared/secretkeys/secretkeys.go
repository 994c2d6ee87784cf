// Package secretkeys reads the issuing function's private signing key set
// (shared/token's KeySet document) from AWS Secrets Manager: the secret
// SIGNING_KEYS_SECRET names, at SECRETS_MANAGER_ENDPOINT when that is set
// (the replay's emulator, LocalStack). Only the token function links it,
// and only its IAM role may read the secret.
//
// Open makes no network call; the secret is read on the first token the
// function signs or verifies, then kept per instance (token.Cached).
// Secrets Manager was chosen over KMS signing: a KMS Sign call per token
// would add its round trip (and its per-request price and the account's
// shared request quota) to every login and refresh, where one read of the
// secret per instance every few minutes costs nothing that grows with
// traffic (README, "Signing keys").
package secretkeys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/awsenv"
	"github.com/pufinid/pufinid-api/shared/token"
)

// The variables Open reads.
const (
	EnvSecret   = "SIGNING_KEYS_SECRET"      // the secret's ARN or name
	EnvEndpoint = "SECRETS_MANAGER_ENDPOINT" // optional: another Secrets Manager
)

// Options are what tools and tests change.
type Options struct {
	// HTTPClient replaces the SDK's (tests inject latency with it).
	HTTPClient aws.HTTPClient
	// CacheTTL is how long an instance keeps the set; 0 means
	// token.DefaultCacheTTL.
	CacheTTL time.Duration
	Now      func() time.Time
}

// Open returns the key source of the secret getenv names.
func Open(getenv func(string) string, o Options) (token.KeySource, error) {
	client, id, err := newClient(getenv, o)
	if err != nil {
		return nil, err
	}
	ttl := o.CacheTTL
	if ttl <= 0 {
		ttl = token.DefaultCacheTTL
	}
	return token.Cached(&source{client: client, id: id}, ttl, o.Now), nil
}

// newClient is the Secrets Manager client of the secret getenv names.
func newClient(getenv func(string) string, o Options) (*secretsmanager.Client, string, error) {
	id := getenv(EnvSecret)
	if id == "" {
		return nil, "", fmt.Errorf("secretkeys: %s is not set", EnvSecret)
	}
	endpoint := getenv(EnvEndpoint)
	cfg := awsenv.Config(getenv, awsenv.Options{Endpoint: endpoint})
	client := secretsmanager.NewFromConfig(cfg, func(so *secretsmanager.Options) {
		if endpoint != "" {
			so.BaseEndpoint = aws.String(endpoint)
		}
		if o.HTTPClient != nil {
			so.HTTPClient = o.HTTPClient
		}
	})
	return client, id, nil
}

type source struct {
	client *secretsmanager.Client
	id     string
}

// ErrNoCurrentKey is a secret whose set has no current key: nothing can
// be signed until one is promoted (README, "Signing keys").
var ErrNoCurrentKey = errors.New("secretkeys: the key set has no current key")

func (s *source) KeySet(ctx context.Context) (token.KeySet, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.id)})
	if err != nil {
		return token.KeySet{}, apierror.UnavailableErr(fmt.Errorf("secretkeys: %w", err))
	}
	set, err := token.ParseKeySet([]byte(aws.ToString(out.SecretString)))
	if err != nil {
		return token.KeySet{}, apierror.UnavailableErr(fmt.Errorf("secretkeys: %s: %w", s.id, err))
	}
	if k, ok := set.Current(); !ok || k.Private == nil {
		return token.KeySet{}, apierror.UnavailableErr(ErrNoCurrentKey)
	}
	return set, nil
}
