package awsenv

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfig(t *testing.T) {
	t.Parallel()
	lambda := map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "session"}
	tests := []struct {
		name       string
		env        map[string]string
		o          Options
		wantRegion string
		wantCreds  aws.Credentials
		wantErr    error
	}{
		{"Lambda: region and the execution role's credentials from the environment", lambda, Options{},
			"eu-west-1", aws.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret", SessionToken: "session"}, nil},
		{"a local endpoint takes dummy credentials and keeps the region", lambda, Options{Endpoint: "http://127.0.0.1:4566"},
			"eu-west-1", aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}, nil},
		{"a local endpoint without a region uses us-east-1", map[string]string{}, Options{Endpoint: "http://127.0.0.1:4566"},
			DefaultLocalRegion, aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}, nil},
		{"AWS_DEFAULT_REGION when AWS_REGION is unset", map[string]string{"AWS_DEFAULT_REGION": "us-west-2", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, Options{},
			"us-west-2", aws.Credentials{AccessKeyID: "a", SecretAccessKey: "b"}, nil},
		{"given region and credentials win", lambda, Options{Region: "ap-south-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")},
			"ap-south-1", aws.Credentials{AccessKeyID: "k", SecretAccessKey: "s"}, nil},
		{"no credentials anywhere fails the call, not the start", map[string]string{"AWS_REGION": "eu-west-1"}, Options{},
			"eu-west-1", aws.Credentials{}, ErrNoCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config(env(tt.env), tt.o)
			if cfg.Region != tt.wantRegion {
				t.Errorf("region %q, want %q", cfg.Region, tt.wantRegion)
			}
			got, err := cfg.Credentials.Retrieve(context.Background())
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("credentials error %v, want %v", err, tt.wantErr)
			}
			if got.AccessKeyID != tt.wantCreds.AccessKeyID || got.SecretAccessKey != tt.wantCreds.SecretAccessKey || got.SessionToken != tt.wantCreds.SessionToken {
				t.Errorf("credentials %+v, want %+v", got, tt.wantCreds)
			}
		})
	}
}

func TestConfigPassesRetriesAndHTTPClient(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	cfg := Config(env(nil), Options{Endpoint: "http://x", MaxAttempts: 1, HTTPClient: hc})
	if cfg.RetryMaxAttempts != 1 || cfg.HTTPClient != hc {
		t.Errorf("RetryMaxAttempts %d, HTTPClient %v", cfg.RetryMaxAttempts, cfg.HTTPClient)
	}
}
