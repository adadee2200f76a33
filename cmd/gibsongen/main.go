// Command gibsongen generates the typed Gibson commands from commands.yaml.
//
//	gibsongen -spec commands.yaml -out generated   write the generated package
//	gibsongen -check                               exit 1 with a diff when it is stale
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
	check := flag.Bool("check", false, "write nothing; exit 1 and print a diff when -out is stale")
	flag.Parse()
	os.Exit(run(*spec, *out, *check))
}

func run(specPath, out string, check bool) int {
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
