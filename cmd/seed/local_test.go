package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/module"
	"github.com/pufinid/pufinid-api/shared/store"
)

func TestIsLocalEndpoint(t *testing.T) {
	t.Parallel()
	cases := []struct {
		endpoint string
		local    bool
	}{
		{"http://localhost:4566", true},
		{"http://LocalHost:4566", true},
		{"https://localhost", true},
		{"http://127.0.0.1:4566", true},
		{"http://127.0.0.1:4566/", true},
		{"http://127.12.34.56:8000", true},
		{"http://[::1]:4566", true},
		{"http://[::ffff:127.0.0.1]:4566", true},
		{"http://pufinid-localstack:4566", true},

		{"", false}, // AWS
		{"http://dynamodb.eu-west-1.amazonaws.com", false},
		{"https://db.example.com:8000", false},
		{"http://10.0.0.5:4566", false},
		{"http://0.0.0.0:4566", false},
		{"http://[::2]:4566", false},
		{"http://localhost.evil.com:4566", false},
		{"http://127.0.0.1.nip.io:4566", false},
		{"http://pufinid-localstack.evil.com:4566", false},
		{"http://evil-localhost:4566", false},
		{"http://localhost@evil.com:4566", false},
		{"http://localhost:4566@evil.com", false},
		{"http://user:pass@localhost:4566", false},
		{"http://127.1:4566", false},
		{"http://0x7f.0.0.1:4566", false},
		{"http://evil.com#@localhost:4566", false},
		{"http://evil.com/?host=localhost", false},
		{"localhost:4566", false},
		{"127.0.0.1:4566", false},
		{"ftp://localhost:4566", false},
		{"//localhost:4566", false},
		{"http://localhost\\@evil.com", false},
	}
	for _, tc := range cases {
		t.Run(tc.endpoint, func(t *testing.T) {
			t.Parallel()
			if got := isLocalEndpoint(tc.endpoint); got != tc.local {
				t.Errorf("isLocalEndpoint(%q) = %v, want %v", tc.endpoint, got, tc.local)
			}
		})
	}
}

var errOpened = errors.New("opened")

// A refused run must not get as far as opening the table: the opener
// records that it was called and stops the run there, so no test talks to
// any DynamoDB, local or not.
func TestSeedRefusesATableThatIsNotLocal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		endpoint string
		args     []string
		opened   bool
		want     string // in the error when not opened
	}{
		{name: "AWS", args: nil, want: "refusing to write to table pufinid in AWS (DYNAMODB_ENDPOINT is not set)"},
		{name: "AWS, migration", args: []string{"-migrate-email-claims"}, want: "in AWS"},
		{name: "AWS, create table", args: []string{"-create-table"}, want: "in AWS"},
		{name: "remote host", endpoint: "https://db.example.com:8000", want: "at https://db.example.com:8000, which is not local"},
		{name: "look-alike host", endpoint: "http://localhost.evil.com:4566", want: "not local"},
		{name: "userinfo", endpoint: "http://localhost@evil.com", want: "not local"},
		{name: "forced AWS", args: []string{"-force"}, opened: true},
		{name: "forced remote host", endpoint: "https://db.example.com:8000", args: []string{"-force"}, opened: true},
		{name: "forced migration", args: []string{"-force", "-migrate-email-claims"}, opened: true},
		{name: "localhost", endpoint: "http://localhost:4566", opened: true},
		{name: "LocalStack's make target", endpoint: "http://127.0.0.1:4566", opened: true},
		{name: "compose container", endpoint: "http://pufinid-localstack:4566", args: []string{"-migrate-email-claims"}, opened: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(name string) string {
				switch name {
				case config.EnvTable:
					return "pufinid"
				case config.EnvDynamoDBEndpoint:
					return tc.endpoint
				}
				return ""
			}
			opened := false
			open := func(context.Context, config.Getenv) (*store.Store, error) {
				opened = true
				return nil, errOpened
			}
			err := runWith(context.Background(), tc.args, getenv, &bytes.Buffer{}, open)
			if opened != tc.opened {
				t.Fatalf("table opened: %v, want %v (err %v)", opened, tc.opened, err)
			}
			if tc.opened {
				if !errors.Is(err, errOpened) {
					t.Errorf("got %v, want the opener's error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
			for _, how := range []string{"-force", "make seed FORCE=1"} {
				if err != nil && !strings.Contains(err.Error(), how) {
					t.Errorf("error %q does not say how to go ahead (%s)", err, how)
				}
			}
		})
	}
}

// composeHost is the name SAM's containers reach LocalStack by.
func TestComposeHostIsLocalStacksContainer(t *testing.T) {
	t.Parallel()
	root, err := module.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "localstack", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			ContainerName string `yaml:"container_name"`
		}
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	if got := compose.Services["localstack"].ContainerName; got != composeHost {
		t.Errorf("LocalStack's container is %q; seed takes %q for local", got, composeHost)
	}
}

// make seed passes -force only when asked, and make localstack-seed
// points at an endpoint seed takes for local.
func TestMakeSeedForcesOnlyWithFORCE(t *testing.T) {
	t.Parallel()
	root, err := module.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "FORCE", "DYNAMODB_ENDPOINT", "LOCALSTACK_ENDPOINT":
			continue
		}
		env = append(env, kv)
	}
	cases := []struct {
		args      []string
		force     bool
		localhost bool // the command line's DYNAMODB_ENDPOINT must be local
	}{
		{args: []string{"seed", "TABLE_NAME=t"}},
		{args: []string{"seed", "TABLE_NAME=t", "FORCE=1"}, force: true},
		{args: []string{"localstack-seed"}, localhost: true},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command("make", append([]string{"-n", "--no-print-directory"}, tc.args...)...)
			cmd.Dir = root
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("make -n: %v\n%s", err, out)
			}
			fields := strings.Fields(string(out))
			if !slices.Contains(fields, "./cmd/seed") {
				t.Fatalf("make -n %v does not run ./cmd/seed:\n%s", tc.args, out)
			}
			if got := slices.Contains(fields, "-force"); got != tc.force {
				t.Errorf("-force passed: %v, want %v\n%s", got, tc.force, out)
			}
			if tc.localhost {
				i := slices.IndexFunc(fields, func(f string) bool { return strings.HasPrefix(f, "DYNAMODB_ENDPOINT=") })
				if i < 0 || !isLocalEndpoint(strings.Trim(strings.TrimPrefix(fields[i], "DYNAMODB_ENDPOINT="), "'")) {
					t.Errorf("no local DYNAMODB_ENDPOINT:\n%s", out)
				}
			}
		})
	}
}
