package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pufinid/pufinid-api/shared/dev/embeddeddb"
	"github.com/pufinid/pufinid-api/shared/store"
)

const initDir = "../../localstack/init"

func TestCheckedInFilesAreTheGoDefinition(t *testing.T) {
	files, err := Files(LocalTable)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		t.Run(name, func(t *testing.T) {
			got, err := os.ReadFile(filepath.Join(initDir, name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("localstack/init/%s differs from shared/store's definition; run `go run ./cmd/tabledef`.\ngot:\n%s\nwant:\n%s", name, got, want)
			}
		})
	}
}

func TestInitHooksUseTheGeneratedFilesAndVerifyTheSender(t *testing.T) {
	scripts := map[string][]string{
		"10-table.sh": {"dynamodb create-table --cli-input-json \"file://$here/table.json\"",
			"dynamodb update-time-to-live --cli-input-json \"file://$here/ttl.json\"", "here=/etc/localstack/init"},
		"20-ses.sh": {"ses verify-email-identity --email-address \"${PUFINID_SES_FROM_ADDRESS:?}\""},
	}
	for name, wants := range scripts {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(initDir, "ready.d", name)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range wants {
				if !strings.Contains(string(b), w) {
					t.Errorf("%s lacks %q", name, w)
				}
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("%s is not executable (LocalStack runs init hooks as programs)", name)
			}
			if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
				t.Errorf("bash -n %s: %v\n%s", name, err, out)
			}
		})
	}
}

// The compose file: the services the API uses, the auth token from the
// environment, the port SAM and the tools expect, the init hooks mounted.
func TestComposeFileRunsLocalStackForTheAPI(t *testing.T) {
	b, err := os.ReadFile("../../localstack/docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string
			Ports       []string
			Environment map[string]string
			Volumes     []string
			Healthcheck struct{ Test []string }
		}
		Networks map[string]struct{ Name string }
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	ls, ok := compose.Services["localstack"]
	if !ok {
		t.Fatal("no localstack service")
	}
	if !strings.HasPrefix(ls.Image, "localstack/localstack:") {
		t.Errorf("image %q", ls.Image)
	}
	if !slices.Contains(ls.Ports, "127.0.0.1:4566:4566") {
		t.Errorf("ports %v: want 4566 on loopback", ls.Ports)
	}
	svcs := strings.Split(ls.Environment["SERVICES"], ",")
	if !slices.Contains(svcs, "dynamodb") || !slices.Contains(svcs, "ses") {
		t.Errorf("SERVICES=%q: want dynamodb and ses", ls.Environment["SERVICES"])
	}
	if !strings.HasPrefix(ls.Environment["LOCALSTACK_AUTH_TOKEN"], "${LOCALSTACK_AUTH_TOKEN:?") {
		t.Errorf("LOCALSTACK_AUTH_TOKEN=%q: want it from the environment, required", ls.Environment["LOCALSTACK_AUTH_TOKEN"])
	}
	if ls.Environment["PUFINID_SES_FROM_ADDRESS"] == "" {
		t.Error("the SES hook's sender is not set")
	}
	if !slices.Contains(ls.Volumes, "./init:/etc/localstack/init") {
		t.Errorf("volumes %v: the init hooks are not mounted", ls.Volumes)
	}
	if compose.Networks["default"].Name != "pufinid" {
		t.Errorf("network %+v: README tells SAM to join the network named pufinid", compose.Networks)
	}
}

// `sam local start-api --env-vars localstack/sam-env.json` points every
// function at LocalStack's table (README, LocalStack).
func TestSAMEnvVarsNameTheLocalStackTable(t *testing.T) {
	b, err := os.ReadFile("../../localstack/sam-env.json")
	if err != nil {
		t.Fatal(err)
	}
	var env struct{ Parameters map[string]string }
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	if got := env.Parameters["TABLE_NAME"]; got != LocalTable {
		t.Errorf("sam-env.json gives TABLE_NAME %q; LocalStack's table is %q", got, LocalTable)
	}
}

// The AWS CLI, when installed, creates the table from table.json against
// the embedded DynamoDB; the table it made has the Go definition's keys.
// ttl.json goes to a closed port (the embedded store has no TTL API): the
// CLI must get as far as connecting, i.e. accept the input.
func TestAWSCLIAcceptsTheFiles(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI is not installed")
	}
	db, err := embeddeddb.Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := t.TempDir()
	files, err := Files(LocalTable)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	aws := func(endpoint string, args ...string) (string, error) {
		cmd := exec.Command("aws", append(args, "--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json")...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_MAX_ATTEMPTS=1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := aws(db.URL, "dynamodb", "create-table", "--cli-input-json", "file://"+filepath.Join(dir, "table.json")); err != nil {
		t.Fatalf("create-table: %v\n%s", err, out)
	}
	st, err := store.Open(context.Background(), store.Options{Table: LocalTable, Endpoint: db.URL})
	if err != nil {
		t.Fatal(err)
	}
	// CreateTable of the same definition through the SDK finds the table
	// there already, which it accepts only as "in use".
	if err := st.CreateTable(context.Background()); err != nil {
		t.Fatalf("the CLI's table is not usable by the store: %v", err)
	}
	out, err := aws(db.URL, "dynamodb", "describe-table", "--table-name", LocalTable)
	if err != nil {
		t.Fatalf("describe-table: %v\n%s", err, out)
	}
	for _, w := range []string{`"AttributeName": "pk"`, `"KeyType": "HASH"`, `"AttributeName": "sk"`, `"KeyType": "RANGE"`} {
		if !strings.Contains(out, w) {
			t.Errorf("described table lacks %s:\n%s", w, out)
		}
	}
	out, err = aws("http://127.0.0.1:1", "dynamodb", "update-time-to-live", "--cli-input-json", "file://"+filepath.Join(dir, "ttl.json"))
	if err == nil || strings.Contains(out, "Parameter validation failed") || !strings.Contains(out, "connect") {
		t.Errorf("update-time-to-live with ttl.json: want a connection error, got %v:\n%s", err, out)
	}
}
