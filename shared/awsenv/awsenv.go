// Package awsenv builds the aws.Config the functions' SDK clients (DynamoDB,
// SES) are made from, out of the environment Lambda gives a function: the
// region in AWS_REGION and the execution role's credentials in
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
//
// It exists so that no function imports aws-sdk-go-v2/config: that
// package's default credential chain links the SSO, SSO OIDC, STS, sign-in
// and IMDS clients into every binary and initializes them at every cold
// start (2 MB of binary, and a cold start that was up to 2.2 times the
// hello-world function's instead of 1.9: see cmd/benchlambda), while in
// Lambda the credentials are always in the environment. Tools that run on
// a developer's machine against AWS (cmd/seed) load the default chain
// themselves and pass its credentials in Options.Credentials.
package awsenv

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Options override what the environment says.
type Options struct {
	// Endpoint is a local service (LocalStack, the embedded DynamoDB, an
	// SES emulator). Such services do not check credentials, so fixed
	// dummy ones are used, and the region defaults to us-east-1.
	Endpoint string
	// Region overrides AWS_REGION.
	Region string
	// Credentials, if set, are used instead of the environment's.
	Credentials aws.CredentialsProvider
	// MaxAttempts is the SDK's attempts per call; 0 keeps its default (3).
	MaxAttempts int
	// HTTPClient replaces the SDK's default client.
	HTTPClient aws.HTTPClient
}

// DefaultLocalRegion is the region used with a local endpoint when none is
// set.
const DefaultLocalRegion = "us-east-1"

// ErrNoCredentials is what a call fails with when the environment holds no
// credentials and none were given.
var ErrNoCredentials = errors.New("awsenv: no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")

// Config returns the configuration for SDK clients. It makes no network
// call and reads nothing but getenv.
func Config(getenv func(string) string, o Options) aws.Config {
	region := o.Region
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if region == "" {
			region = getenv(name)
		}
	}
	var creds aws.CredentialsProvider
	switch {
	case o.Endpoint != "":
		creds = credentials.NewStaticCredentialsProvider("local", "local", "")
		if region == "" {
			region = DefaultLocalRegion
		}
	case o.Credentials != nil:
		creds = o.Credentials
	default:
		creds = fromEnv(getenv)
	}
	cfg := aws.Config{
		Region:           region,
		Credentials:      aws.NewCredentialsCache(creds),
		RetryMaxAttempts: o.MaxAttempts,
	}
	if o.HTTPClient != nil {
		cfg.HTTPClient = o.HTTPClient
	}
	return cfg
}

// fromEnv reads the credentials Lambda puts in the environment (the names
// the SDK's own environment provider reads).
func fromEnv(getenv func(string) string) aws.CredentialsProvider {
	key := first(getenv, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY")
	secret := first(getenv, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY")
	if key == "" || secret == "" {
		return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, ErrNoCredentials
		})
	}
	return credentials.NewStaticCredentialsProvider(key, secret, getenv("AWS_SESSION_TOKEN"))
}

func first(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}
