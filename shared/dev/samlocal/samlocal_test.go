package samlocal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/pufinid/pufinid-api/shared/secretkeys"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pufinid/pufinid-api/functions"
	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/module"
	"github.com/pufinid/pufinid-api/shared/dev/samlocal"
	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
)

// project is what the checks compare: the module's sam local settings,
// template and LocalStack setup, read once.
type project struct {
	root       string
	template   *samtemplate.Template
	config     samlocal.Config
	localstack localstack
}

// localstack is what localstack/ says about the LocalStack the functions
// run against.
type localstack struct {
	endpoint string // as SAM's containers reach it, http://<container>:<port>
	network  string
	region   string
	table    string // what the init hook creates
	// signingSecret is the signing keys' secret make localstack-seed makes.
	signingSecret string
}

var loadProject = sync.OnceValues(func() (*project, error) {
	root, err := module.Root(".")
	if err != nil {
		return nil, err
	}
	tmpl, err := samtemplate.LoadModule(root)
	if err != nil {
		return nil, err
	}
	cfg, err := samlocal.LoadConfig(filepath.Join(root, samlocal.ConfigFile), samlocal.ConfigEnv)
	if err != nil {
		return nil, err
	}
	ls, err := readLocalStack(root)
	if err != nil {
		return nil, err
	}
	return &project{root: root, template: tmpl, config: cfg, localstack: ls}, nil
})

func readLocalStack(root string) (localstack, error) {
	b, err := os.ReadFile(filepath.Join(root, "localstack", "docker-compose.yml"))
	if err != nil {
		return localstack{}, err
	}
	var compose struct {
		Services map[string]struct {
			ContainerName string `yaml:"container_name"`
			Ports         []string
			Environment   map[string]string
		}
		Networks map[string]struct{ Name string }
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		return localstack{}, err
	}
	svc := compose.Services["localstack"]
	var ls localstack
	if len(svc.Ports) > 0 && svc.ContainerName != "" {
		// host[:hostPort]:containerPort: other containers use the last.
		port := svc.Ports[0][strings.LastIndexByte(svc.Ports[0], ':')+1:]
		ls.endpoint = "http://" + net.JoinHostPort(svc.ContainerName, port)
	}
	ls.network = compose.Networks["default"].Name
	ls.region = svc.Environment["AWS_DEFAULT_REGION"]
	b, err = os.ReadFile(filepath.Join(root, "localstack", "init", "table.json"))
	if err != nil {
		return localstack{}, err
	}
	var table struct{ TableName string }
	if err := json.Unmarshal(b, &table); err != nil {
		return localstack{}, err
	}
	ls.table = table.TableName
	cmd := exec.Command("make", "-n", "--no-print-directory", "localstack-seed")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return localstack{}, fmt.Errorf("make -n localstack-seed: %w", err)
	}
	if m := regexp.MustCompile(`SIGNING_KEYS_SECRET=(\S+)`).FindSubmatch(out); m != nil {
		ls.signingSecret = string(m[1])
	}
	return ls, nil
}

func mustProject(t *testing.T) *project {
	t.Helper()
	p, err := loadProject()
	if err != nil {
		t.Fatal(err)
	}
	if p.localstack.endpoint == "" || p.localstack.network == "" || p.localstack.region == "" || p.localstack.table == "" || p.localstack.signingSecret == "" {
		t.Fatalf("localstack/ leaves something unsaid: %+v", p.localstack)
	}
	return p
}

// command is one command's section, its overrides parsed.
func (p *project) command(t *testing.T, name string) (samlocal.Options, map[string]string) {
	t.Helper()
	o, ok := p.config.Commands[name]
	if !ok {
		t.Fatalf("%s has no [%s.%s.parameters]", samlocal.ConfigFile, samlocal.ConfigEnv, name)
	}
	overrides, err := samlocal.ParseParameterOverrides(o.ParameterOverrides)
	if err != nil {
		t.Fatalf("[%s.%s.parameters] %v", samlocal.ConfigEnv, name, err)
	}
	return o, overrides
}

func (p *project) envFile(t *testing.T, o samlocal.Options) samlocal.EnvFile {
	t.Helper()
	if o.EnvVars == "" {
		t.Fatal("no env_vars: sam local would name the table Table, after its logical id")
	}
	f, err := samlocal.LoadEnvFile(filepath.Join(p.root, o.EnvVars))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// isEndpointParameter tells the parameters that point a function at
// another AWS service (DynamoDBEndpoint, SesEndpoint).
func isEndpointParameter(name string) bool { return strings.HasSuffix(name, "Endpoint") }

func TestConfigKeysAreKnown(t *testing.T) {
	t.Parallel()
	p := mustProject(t)
	if len(p.config.Unknown) > 0 {
		t.Errorf("%s has keys samlocal.Options does not know (misspelt, or add them there): %v", samlocal.ConfigFile, p.config.Unknown)
	}
}

// Every parameter without a default must be given, or sam local resolves
// the function's variable to nothing (an empty JWT key: four functions
// refuse to start); a name the template does not declare is a typo.
func TestParameterOverridesCoverTheTemplate(t *testing.T) {
	t.Parallel()
	p := mustProject(t)
	for _, cmd := range samlocal.Commands {
		t.Run(cmd, func(t *testing.T) {
			t.Parallel()
			_, overrides := p.command(t, cmd)
			for _, name := range slices.Sorted(maps.Keys(overrides)) {
				if _, ok := p.template.Parameters[name]; !ok {
					t.Errorf("parameter_overrides gives %s, which template.yaml does not declare", name)
				}
			}
			for _, name := range slices.Sorted(maps.Keys(p.template.Parameters)) {
				v, given := overrides[name]
				switch {
				case isEndpointParameter(name) && v != p.localstack.endpoint:
					t.Errorf("%s=%q, want LocalStack as SAM's containers reach it, %s", name, v, p.localstack.endpoint)
				case p.template.Parameters[name].Default == nil && (!given || v == ""):
					t.Errorf("parameter_overrides does not give %s, which has no default", name)
				}
			}
		})
	}
}

// Both commands run the same functions the same way.
func TestInvokeAndStartAPIAgree(t *testing.T) {
	t.Parallel()
	p := mustProject(t)
	invoke, invokeOverrides := p.command(t, samlocal.InvokeCommand)
	api, apiOverrides := p.command(t, samlocal.StartAPICommand)
	if !maps.Equal(invokeOverrides, apiOverrides) {
		t.Errorf("parameter_overrides differ:\n%s: %v\n%s: %v", samlocal.InvokeCommand, invokeOverrides, samlocal.StartAPICommand, apiOverrides)
	}
	for _, k := range []struct{ name, invoke, api string }{
		{"env_vars", invoke.EnvVars, api.EnvVars},
		{"docker_network", invoke.DockerNetwork, api.DockerNetwork},
		{"region", invoke.Region, api.Region},
	} {
		if k.invoke != k.api {
			t.Errorf("%s: %s %q, %s %q", k.name, samlocal.InvokeCommand, k.invoke, samlocal.StartAPICommand, k.api)
		}
	}
}

// The containers must join LocalStack's network to reach it by name, and
// use its region, in which its init hooks made the table and the SES
// sender; the API listens on loopback only.
func TestCommandsReachLocalStack(t *testing.T) {
	t.Parallel()
	p := mustProject(t)
	for _, cmd := range samlocal.Commands {
		t.Run(cmd, func(t *testing.T) {
			t.Parallel()
			o, _ := p.command(t, cmd)
			if o.DockerNetwork != p.localstack.network {
				t.Errorf("docker_network %q, want the compose network %q", o.DockerNetwork, p.localstack.network)
			}
			if o.Region != p.localstack.region {
				t.Errorf("region %q, want LocalStack's %q", o.Region, p.localstack.region)
			}
		})
	}
	api, _ := p.command(t, samlocal.StartAPICommand)
	if ip := net.ParseIP(api.Host); ip == nil || !ip.IsLoopback() {
		t.Errorf("%s host %q: want a loopback address", samlocal.StartAPICommand, api.Host)
	}
	if api.Port <= 0 || api.Port > 65535 {
		t.Errorf("%s port %d", samlocal.StartAPICommand, api.Port)
	}
}

// SAM only replaces variables the template declares for a function, so a
// key that is not declared sets nothing and hides a typo.
func TestEnvFileNamesDeclaredVariables(t *testing.T) {
	t.Parallel()
	p := mustProject(t)
	o, _ := p.command(t, samlocal.InvokeCommand)
	file := p.envFile(t, o)
	if len(file[samlocal.AllFunctions]) == 0 {
		t.Errorf("%s has no %q section for every function", o.EnvVars, samlocal.AllFunctions)
	}
	for _, section := range slices.Sorted(maps.Keys(file)) {
		fns := p.template.Functions
		if section != samlocal.AllFunctions {
			fn, ok := p.template.Function(section)
			if !ok {
				t.Errorf("%s: section %q is neither %q nor a function of template.yaml", o.EnvVars, section, samlocal.AllFunctions)
				continue
			}
			fns = []samtemplate.Function{fn}
		}
		for _, name := range slices.Sorted(maps.Keys(file[section])) {
			for _, fn := range fns {
				if _, ok := fn.Env[name]; !ok {
					t.Errorf("%s: %s sets %s, which template.yaml does not declare for %s", o.EnvVars, section, name, fn.LogicalID)
				}
			}
		}
	}
}

// Each function's environment as sam local builds it names LocalStack's
// table and endpoints, carries a key config accepts in Lambda, agrees with
// the parameters where both set a variable, and lets the function's own
// Setup start, as it would in its container.
func TestEveryFunctionStartsUnderSAMLocal(t *testing.T) {
	t.Parallel()
	p := mustProject(t)
	if len(p.template.Functions) != len(functions.Groups)+len(functions.EventFunctions) {
		t.Fatalf("template.yaml has %d functions, package functions %d groups and %d event functions",
			len(p.template.Functions), len(functions.Groups), len(functions.EventFunctions))
	}
	for _, cmd := range samlocal.Commands {
		o, overrides := p.command(t, cmd)
		file := p.envFile(t, o)
		for _, fn := range p.template.Functions {
			t.Run(cmd+"/"+fn.LogicalID, func(t *testing.T) {
				t.Parallel()
				env := samlocal.FunctionEnv(p.template, fn, overrides, file)
				if got := env[config.EnvTable]; got != p.localstack.table {
					t.Errorf("%s=%q, want LocalStack's table %q (localstack/init/table.json)", config.EnvTable, got, p.localstack.table)
				}
				for _, name := range fn.EnvNames() {
					if strings.HasSuffix(name, "_ENDPOINT") && env[name] != p.localstack.endpoint {
						t.Errorf("%s=%q, want %s", name, env[name], p.localstack.endpoint)
					}
					// The env-vars file wins over the parameter; two
					// values would leave whoever reads one misled.
					if ref, ok := strings.CutPrefix(fn.Env[name], "!Ref "); ok {
						if v, given := overrides[ref]; given && v != env[name] {
							t.Errorf("%s: parameter %s gives %q, the env-vars file %q", name, ref, v, env[name])
						}
					}
				}
				// What sam local adds for the runtime.
				env[config.EnvLambdaName] = fn.LogicalID
				env["AWS_REGION"] = o.Region
				getenv := func(name string) string { return env[name] }
				lenv := config.Env{Getenv: getenv, Log: slog.New(slog.DiscardHandler)}
				// The signing keys' secret is the one make localstack-seed
				// makes (lambda.mk's LOCALSTACK_SIGNING_SECRET).
				if _, ok := fn.Env[secretkeys.EnvSecret]; ok && env[secretkeys.EnvSecret] != p.localstack.signingSecret {
					t.Errorf("%s=%q, want make localstack-seed's %q", secretkeys.EnvSecret, env[secretkeys.EnvSecret], p.localstack.signingSecret)
				}
				var err error
				if g, ok := functions.Lookup(fn.LogicalID); ok {
					_, err = g.Setup(context.Background(), lenv)
				} else if e, ok := functions.LookupEvent(fn.LogicalID); ok {
					_, err = e.Setup(context.Background(), lenv)
				} else {
					t.Fatalf("package functions has no group or event function for %s", fn.LogicalID)
				}
				if err != nil {
					t.Errorf("Setup with sam local's environment: %v\nenvironment: %v", err, env)
				}
			})
		}
	}
}

func TestParseParameterOverrides(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want map[string]string
		err  string
	}{
		{in: "", want: map[string]string{}},
		{in: `A=1 B=two`, want: map[string]string{"A": "1", "B": "two"}},
		{in: `  A="x y"   B="" `, want: map[string]string{"A": "x y", "B": ""}},
		{in: `U="http://h/p?email={email}&token={token}"`, want: map[string]string{"U": "http://h/p?email={email}&token={token}"}},
		{in: `Q="say \"hi\"" S="a\ b" K="C:\dir"`, want: map[string]string{"Q": `say "hi"`, "S": "a b", "K": `C:\dir`}},
		{in: `L=a,b`, want: map[string]string{"L": "a,b"}},
		{in: `A=1 A=2`, err: "A given twice"},
		{in: `A='x'`, err: "quote the value in double quotes"},
		{in: `A="x`, err: "unterminated quote"},
		{in: `A="x"B=1`, err: "want a space after the closing quote"},
		{in: `=1`, err: "want Key=value"},
		{in: `A-B=1`, err: "want Key=value"},
		{in: `novalue`, err: "want Key=value"},
		{in: "A=1\tB=2", err: "quote the value"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := samlocal.ParseParameterOverrides(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("got %v, %v; want an error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestFunctionEnvResolvesAsSAMLocal(t *testing.T) {
	t.Parallel()
	def := "d"
	tmpl := &samtemplate.Template{Parameters: map[string]samtemplate.Parameter{
		"Given": {}, "Defaulted": {Default: &def}, "Missing": {},
	}}
	fn := samtemplate.Function{LogicalID: "F", Env: map[string]string{
		"GIVEN": "!Ref Given", "DEFAULTED": "!Ref Defaulted", "MISSING": "!Ref Missing",
		"TABLE": "!Ref Table", "LITERAL": "x", "ALL": "a", "MINE": "m",
	}}
	file := samlocal.EnvFile{
		samlocal.AllFunctions: {"ALL": "from all", "MINE": "from all", "UNDECLARED": "u"},
		"F":                   {"MINE": "from F"},
		"G":                   {"LITERAL": "from G"},
	}
	got := samlocal.FunctionEnv(tmpl, fn, map[string]string{"Given": "g"}, file)
	want := map[string]string{
		"GIVEN": "g", "DEFAULTED": "d", "MISSING": "", "TABLE": "Table", "LITERAL": "x",
		"ALL": "from all", "MINE": "from F",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

// makeEnv is the environment make runs in: none of the variables the
// targets read, and no MAKEFLAGS from a make that runs the tests.
func makeEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "EVENT", "ENV_VARS", "SAM_LOCAL_ENV":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// The make targets run sam local with the local environment of
// samconfig.toml (the one these tests check), after sam build.
func TestMakeTargetsUseTheLocalConfig(t *testing.T) {
	t.Parallel()
	p := mustProject(t)
	faq, ok := functions.Lookup("FaqFunction")
	if !ok {
		t.Fatal("no FaqFunction group")
	}
	if _, err := os.Stat(filepath.Join(p.root, faq.Sample)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		target  string
		args    []string
		build   string // the sam build that must come first
		command string // samconfig's name of the sam local command
		want    []string
	}{
		{"invoke-FaqFunction", []string{"EVENT=" + faq.Sample}, "sam build FaqFunction", samlocal.InvokeCommand,
			[]string{"sam", "local", "invoke", "FaqFunction", "--event", faq.Sample}},
		{"start-api", nil, "sam build", samlocal.StartAPICommand, []string{"sam", "local", "start-api"}},
	}
	for _, tc := range cases {
		t.Run(tc.target, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command("make", append([]string{"-n", "--no-print-directory", tc.target}, tc.args...)...)
			cmd.Dir = p.root
			cmd.Env = makeEnv()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("make -n %s: %v\n%s", tc.target, err, out)
			}
			var local []string
			built := false
			for _, line := range strings.Split(string(out), "\n") {
				for _, part := range strings.Split(line, "&&") {
					fields := strings.Fields(part)
					switch {
					case strings.Join(fields, " ") == tc.build:
						built = true
					case len(fields) > 2 && fields[0] == "sam" && fields[1] == "local":
						if !built {
							t.Errorf("%s runs before %s", part, tc.build)
						}
						local = fields
					}
				}
			}
			if local == nil {
				t.Fatalf("make -n %s runs no sam local:\n%s", tc.target, out)
			}
			for _, w := range tc.want {
				if !slices.Contains(local, w) {
					t.Errorf("%q lacks %q", strings.Join(local, " "), w)
				}
			}
			if i := slices.Index(local, "--event"); slices.Contains(tc.want, "--event") && (i < 0 || i+1 >= len(local) || local[i+1] != faq.Sample) {
				t.Errorf("%q does not pass the event %s", strings.Join(local, " "), faq.Sample)
			}
			i := slices.Index(local, "--config-env")
			if i < 0 || i+1 >= len(local) {
				t.Fatalf("%q passes no --config-env", strings.Join(local, " "))
			}
			if env := local[i+1]; env != samlocal.ConfigEnv {
				t.Errorf("--config-env %s; the checked settings are %s's", env, samlocal.ConfigEnv)
			}
			if _, ok := p.config.Commands[tc.command]; !ok {
				t.Errorf("%s has no [%s.%s.parameters] for %s", samlocal.ConfigFile, samlocal.ConfigEnv, tc.command, tc.target)
			}
		})
	}
}

// Without EVENT, make invoke stops with its usage before running sam: a
// sam first on PATH notes whether it ran.
func TestMakeInvokeWithoutEventFails(t *testing.T) {
	t.Parallel()
	p := mustProject(t)
	bin := t.TempDir()
	ran := filepath.Join(bin, "sam-ran")
	script := "#!/bin/sh\necho \"$@\" >> '" + ran + "'\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "sam"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "--no-print-directory", "invoke-FaqFunction")
	cmd.Dir = p.root
	cmd.Env = makeEnv("PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); !ok {
		t.Errorf("make invoke-FaqFunction without EVENT: %v, want a failure\n%s", err, out)
	}
	if want := "usage: make invoke-FaqFunction EVENT=events/<group>/<name>.json"; !strings.Contains(string(out), want) {
		t.Errorf("output %q lacks %q", out, want)
	}
	if b, err := os.ReadFile(ran); err == nil {
		t.Errorf("sam ran: %s", b)
	}
}

// The TOML parser is for the tooling: no function links it.
func TestFunctionsDoNotLinkTOML(t *testing.T) {
	t.Parallel()
	p := mustProject(t)
	cmd := exec.Command("go", "list", "-tags", "lambda.norpc", "-deps", "./functions/...")
	cmd.Dir = p.root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/BurntSushi/toml") {
			t.Errorf("./functions/... links %s", pkg)
		}
	}
}
