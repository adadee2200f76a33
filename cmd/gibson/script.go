package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/gogibson/gogibson/internal/size"
	"github.com/gogibson/gogibson/wire"
)

// maxScriptLine bounds one script line: room for the largest value a server may accept.
// A longer line fails as a command and the script goes on.
const maxScriptLine = 64 << 20

// scriptBatch is the most script commands sent together as one batch.
const scriptBatch = 64

// script runs one command per line of in, printing each result (errors included) to out
// in order. Consecutive commands whose lines have already been read (up to scriptBatch)
// go to the server as one batch; script never waits for more input to fill a batch. It
// returns 1 when any command failed, and stops early only at :quit.
func (s *session) script(ctx context.Context, in io.Reader, out, errOut io.Writer) int {
	lines := make(chan scriptLine, scriptBatch)
	stop := make(chan struct{})
	defer close(stop)
	limit := maxScriptLine
	var readErr error // set before lines is closed
	go func() {
		defer close(lines)
		r := bufio.NewReaderSize(in, 64<<10)
		for num := 1; ; num++ {
			text, tooLong, err := readScriptLine(r, limit)
			if err != nil && (err != io.EOF || (text == "" && !tooLong)) {
				if err != io.EOF {
					readErr = err
				}
				return
			}
			select {
			case lines <- scriptLine{text: text, num: num, tooLong: tooLong}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	code := 0
	chunk := make([]scriptLine, 0, scriptBatch)
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
		quit, failed := s.chunk(ctx, out, chunk, limit)
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

// scriptLine is one line of a script, without its line end; tooLong marks a line over
// the limit, whose text was dropped.
type scriptLine struct {
	text    string
	num     int
	tooLong bool
}

// readScriptLine reads one line (without "\n") of at most limit bytes. A longer line is
// read to its end and dropped, and reported with tooLong, so that it never holds more
// than limit bytes of memory and the script goes on with the next line. err is io.EOF
// with the last line when the input does not end with a line end.
func readScriptLine(r *bufio.Reader, limit int) (text string, tooLong bool, err error) {
	var buf []byte
	for {
		part, err := r.ReadSlice('\n')
		ended := err == nil // part ends with the line end
		content := part
		if ended {
			content = part[:len(part)-1]
		}
		if !tooLong && len(buf)+len(content) > limit {
			tooLong, buf = true, nil
		}
		if !tooLong {
			buf = append(buf, content...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return string(buf), tooLong, err
	}
}

// chunk runs lines as input does one by one, sending consecutive commands as one batch:
// anything else (a REPL command, a line that does not parse, END) first runs the commands
// before it, then runs alone.
func (s *session) chunk(ctx context.Context, out io.Writer, lines []scriptLine, limit int) (quit, failed bool) {
	var pending []request
	flush := func() {
		if s.batch(ctx, out, pending) {
			failed = true
		}
		pending = pending[:0]
	}
	for _, l := range lines {
		if l.tooLong {
			flush()
			err := fmt.Errorf("gibson: script line %d is over %s (%d bytes), the most a line may hold; it was skipped (give a value that large with gibson -x)", l.num, size.Format(int64(limit)), limit)
			_ = writeResult(out, s.mode, result{kind: resErr, err: err})
			failed = true
			continue
		}
		line := strings.TrimLeft(strings.TrimSuffix(l.text, "\r"), " \t")
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
		s.dropAfter(req, err)
		r := decodeResult(req, rep, err)
		if r.failed() {
			r.err = s.explain(req, r.err)
		}
		_ = writeResult(w, s.mode, r)
		failed = failed || r.failed()
	}
	return failed
}
