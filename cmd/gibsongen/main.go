// Command gibsongen generates the typed Gibson commands from commands.yaml.
//
//	gibsongen -spec commands.yaml -out generated -client client
//	    write the generated package and the generated file of package client
//	gibsongen -check
//	    write nothing; exit 1 with a diff when either is stale
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gogibson/gogibson/gen"
)

func main() {
	spec := flag.String("spec", "commands.yaml", "the command spec to read")
	out := flag.String("out", "generated", "the directory of the generated package")
	clientDir := flag.String("client", "client", "the directory of package client, which gets one generated file; empty for none")
	check := flag.Bool("check", false, "write nothing; exit 1 and print a diff when -out or -client is stale")
	flag.Parse()
	os.Exit(run(*spec, *out, *clientDir, *check))
}

func run(specPath, out, clientDir string, check bool) int {
	s, err := gen.LoadFile(specPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	files, err := gen.Generate(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gibsongen:", err)
		return 2
	}
	if rc := emit(out, files, check); rc != 0 || clientDir == "" {
		return rc
	}
	clientFiles, err := gen.GenerateClient(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gibsongen:", err)
		return 2
	}
	return emit(clientDir, clientFiles, check)
}

// emit writes files into out, or with check compares them and reports a stale out.
func emit(out string, files map[string][]byte, check bool) int {
	if check {
		diff, err := gen.Diff(out, files)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gibsongen:", err)
			return 2
		}
		if diff != "" {
			fmt.Fprintf(os.Stderr, "gibsongen: %s is stale; run make generate\n%s\n", out, diff)
			return 1
		}
		return 0
	}
	if err := gen.Write(out, files); err != nil {
		fmt.Fprintln(os.Stderr, "gibsongen:", err)
		return 2
	}
	return 0
}
