package lambdarun

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/dev/module"
	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
)

func mustRoot(t *testing.T) string {
	t.Helper()
	root, err := module.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestMakefileBuildsEveryTemplateFunctionFromItsDirectory(t *testing.T) {
	root := mustRoot(t)
	tmpl, err := samtemplate.LoadModule(root)
	if err != nil {
		t.Fatal(err)
	}
	fromMake, err := Functions(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range tmpl.Functions {
		ids = append(ids, f.LogicalID)
		t.Run(f.LogicalID, func(t *testing.T) {
			dir, ok := fromMake[f.LogicalID]
			if !ok {
				t.Fatalf("lambda.mk's LAMBDA_FUNCTIONS lacks %s", f.LogicalID)
			}
			if dir != Dir(f.LogicalID) {
				t.Errorf("lambda.mk builds %s from %s, lambdarun.Dir says %s", f.LogicalID, dir, Dir(f.LogicalID))
			}
			if _, err := os.Stat(filepath.Join(root, dir, "main.go")); err != nil {
				t.Errorf("%s: no main.go: %v", f.LogicalID, err)
			}
			// What `sam build` needs to call `make build-<id>` in the module
			// root and deploy the result on the provided runtime.
			if f.BuildMethod != "makefile" || f.CodeURI != "." || f.Handler != "bootstrap" ||
				f.Runtime != "provided.al2023" || !slices.Equal(f.Architectures, []string{"arm64"}) {
				t.Errorf("%s: BuildMethod %q CodeUri %q Handler %q Runtime %q Architectures %v; want makefile . bootstrap provided.al2023 [arm64]",
					f.LogicalID, f.BuildMethod, f.CodeURI, f.Handler, f.Runtime, f.Architectures)
			}
		})
	}
	for id := range fromMake {
		if !slices.Contains(ids, id) {
			t.Errorf("lambda.mk builds %s, which template.yaml does not declare", id)
		}
	}
}

// The modules each function may link, beyond the standard library, the
// Lambda runtime and the project's runtime packages: the SES SDK only in
// the users function; the modules of the tests and the local server in
// none.
func TestFunctionsLinkOnlyWhatTheirGroupNeeds(t *testing.T) {
	root := mustRoot(t)
	fns, err := Functions(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{
		"github.com/aws/aws-sdk-go-v2/service/sesv2", // allowed for UsersFunction only, below
		"github.com/awslabs/goformation",
		"github.com/getkin/kin-openapi",
		"github.com/truora/minidyn",
		// zxcvbn builds 1.5 MB of word lists at init: shared/password
		// embeds the one list it needs instead.
		"github.com/trustelem/zxcvbn",
		// The SDK's config package and the credential chain it brings (SSO,
		// STS, IMDS): functions read the Lambda environment (shared/awsenv).
		"github.com/aws/aws-sdk-go-v2/config",
		"github.com/aws/aws-sdk-go-v2/service/sts",
		"github.com/aws/aws-sdk-go-v2/service/sso",
		"github.com/aws/aws-sdk-go-v2/service/ssooidc",
		"github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
		// This module's own packages follow one rule, checked in
		// shared/dev: runtime code only, never the tooling.
	}
	for id, dir := range fns {
		t.Run(id, func(t *testing.T) {
			deps := linkedPackages(t, root, dir)
			for _, f := range forbidden {
				if f == "github.com/aws/aws-sdk-go-v2/service/sesv2" && id == "UsersFunction" {
					if !slices.Contains(deps, f) {
						t.Errorf("%s does not link %s: how does it send email?", id, f)
					}
					continue
				}
				for _, d := range deps {
					if d == f || strings.HasPrefix(d, f+"/") {
						t.Errorf("%s links %s", id, d)
						break
					}
				}
			}
			if !slices.Contains(deps, "github.com/aws/aws-lambda-go/lambda") {
				t.Errorf("%s does not link the Lambda runtime", id)
			}
		})
	}
}

// The AWS SDK's schema-based serialization, from dynamodb v1.69.0 and
// sesv2 v1.75.0 on, gives each service a schemas package whose variables
// describe every shape of the service's model and are all built when the
// process starts: 0.55 ms and 580 kB for DynamoDB, as much again for SES
// (GODEBUG=inittrace=1), whichever operations the function calls. That
// put the users function's cold start over its budget, so go.mod keeps
// the clients at their releases before it. An upgrade that brings the
// schemas back fails here: measure it with make bench-lambda first.
func TestFunctionsLinkNoSDKSchemas(t *testing.T) {
	root := mustRoot(t)
	fns, err := Functions(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	for id, dir := range fns {
		t.Run(id, func(t *testing.T) {
			for _, d := range linkedPackages(t, root, dir) {
				if strings.HasPrefix(d, "github.com/aws/aws-sdk-go-v2/service/") && strings.HasSuffix(d, "/schemas") {
					t.Errorf("%s links %s, which builds its whole service model at init: see go.mod", id, d)
				}
			}
		})
	}
}

// linkedPackages lists the packages a function's Lambda build links.
func linkedPackages(t *testing.T, root, dir string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "./"+dir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./%s: %v", dir, err)
	}
	return strings.Fields(string(out))
}

var hello struct {
	once          sync.Once
	dir, rie, bin string
	err           error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if hello.dir != "" {
		os.RemoveAll(hello.dir)
	}
	os.Exit(code)
}

// mustHello builds the emulator and the hello-world function once per test
// binary.
func mustHello(ctx context.Context, t *testing.T, root string) (rie, bin string) {
	t.Helper()
	hello.once.Do(func() {
		if hello.dir, hello.err = os.MkdirTemp("", "lambdarun-hello-"); hello.err != nil {
			return
		}
		if hello.rie, hello.err = RIE(ctx, root); hello.err == nil {
			hello.bin, hello.err = BuildPackage(ctx, root, "./cmd/benchlambda/hello", hello.dir)
		}
	})
	if hello.err != nil {
		t.Fatal(hello.err)
	}
	return hello.rie, hello.bin
}

// mustEmulator skips where the emulator cannot run and returns the
// emulator, the hello-world bootstrap and a context for the test.
func mustEmulator(t *testing.T) (ctx context.Context, rie, bin string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the Runtime Interface Emulator runs on Linux")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	rie, bin = mustHello(ctx, t, mustRoot(t))
	return ctx, rie, bin
}

func TestProcessRunsABootstrapUnderTheEmulator(t *testing.T) {
	ctx, rie, bin := mustEmulator(t)
	p, err := Start(ctx, Config{RIE: rie, Bootstrap: bin, Env: map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "hello"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.BootstrapPID(); err == nil {
		t.Error("a bootstrap runs before the first invocation; the emulator should start it cold")
	}
	for i := range 3 {
		out, err := p.Invoke(ctx, []byte(`{"version":"2.0","rawPath":"/"}`))
		if err != nil {
			t.Fatalf("invoke %d: %v", i, err)
		}
		var resp struct {
			StatusCode int
			Body       string
		}
		if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 || resp.Body != `{"hello":"world"}` {
			t.Fatalf("invoke %d: %s (%v)", i, out, err)
		}
	}
	rss, err := p.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	if rss < 1<<20 || rss > 256<<20 {
		t.Errorf("peak RSS %d bytes: not a plausible Go process", rss)
	}
	pid, _ := p.BootstrapPID()
	p.Close()
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
		if st, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); !strings.Contains(string(st), ") Z") {
			t.Errorf("bootstrap %d still runs after Close", pid)
		}
	}
}

func TestInvokeReportsAFunctionError(t *testing.T) {
	ctx, rie, bin := mustEmulator(t)
	p, err := Start(ctx, Config{RIE: rie, Bootstrap: bin})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// Not an event the handler can decode: aws-lambda-go answers an error payload.
	if out, err := p.Invoke(ctx, []byte(`"not an object"`)); err == nil {
		t.Fatalf("invoke succeeded with %s; want the function's error", out)
	}
}

// A bootstrap that finds no Runtime API (the emulator's race, forced here
// by pointing aws-lambda-go at a closed port) never ran the function:
// Invoke says so with ErrUnreachable and Cold starts it again, three
// times at most. A bootstrap that fails for its own reasons runs once.
// Every error shows the emulator's output.
func TestColdRetriesOnlyWhatNeverReachedTheFunction(t *testing.T) {
	ctx, rie, bin := mustEmulator(t)
	noAPI := "export AWS_LAMBDA_RUNTIME_API=" + closedAddr(t)
	for _, c := range []struct {
		name, script    string
		wantStarts      int
		wantUnreachable bool // with wantErr: errors.Is(err, ErrUnreachable)
		wantErr         bool
	}{
		{"race once", `[ "$(wc -l < "$STARTS")" -gt 1 ] || ` + noAPI + "\nexec " + bin, 2, false, false},
		{"race every time", noAPI + "\nexec " + bin, 3, true, true},
		{"init fails", "echo 'startup failed' >&2; exit 1", 1, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			starts := filepath.Join(dir, "starts")
			wrapper := filepath.Join(dir, "bootstrap")
			script := "#!/bin/sh\nSTARTS=" + starts + "\necho >> \"$STARTS\"\n" + c.script + "\n"
			if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			p, out, d, err := Cold(ctx, Config{RIE: rie, Bootstrap: wrapper}, []byte(`{"version":"2.0","rawPath":"/"}`))
			if p != nil {
				p.Close()
			}
			switch {
			case (err != nil) != c.wantErr:
				t.Errorf("Cold: %s, %v; want error %v", out, err, c.wantErr)
			case err == nil && (d <= 0 || !strings.Contains(string(out), "hello")):
				t.Errorf("Cold: %s in %v", out, d)
			case err != nil && errors.Is(err, ErrUnreachable) != c.wantUnreachable:
				t.Errorf("errors.Is(err, ErrUnreachable) = %v, want %v: %v", !c.wantUnreachable, c.wantUnreachable, err)
			case err != nil && !strings.Contains(err.Error(), "(rapid)"):
				t.Errorf("the error does not show the emulator's output: %v", err)
			}
			b, _ := os.ReadFile(starts)
			if n := strings.Count(string(b), "\n"); n != c.wantStarts {
				t.Errorf("the bootstrap started %d times, want %d", n, c.wantStarts)
			}
		})
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// text/template (and html/template, which is built on it) looks methods up
// by name through reflect, and a binary that can do that keeps every
// exported method of every type it links: the users function's emails,
// once rendered with html/template, took it from 8.8 MB to 14.9 MB and its
// cold start up by a quarter (make bench-lambda). The emails are filled
// in by package mailtmpl instead; this keeps it so.
func TestFunctionsLinkNoReflectiveTemplates(t *testing.T) {
	root := mustRoot(t)
	fns, err := Functions(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	for id, dir := range fns {
		t.Run(id, func(t *testing.T) {
			for _, d := range linkedPackages(t, root, dir) {
				if d == "text/template" || d == "html/template" {
					t.Errorf("%s links %s, which keeps every exported method in the binary", id, d)
				}
			}
		})
	}
}
