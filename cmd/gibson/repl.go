package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/term"
)

// lineReader is the REPL's input: the terminal line editor, or plain lines in tests.
type lineReader interface {
	ReadLine() (string, error)
}

// repl reads commands until :quit, :exit or the end of input (Ctrl-D) and prints every
// result, errors included, to out. Failed commands do not end it.
func (s *session) repl(ctx context.Context, in lineReader, out io.Writer) int {
	for {
		line, err := in.ReadLine()
		if err != nil && !errors.Is(err, term.ErrPasteIndicator) {
			if errors.Is(err, io.EOF) {
				return 0
			}
			fmt.Fprintf(out, "gibson: reading input: %v\n", err)
			return 1
		}
		if quit, _ := s.input(ctx, out, line); quit {
			return 0
		}
	}
}

// input handles one line of REPL or script input: blank lines and # comments are skipped,
// :help, :quit and :exit are the REPL's own, anything else is a Gibson command. failed
// reports a command that failed.
//
// Trailing blanks are kept for a command (they may end a value, as in one-shot mode);
// only a carriage return of a CRLF line end is dropped.
func (s *session) input(ctx context.Context, out io.Writer, line string) (quit, failed bool) {
	line = strings.TrimLeft(strings.TrimSuffix(line, "\r"), " \t")
	trimmed := strings.TrimSpace(line)
	if trimmed == "" || strings.HasPrefix(trimmed, "#") {
		return false, false
	}
	word, rest, _ := strings.Cut(trimmed, " ")
	switch strings.ToLower(word) {
	case ":quit", ":exit", "quit", "exit":
		return true, false
	case ":shards":
		writeShards(out, s.c, s.addr)
		return false, false
	case ":help", "help":
		if topic := strings.TrimSpace(rest); topic != "" {
			if err := writeHelpOne(out, topic); err != nil {
				_ = writeResult(out, s.mode, result{kind: resErr, err: err})
				return false, true
			}
			return false, false
		}
		writeHelpAll(out)
		return false, false
	}
	if strings.ToLower(word) == ":stats" {
		s.writeStats(out)
		return false, false
	}
	if strings.HasPrefix(word, ":") {
		_ = writeResult(out, s.mode, result{kind: resErr, err: fmt.Errorf("gibson: unknown REPL command %q; :help lists them", word)})
		return false, true
	}
	return false, s.line(ctx, out, line)
}
