package module

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRootWalksUpToGoMod(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{root, deep} {
		got, err := Root(dir)
		if err != nil || got != root {
			t.Errorf("Root(%s) = %q, %v; want %q", dir, got, err, root)
		}
	}
}

func TestRootWithoutGoModFails(t *testing.T) {
	t.Parallel()
	if _, err := Root(t.TempDir()); !errors.Is(err, ErrNoRoot) {
		t.Errorf("Root of a directory with no go.mod above it: %v, want an error", err)
	}
}
