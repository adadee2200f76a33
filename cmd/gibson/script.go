package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gogibson/gogibson/wire"
)

// maxScriptLine bounds one script line: room for the largest value a server may accept.
const maxScriptLine = 64 << 20

// scriptBatch is the most script commands sent together as one batch.
const scriptBatch = 64

// script runs one command per line of in, printing each result (errors included) to out
// in order. Consecutive commands whose lines have already been read (up to scriptBatch)
// go to the server as one batch; script never waits for more input to fill a batch. It
// returns 1 when any command failed, and stops early only at :quit.
func (s *session) script(ctx context.Context, in io.Reader, out, errOut io.Writer) int {
	lines := make(chan string, scriptBatch)
	stop := make(chan struct{})
	defer close(stop)
	var readErr error // set before lines is closed
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 0, 64<<10), maxScriptLine)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-stop:
				return
			}
		}
		readErr = sc.Err()
	}()
	code := 0
	chunk := make([]string, 0, scriptBatch)
	for line := range lines {
		chunk = append(chunk[:0], line)
	fill:
		for len(chunk) < scriptBatch {
			select {
			case l, ok := <-lines:
				if !ok {
					break fill
				}
				chunk = append(chunk, l)
			default:
				break fill
			}
		}
		quit, failed := s.chunk(ctx, out, chunk)
		if failed {
			code = 1
		}
		if quit {
			return code
		}
	}
	if readErr != nil {
		fmt.Fprintf(errOut, "gibson: reading the script: %v\n", readErr)
		return 1
	}
	return code
}

// chunk runs lines as input does one by one, sending consecutive commands as one batch:
// anything else (a REPL command, a line that does not parse, END) first runs the commands
// before it, then runs alone.
func (s *session) chunk(ctx context.Context, out io.Writer, lines []string) (quit, failed bool) {
	var pending []request
	flush := func() {
		if s.batch(ctx, out, pending) {
			failed = true
		}
		pending = pending[:0]
	}
	for _, line := range lines {
		line = strings.TrimLeft(strings.TrimSuffix(line, "\r"), " \t")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		word, _, _ := strings.Cut(trimmed, " ")
		switch strings.ToLower(word) {
		case ":quit", ":exit", "quit", "exit", ":help", "help":
		default:
			if !strings.HasPrefix(word, ":") {
				if req, err := parseLine(s.lim, line); err == nil && req.cmd.Flags&wire.FlagCloses == 0 {
					pending = append(pending, req)
					continue
				}
			}
		}
		flush()
		q, f := s.input(ctx, out, line)
		failed = failed || f
		if q {
			return true, failed
		}
	}
	flush()
	return false, failed
}

// batch runs reqs and prints their results in order, as do would one by one, but in one
// batch (within one s.timeout) when the connection supports it. It reports whether any
// command failed.
func (s *session) batch(ctx context.Context, w io.Writer, reqs []request) (failed bool) {
	one := func(req request) {
		r := s.do(ctx, req)
		_ = writeResult(w, s.mode, r)
		failed = failed || r.failed()
	}
	if len(reqs) > 1 && s.c == nil {
		one(reqs[0]) // dials, or fails as do does
		reqs = reqs[1:]
	}
	b := batchOf(s.c)
	if len(reqs) < 2 || b == nil {
		for _, req := range reqs {
			one(req)
		}
		return failed
	}
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	hs := make([]interface {
		Result() (wire.Reply, error)
	}, len(reqs))
	for i, req := range reqs {
		hs[i] = b.Do(req.cmd.Op, req.args...)
	}
	_ = b.Exec(ctx) // a failed run's error is in every unanswered handle
	for i, req := range reqs {
		rep, err := hs[i].Result()
		if errors.Is(err, wire.ErrClosed) || errors.Is(err, wire.ErrProtocol) || errors.Is(err, context.DeadlineExceeded) {
			s.drop()
		}
		r := decodeResult(req, rep, err)
		if r.failed() {
			r.err = s.explain(req, r.err)
		}
		_ = writeResult(w, s.mode, r)
		failed = failed || r.failed()
	}
	return failed
}
