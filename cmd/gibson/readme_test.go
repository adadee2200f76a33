package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// repoRoot is the module's root, where README.md is.
var repoRoot = filepath.Join("..", "..")

// readmeBlock is one fenced code block of README.md.
type readmeBlock struct {
	lang string
	line int    // the README line of the block's first line of code
	code string // the lines between the fences
	note string // the <!-- … --> comment on the line just before the fence, if any
}

var noteComment = regexp.MustCompile(`^<!--\s*(.*?)\s*-->$`)

func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var out []readmeBlock
	for i := 0; i < len(lines); i++ {
		lang, ok := strings.CutPrefix(lines[i], "```")
		if !ok {
			continue
		}
		b := readmeBlock{lang: strings.Fields(lang + " x")[0], line: i + 2}
		if lang == "" {
			b.lang = ""
		}
		if i > 0 {
			if m := noteComment.FindStringSubmatch(lines[i-1]); m != nil {
				b.note = m[1]
			}
		}
		j := i + 1
		for j < len(lines) && !strings.HasPrefix(lines[j], "```") {
			j++
		}
		if j == len(lines) {
			t.Fatalf("README.md:%d: code block never closed", i+1)
		}
		b.code = strings.Join(lines[i+1:j], "\n")
		out = append(out, b)
		i = j
	}
	return out
}

// readmeImports are the packages README's Go examples may use without importing them,
// by the name they are used under. generated is not among them: users never import it.
var readmeImports = map[string]string{
	"client": "github.com/gogibson/gogibson/client", "wire": "github.com/gogibson/gogibson/wire",
	"gibsontest": "github.com/gogibson/gogibson/gibsontest", "gibsonotel": "github.com/gogibson/gogibson/gibsonotel",
	"context": "context", "errors": "errors", "fmt": "fmt", "time": "time", "slog": "log/slog",
	"testing": "testing", "os": "os", "log": "log", "bytes": "bytes", "strings": "strings",
	"trace": "go.opentelemetry.io/otel/trace", "metric": "go.opentelemetry.io/otel/metric",
}

// readmeShared are the variables README's Go examples use without declaring them, with
// their types: a snippet continues a program that has these. A snippet that declares one
// of these names itself gets no such variable, so using it before declaring it fails.
var readmeShared = map[string]string{
	"ctx": "context.Context", "addr": "string", "c": "*client.Client", "r": "*client.Ring",
	"opts": "[]client.Option", "v": "[]byte", "buf": "[]byte", "chunk": "[]byte",
	"myHook": "client.Hook", "tp": "trace.TracerProvider", "mp": "metric.MeterProvider",
}

// goSnippet turns one Go block into a file of package readmecheck: a block holding
// declarations (a func) is used as is, any other becomes the body of a function whose
// parameters are the shared variables it uses; each block of it ends with "_ = x" for
// every variable declared directly in it (a snippet need not use everything it shows).
// Imports are those the code names; "…" stands for code left out. A //line comment makes
// errors name README lines.
func goSnippet(t *testing.T, i int, b readmeBlock) (src string, otel bool) {
	t.Helper()
	code := strings.ReplaceAll(b.code, "…", "")
	var body []string
	imports := map[string]bool{}
	for _, l := range strings.Split(code, "\n") {
		if path, ok := strings.CutPrefix(l, "import "); ok {
			imports[strings.Trim(path, `"`)] = true
			l = "" // keeps the line numbers
		}
		body = append(body, l)
	}
	code = strings.Join(body, "\n")
	decls := regexp.MustCompile(`(?m)^func `).MatchString(code)
	const head = "package readmecheck\n"
	wrapped := fmt.Sprintf("%s//line README.md:%d\n%s\n", head, b.line, code)
	if !decls {
		wrapped = fmt.Sprintf("%sfunc _() error {\n//line README.md:%d\n%s\nreturn nil\n}\n", head, b.line, code)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "README.md", wrapped, parser.ParseComments)
	if err != nil {
		t.Fatalf("README.md:%d: the Go block does not parse: %v", b.line, err)
	}
	declared := map[string]bool{}
	type insertion struct {
		at   int
		text string
	}
	var inserts []insertion
	ast.Inspect(f, func(n ast.Node) bool {
		blk, ok := n.(*ast.BlockStmt)
		if !ok {
			return true
		}
		var uses strings.Builder
		for _, st := range blk.List {
			var names []*ast.Ident
			switch st := st.(type) {
			case *ast.AssignStmt:
				if st.Tok == token.DEFINE {
					for _, e := range st.Lhs {
						if id, ok := e.(*ast.Ident); ok {
							names = append(names, id)
						}
					}
				}
			case *ast.DeclStmt:
				if gd, ok := st.Decl.(*ast.GenDecl); ok {
					for _, sp := range gd.Specs {
						if vs, ok := sp.(*ast.ValueSpec); ok {
							names = append(names, vs.Names...)
						}
					}
				}
			}
			for _, id := range names {
				if id.Name != "_" {
					declared[id.Name] = true
					fmt.Fprintf(&uses, "; _ = %s", id.Name)
				}
			}
		}
		if uses.Len() > 0 {
			at := fset.Position(blk.Rbrace).Offset
			if _, ok := blk.List[len(blk.List)-1].(*ast.ReturnStmt); ok {
				at = fset.Position(blk.List[len(blk.List)-1].Pos()).Offset // before the final return
			}
			inserts = append(inserts, insertion{at, uses.String() + "; "})
		}
		return true
	})
	var params []string
	seen := map[string]bool{}
	for _, id := range f.Unresolved {
		name := id.Name
		if seen[name] {
			continue
		}
		seen[name] = true
		switch {
		case readmeImports[name] != "":
			imports[readmeImports[name]] = true
		case types.Universe.Lookup(name) != nil:
		case readmeShared[name] != "" && !declared[name]:
			typ := readmeShared[name]
			params = append(params, name+" "+typ)
			if pkg, _, ok := strings.Cut(strings.TrimLeft(typ, "*[]"), "."); ok {
				imports[readmeImports[pkg]] = true
			}
		case declared[name]:
			t.Errorf("README.md:%d: a Go example uses %s before declaring it", b.line, name)
		default:
			t.Errorf("README.md:%d: a Go example uses %s, which is neither declared there, nor one of the variables the examples share (%s), nor a package users import", b.line, name, strings.Join(sortedKeys(readmeShared), ", "))
		}
	}
	sort.Slice(inserts, func(i, j int) bool { return inserts[i].at > inserts[j].at })
	for _, in := range inserts {
		wrapped = wrapped[:in.at] + in.text + wrapped[in.at:]
	}
	sort.Strings(params)
	wrapped = strings.Replace(wrapped, "func _() error {", fmt.Sprintf("func readme%d(%s) error {", i, strings.Join(params, ", ")), 1)
	var imp strings.Builder
	imp.WriteString(head + "\nimport (\n")
	for _, p := range sortedKeys(imports) {
		fmt.Fprintf(&imp, "\t%q\n", p)
		otel = otel || strings.Contains(p, "otel")
	}
	imp.WriteString(")\n")
	return imp.String() + strings.TrimPrefix(wrapped, head), otel
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Every Go block of README.md compiles, with the real packages, and its tests pass: each
// block becomes a file of a package that exists only in a go test -overlay, in the main
// module or, for the OpenTelemetry examples, in the gibsonotel module.
func TestREADMEGo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the README's examples with the go command")
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	overlays := map[string]map[string]string{} // module dir -> virtual file -> real file
	n := 0
	for i, b := range readmeBlocks(t) {
		if b.lang != "go" {
			continue
		}
		n++
		src, otel := goSnippet(t, i, b)
		module := root
		if otel {
			module = filepath.Join(root, "gibsonotel")
		}
		name := fmt.Sprintf("readme%d.go", i)
		if strings.Contains(b.code, "(t *testing.T)") {
			name = fmt.Sprintf("readme%d_test.go", i) // a test: it runs
		}
		real := filepath.Join(dir, name)
		if err := os.WriteFile(real, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if overlays[module] == nil {
			overlays[module] = map[string]string{}
		}
		overlays[module][filepath.Join(module, "internal", "readmecheck", name)] = real
	}
	if n == 0 {
		t.Fatal("README.md has no Go block")
	}
	for module, files := range overlays {
		doc, _ := json.Marshal(map[string]any{"Replace": files})
		ov := filepath.Join(dir, fmt.Sprintf("overlay-%s.json", filepath.Base(module)))
		if err := os.WriteFile(ov, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		// go test -c, then the binary run here: a test binary runs in its package's
		// directory, which exists only in the overlay.
		bin := filepath.Join(dir, fmt.Sprintf("readme-%s.test", filepath.Base(module)))
		cmd := exec.Command("go", "test", "-c", "-vet=off", "-overlay", ov, "-o", bin, "./internal/readmecheck")
		cmd.Dir = module
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if _, statErr := os.Stat(bin); err == nil && statErr == nil {
			run := exec.Command(bin, "-test.count=1")
			run.Dir = dir
			run.Stdout, run.Stderr = &out, &out
			err = run.Run()
		}
		if err != nil {
			t.Errorf("README.md's Go examples (built in %s) do not compile or their tests fail: %v\n%s", module, err, out.String())
		}
	}
}
