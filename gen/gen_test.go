package gen

import (
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gogibson/gogibson/internal/golden"
)

const goldenDir = "../testdata/golden/gen"

// concat joins generated files in name order, each under a "-- name --" line.
func concat(files map[string][]byte) []byte {
	var b bytes.Buffer
	for _, name := range sortedKeys(files) {
		b.WriteString("-- " + name + " --\n")
		b.Write(files[name])
	}
	return b.Bytes()
}

// TestGoldenValidSpecs: every spec fixture in valid/ generates exactly its .golden output.
func TestGoldenValidSpecs(t *testing.T) {
	specs, _ := filepath.Glob(filepath.Join(goldenDir, "valid", "*.yaml"))
	if len(specs) == 0 {
		t.Fatal("no valid spec fixtures")
	}
	for _, path := range specs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			s, err := LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files, err := Generate(s)
			if err != nil {
				t.Fatal(err)
			}
			for name, src := range files {
				if !bytes.HasPrefix(src, []byte("// "+Header+"\n")) {
					t.Errorf("%s does not start with the generated header", name)
				}
				if bytes.Contains(src, []byte(`"reflect"`)) {
					t.Errorf("%s imports reflect", name)
				}
			}
			golden.Compare(t, strings.TrimSuffix(path, ".yaml")+".golden", concat(files))
		})
	}
}

// TestGoldenInvalidSpecs: every spec fixture in invalid/ fails with exactly the messages in
// its .err file, each naming the file, the line and the entry.
func TestGoldenInvalidSpecs(t *testing.T) {
	specs, _ := filepath.Glob(filepath.Join(goldenDir, "invalid", "*.yaml"))
	if len(specs) == 0 {
		t.Fatal("no invalid spec fixtures")
	}
	for _, path := range specs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			_, err := LoadFile(path)
			if err == nil {
				t.Fatal("the spec was accepted")
			}
			golden.Compare(t, strings.TrimSuffix(path, ".yaml")+".err", []byte(err.Error()+"\n"))
		})
	}
}

// TestCommandsYAMLIsCurrent: the checked-in generated/ is what commands.yaml generates, and
// the spec covers the 22 opcodes of Gibson 1.2 and the 27 STATS names.
func TestCommandsYAMLIsCurrent(t *testing.T) {
	s, err := LoadFile("../commands.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ops []int
	for _, c := range s.Commands {
		ops = append(ops, c.Opcode)
	}
	sort.Ints(ops)
	want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 255}
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Errorf("opcodes (-want +got):\n%s", diff)
	}
	if len(s.Stats) != 27 {
		t.Errorf("%d STATS names, want 27", len(s.Stats))
	}
	files, err := Generate(s)
	if err != nil {
		t.Fatal(err)
	}
	if diff, err := Diff("../generated", files); err != nil || diff != "" {
		t.Errorf("generated/ is stale (run make generate): %v\n%s", err, diff)
	}
}

// TestDiffReportsStaleness: Diff names missing, changed and leftover files.
func TestDiffReportsStaleness(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{"a.go": []byte("// " + Header + "\npackage x\n// one\n")}
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	if d, _ := Diff(dir, files); d != "" {
		t.Fatalf("fresh output reported stale: %s", d)
	}
	changed := map[string][]byte{"a.go": []byte("// " + Header + "\npackage x\n// two\n"), "b.go": []byte("// " + Header + "\npackage x\n")}
	d, _ := Diff(dir, changed)
	for _, want := range []string{"a.go: stale", "-3: // one", "+3: // two", "b.go: missing"} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
	if d, _ := Diff(dir, map[string][]byte{}); !strings.Contains(d, "a.go: no longer generated") {
		t.Errorf("leftover file not reported: %s", d)
	}
	// Write removes generated files that are no longer produced, and keeps hand-written ones.
	os.WriteFile(filepath.Join(dir, "hand.go"), []byte("package x\n"), 0o644)
	if err := Write(dir, map[string][]byte{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.go")); !os.IsNotExist(err) {
		t.Error("stale generated file kept")
	}
	if _, err := os.Stat(filepath.Join(dir, "hand.go")); err != nil {
		t.Error("hand-written file removed")
	}
}

// TestSpecEditsCompile is the spec's promise: copy an entry under a new name and opcode, or
// delete one, run the generator, and the whole module still builds, with the method added or
// gone. It works on a copy of the module in a temporary directory.
func TestSpecEditsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module twice")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	spec, err := os.ReadFile("../commands.yaml")
	if err != nil {
		t.Fatal(err)
	}
	getEntry := extractEntry(t, string(spec), "Get")
	added := strings.Replace(getEntry, "name: Get", "name: GetAgain", 1)
	added = strings.Replace(added, "verb: GET", "verb: GETAGAIN", 1)
	added = strings.Replace(added, "opcode: 3", "opcode: 99", 1)
	edits := map[string]struct {
		spec       string
		has, hasnt string
	}{
		"add":    {strings.Replace(string(spec), "\nstats:", added+"\nstats:", 1), "GetAgain(", ""},
		"delete": {strings.Replace(string(spec), extractEntry(t, string(spec), "MDec"), "", 1), "", ") MDec("},
	}
	for name, e := range edits {
		t.Run(name, func(t *testing.T) {
			dir := copyModule(t)
			if err := os.WriteFile(filepath.Join(dir, "commands.yaml"), []byte(e.spec), 0o644); err != nil {
				t.Fatal(err)
			}
			run(t, dir, "go", "run", "./cmd/gibsongen", "-spec", "commands.yaml", "-out", "generated", "-client", "client")
			for _, file := range []string{"generated/commands.go", "client/" + ClientFile} {
				src, _ := os.ReadFile(filepath.Join(dir, file))
				if e.has != "" && !bytes.Contains(src, []byte(e.has)) {
					t.Errorf("%s lacks %q", file, e.has)
				}
				if e.hasnt != "" && bytes.Contains(src, []byte(e.hasnt)) {
					t.Errorf("%s still has %q", file, e.hasnt)
				}
			}
			run(t, dir, "go", "build", "./...")
		})
	}
}

// extractEntry returns the lines of the commands: entry whose name is name, up to the next.
func extractEntry(t *testing.T, spec, name string) string {
	t.Helper()
	start := strings.Index(spec, "\n  - name: "+name+"\n")
	if start < 0 {
		t.Fatalf("no entry %s in commands.yaml", name)
	}
	rest := spec[start+1:]
	end := strings.Index(rest[1:], "\n  - name: ")
	if stats := strings.Index(rest, "\nstats:"); end < 0 || (stats >= 0 && stats < end+1) {
		end = stats - 1
	}
	return spec[start : start+1+end+1]
}

// copyModule copies the module's tracked Go sources and spec into a temporary directory
// (files being written in the working tree but not yet committed are left out).
func copyModule(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	root, _ := filepath.Abs("..")
	cmd := exec.Command("git", "ls-files", "*.go", "*go.mod", "*go.sum", "*.yaml") // nested modules keep their go.mod
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	for _, rel := range strings.Fields(string(out)) {
		if strings.HasPrefix(rel, "testdata/") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, rel))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, rel), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func run(t *testing.T, dir string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// TestNoPackageImportsReflect: README.md ("How it is built") rules out reflection in every package of the
// module (tests aside).
func TestNoPackageImportsReflect(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && d.Name() != "..") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if imp.Path.Value == `"reflect"` {
				t.Errorf("%s imports reflect", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
