package main

import (
	"path/filepath"
	"testing"

	"github.com/gogibson/gogibson/internal/golden"
)

// checkGolden compares got with testdata/golden/cli/name; go test -update rewrites it.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Compare(t, filepath.Join("..", "..", "testdata", "golden", "cli", name), []byte(got))
}
