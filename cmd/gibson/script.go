package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
)

// maxScriptLine bounds one script line: room for the largest value a server may accept.
const maxScriptLine = 64 << 20

// script runs one command per line of in, printing each result (errors included) to out
// in order. It returns 1 when any command failed, and stops early only at :quit.
func (s *session) script(ctx context.Context, in io.Reader, out, errOut io.Writer) int {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), maxScriptLine)
	code := 0
	for sc.Scan() {
		quit, failed := s.input(ctx, out, sc.Text())
		if failed {
			code = 1
		}
		if quit {
			break
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(errOut, "gibson: reading the script: %v\n", err)
		return 1
	}
	return code
}
