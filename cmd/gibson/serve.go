package main

import (
	"fmt"
	"io"
)

// runServe is a placeholder until the embedded-server work lands.
func runServe(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "gibson serve: not implemented yet")
	return 2
}
