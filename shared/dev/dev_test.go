package dev_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/lambdarun"
	"github.com/pufinid/pufinid-api/shared/dev/module"
)

const (
	modulePath = "github.com/pufinid/pufinid-api"
	tooling    = modulePath + "/shared/dev"
	runtime    = modulePath + "/shared/"
)

func isTooling(pkg string) bool { return pkg == tooling || strings.HasPrefix(pkg, tooling+"/") }

// goList runs go list in the module root, for a Lambda build.
func goList(t *testing.T, root string, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-tags", "lambda.norpc"}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// A function links its own directory and runtime packages of shared/,
// nothing else of this module: no tooling, no other group, no cmd/, no
// docs.
func TestFunctionsLinkNoTooling(t *testing.T) {
	t.Parallel()
	root, err := module.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	fns, err := lambdarun.Functions(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) == 0 {
		t.Fatal("lambda.mk lists no functions")
	}
	for id, dir := range fns {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			own := modulePath + "/" + dir
			for _, p := range goList(t, root, "-deps", "./"+dir) {
				if !strings.HasPrefix(p, modulePath+"/") && p != modulePath {
					continue
				}
				switch {
				case isTooling(p):
					t.Errorf("%s links the tooling package %s", id, p)
				case p == own || strings.HasPrefix(p, own+"/"), strings.HasPrefix(p, runtime):
				default:
					t.Errorf("%s links %s, which is neither its own code nor a runtime package of shared/", id, p)
				}
			}
		})
	}
}

// The runtime room never reaches into the tooling room: a package under
// shared/ outside shared/dev imports none under it (its tests may).
func TestRuntimePackagesImportNoTooling(t *testing.T) {
	t.Parallel()
	root, err := module.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	lines := goList(t, root, "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./shared/...")
	runtimePkgs := 0
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) == 0 || isTooling(f[0]) {
			continue
		}
		runtimePkgs++
		for _, imp := range f[1:] {
			if isTooling(imp) {
				t.Errorf("%s imports the tooling package %s", f[0], imp)
			}
		}
	}
	if runtimePkgs == 0 {
		t.Fatal("found no runtime package under shared/")
	}
}

// The tooling under shared/ serves every group alike: it takes the list
// of groups (package functions) from its caller and links no group's
// code itself (its tests may).
func TestSharedToolingLinksNoGroup(t *testing.T) {
	t.Parallel()
	root, err := module.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range goList(t, root, "-deps", "./shared/...") {
		if p == modulePath+"/functions" || strings.HasPrefix(p, modulePath+"/functions/") {
			t.Errorf("a package under shared/ links %s", p)
		}
	}
}
