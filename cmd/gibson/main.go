// Command gibson is the Gibson command-line tool: one-shot commands, a REPL and scripts
// (gibson [flags] [verb args…]), a standalone embedded server (gibson serve) and a load
// generator (gibson bench) and a proxy in front of several servers (gibson proxy).
package main

import (
	"os"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 {
		switch args[0] {
		case "serve":
			os.Exit(runServe(args[1:], os.Stdout, os.Stderr))
		case "bench":
			os.Exit(runBench(args[1:], os.Stdout, os.Stderr))
		case "proxy":
			os.Exit(runProxy(args[1:], os.Stdout, os.Stderr))
		}
	}
	os.Exit(runCLI(args, os.Stdin, os.Stdout, os.Stderr))
}
