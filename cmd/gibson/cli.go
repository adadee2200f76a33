package main

import (
	"fmt"
	"io"
)

// runCLI is a placeholder until the CLI work lands.
func runCLI(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "gibson: not implemented yet")
	return 2
}

// runBench is a placeholder until the CLI work lands.
func runBench(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "gibson bench: not implemented yet")
	return 2
}
