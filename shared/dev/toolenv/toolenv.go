// Package toolenv opens what the project's command-line tools (cmd/seed,
// cmd/keys) work on, from their environment: at the endpoint given
// (LocalStack, the embedded store, an emulator) as the functions do, and
// otherwise in AWS with the SDK's default credential chain (profiles, SSO,
// environment), as a tool on a developer's machine should. The functions
// themselves read only the Lambda environment (shared/awsenv), whose
// lighter set-up keeps the SDK's credential chain out of their cold start.
package toolenv

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pufinid/pufinid-api/shared/awsenv"
	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/secretkeys"
	"github.com/pufinid/pufinid-api/shared/store"
)

// Store opens TABLE_NAME, at DYNAMODB_ENDPOINT when set.
func Store(ctx context.Context, getenv config.Getenv) (*store.Store, error) {
	table := getenv(config.EnvTable)
	if getenv(config.EnvDynamoDBEndpoint) != "" || table == "" {
		return config.Store(ctx, config.Env{Getenv: getenv}) // which also says what is missing
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, store.Options{Table: table, Region: cfg.Region, Credentials: cfg.Credentials})
}

// SecretsManager is the Secrets Manager at SECRETS_MANAGER_ENDPOINT when
// set, else AWS's.
func SecretsManager(ctx context.Context, getenv config.Getenv) (*secretsmanager.Client, error) {
	if endpoint := getenv(secretkeys.EnvEndpoint); endpoint != "" {
		cfg := awsenv.Config(getenv, awsenv.Options{Endpoint: endpoint})
		return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(endpoint) }), nil
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	return secretsmanager.NewFromConfig(cfg), nil
}
