package samlocal_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/samlocal"
)

// `sam deploy` and `sam deploy --config-env prod` deploy from
// samconfig.toml alone: each environment's parameter_overrides gives every
// parameter without a default (none is a secret, so none waits for the
// command line) and names only declared ones, with allowed values.
func TestDeployEnvironmentsNeedNothingOnTheCommandLine(t *testing.T) {
	t.Parallel()
	p := mustProject(t)
	for _, env := range []string{"default", "prod"} {
		t.Run(env, func(t *testing.T) {
			cfg, err := samlocal.LoadConfig(filepath.Join(p.root, samlocal.ConfigFile), env)
			if err != nil {
				t.Fatal(err)
			}
			deploy, ok := cfg.Commands["deploy"]
			if !ok {
				t.Fatalf("samconfig.toml has no [%s.deploy.parameters]", env)
			}
			given, err := samlocal.ParseParameterOverrides(deploy.ParameterOverrides)
			if err != nil {
				t.Fatal(err)
			}
			for name, param := range p.template.Parameters {
				v, ok := given[name]
				if !ok && param.Default == nil {
					t.Errorf("parameter %s has no default and no value in [%s.deploy.parameters]", name, env)
				}
				if ok && len(param.AllowedValues) > 0 && !slices.Contains(param.AllowedValues, v) {
					t.Errorf("%s=%q is not one of %v", name, v, param.AllowedValues)
				}
			}
			for name := range given {
				if _, ok := p.template.Parameters[name]; !ok {
					t.Errorf("[%s.deploy.parameters] gives %s, which template.yaml does not declare", env, name)
				}
			}
		})
	}
}
