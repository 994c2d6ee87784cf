// Package module finds the root of this Go module, the directory of
// go.mod, from wherever a test or a tool runs: a package's directory under
// go test, the repository root under make. Everything the tooling reads
// by path (template.yaml, lambda.mk, events/, node_modules/) is found from
// there.
package module

import (
	"errors"
	"os"
	"path/filepath"
)

// ErrNoRoot is returned when no directory at or above the start holds
// go.mod.
var ErrNoRoot = errors.New("module: no go.mod at or above the working directory")

// Root returns the first directory at or above dir that holds go.mod.
func Root(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoRoot
		}
		dir = parent
	}
}
