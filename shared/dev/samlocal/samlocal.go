// Package samlocal reads what `sam local invoke` and `sam local start-api`
// run with here (make invoke-<Function>, make start-api): the "local"
// environment of samconfig.toml and the env-vars file it names, and works
// out each function's environment as sam local builds it. sam local checks
// none of it until a container fails to start, so the tests hold it against
// template.yaml, LocalStack's compose file and the functions' own Setup.
package samlocal

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
)

const (
	// ConfigFile is SAM's configuration, at the module root.
	ConfigFile = "samconfig.toml"
	// ConfigEnv is the environment of ConfigFile the make targets pass
	// with --config-env.
	ConfigEnv = "local"
	// InvokeCommand and StartAPICommand are how ConfigFile names
	// `sam local invoke` and `sam local start-api`.
	InvokeCommand   = "local_invoke"
	StartAPICommand = "local_start_api"
	// AllFunctions is the env-vars file's section for every function.
	AllFunctions = "Parameters"
)

// Commands are the commands the make targets run with ConfigEnv.
var Commands = []string{InvokeCommand, StartAPICommand}

// Options are a command's parameters in ConfigFile, under the names of
// the command's flags (--docker-network: docker_network).
type Options struct {
	ParameterOverrides string `toml:"parameter_overrides"`
	EnvVars            string `toml:"env_vars"`
	DockerNetwork      string `toml:"docker_network"`
	Region             string `toml:"region"`
	Host               string `toml:"host"`
	Port               int    `toml:"port"`
}

// Config is ConfigFile's sections of one environment.
type Config struct {
	// Commands maps a command (InvokeCommand) to its parameters; a
	// command without a section is absent.
	Commands map[string]Options
	// Unknown lists the keys of those sections Options has no field for,
	// as env.command.parameters.key: a misspelt key would go unnoticed
	// both by SAM, which passes nothing for it, and by the checks here.
	Unknown []string
}

// LoadConfig reads the sections of environment env of the file at path.
func LoadConfig(path, env string) (Config, error) {
	var file map[string]toml.Primitive
	md, err := toml.DecodeFile(path, &file)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Commands: map[string]Options{}}
	raw, ok := file[env]
	if !ok {
		return cfg, nil
	}
	var commands map[string]struct{ Parameters toml.Primitive }
	if err := md.PrimitiveDecode(raw, &commands); err != nil {
		return Config{}, fmt.Errorf("%s [%s]: %w", path, env, err)
	}
	for name, c := range commands {
		var o Options
		if err := md.PrimitiveDecode(c.Parameters, &o); err != nil {
			return Config{}, fmt.Errorf("%s [%s.%s.parameters]: %w", path, env, name, err)
		}
		cfg.Commands[name] = o
	}
	for _, k := range md.Undecoded() {
		if len(k) > 0 && k[0] == env {
			cfg.Unknown = append(cfg.Unknown, k.String())
		}
	}
	slices.Sort(cfg.Unknown)
	return cfg, nil
}

// ParseParameterOverrides reads parameter_overrides as SAM does:
// Key=value pairs separated by spaces, a value in double quotes when it
// has spaces or quotes (\" inside), as `sam deploy --guided` writes them.
// Single quotes are the shell's, not SAM's (it would keep them in the
// value), so they are an error here, as are a key given twice and
// anything else SAM would read differently from what it looks like.
func ParseParameterOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	rest := strings.TrimLeft(s, " ")
	for rest != "" {
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 || !isKey(rest[:eq]) {
			return nil, fmt.Errorf("parameter_overrides: want Key=value at %q", rest)
		}
		key := rest[:eq]
		rest = rest[eq+1:]
		var value string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				// SAM unescapes only \" and "\ "; any other backslash stays.
				if rest[i] == '\\' && i+1 < len(rest) && (rest[i+1] == '"' || rest[i+1] == ' ') {
					i++
				}
				b.WriteByte(rest[i])
			}
			if i == len(rest) {
				return nil, fmt.Errorf("parameter_overrides: %s: unterminated quote", key)
			}
			value, rest = b.String(), rest[i+1:]
			if rest != "" && rest[0] != ' ' {
				return nil, fmt.Errorf("parameter_overrides: %s: want a space after the closing quote, at %q", key, rest)
			}
		} else {
			end := strings.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			value, rest = rest[:end], rest[end:]
			if strings.ContainsAny(value, "\"'\\\t\n") {
				return nil, fmt.Errorf("parameter_overrides: %s=%s: quote the value in double quotes", key, value)
			}
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("parameter_overrides: %s given twice", key)
		}
		out[key] = value
		rest = strings.TrimLeft(rest, " ")
	}
	return out, nil
}

func isKey(s string) bool {
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// EnvFile is an env-vars file in SAM's JSON form: section AllFunctions
// applies to every function, a section named by a function's logical id to
// that function, over AllFunctions. Either only replaces variables the
// template declares for the function; it adds none.
type EnvFile map[string]map[string]string

// LoadEnvFile reads the env-vars file at path.
func LoadEnvFile(path string) (EnvFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f EnvFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// FunctionEnv is the environment sam local gives fn from the template, its
// parameter overrides and the env-vars file, before the AWS_* variables of
// the runtime (and the shell's values of declared variables, which the
// env-vars file outranks). A Ref to a parameter reads the override or the
// default; a Ref to a resource reads its logical id, as sam local has no
// deployed resource to name (which is why TABLE_NAME needs the env-vars file).
func FunctionEnv(t *samtemplate.Template, fn samtemplate.Function, overrides map[string]string, file EnvFile) map[string]string {
	env := map[string]string{}
	for name, v := range fn.Env {
		if ref, ok := strings.CutPrefix(v, "!Ref "); ok {
			v = ref
			if p, ok := t.Parameters[ref]; ok {
				v = overrides[ref]
				if _, given := overrides[ref]; !given && p.Default != nil {
					v = *p.Default
				}
			}
		}
		env[name] = v
	}
	for _, section := range []string{AllFunctions, fn.LogicalID} {
		for name, v := range file[section] {
			if _, declared := env[name]; declared {
				env[name] = v
			}
		}
	}
	return env
}
