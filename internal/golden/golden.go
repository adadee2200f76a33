// Package golden compares test output with golden files and rewrites them when tests run
// with -update (go test ./... -update). Importing it registers the -update flag, so every
// test package of the module imports it, even those without golden files, and the flag is
// accepted by all of them.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Update is true when the tests run with -update: Compare then rewrites instead of comparing.
var Update = flag.Bool("update", false, "rewrite golden files under testdata/golden instead of comparing")

// Compare fails t when got differs from the file at path, showing a diff; with -update it
// writes got to path instead.
func Compare(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-golden +got):\n%s", path, diff)
	}
}
