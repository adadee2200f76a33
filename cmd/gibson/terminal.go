package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// maxHistory bounds the history kept in memory and loaded from the history file.
const maxHistory = 1000

// isTerminal reports whether f is an *os.File attached to a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// replOnTerminal runs the REPL with line editing, history and tab completion on the
// terminal in, which is put into raw mode for the duration.
func (s *session) replOnTerminal(ctx context.Context, in *os.File, out io.Writer, histPath string) int {
	fd := int(in.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		// No line editing, but still a REPL.
		return s.repl(ctx, plainLines{bufio.NewReader(in)}, out)
	}
	defer func() { _ = term.Restore(fd, old) }()
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{in, out}, "gibson "+s.addr+"> ")
	if w, h, err := term.GetSize(fd); err == nil && w > 0 {
		_ = t.SetSize(w, h)
	}
	t.History = loadHistory(histPath)
	t.AutoCompleteCallback = func(line string, pos int, key rune) (string, int, bool) {
		if key != '\t' {
			return "", 0, false
		}
		return complete(line, pos)
	}
	return s.repl(ctx, t, t)
}

// plainLines reads lines without editing: a REPL on a terminal that refused raw mode, and tests.
type plainLines struct{ r *bufio.Reader }

func (p plainLines) ReadLine() (string, error) {
	line, err := p.r.ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// history is the REPL's history (index 0 is the newest entry), appended to a file when
// it has one so the next session can recall it.
type history struct {
	lines []string // oldest first
	path  string
}

func loadHistory(path string) *history {
	h := &history{path: path}
	if path == "" {
		return h
	}
	if data, err := os.ReadFile(path); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if l != "" {
				h.lines = append(h.lines, l)
			}
		}
		if len(h.lines) > maxHistory {
			h.lines = h.lines[len(h.lines)-maxHistory:]
		}
	}
	return h
}

func (h *history) Add(entry string) {
	if entry == "" || (len(h.lines) > 0 && h.lines[len(h.lines)-1] == entry) {
		return
	}
	h.lines = append(h.lines, entry)
	if len(h.lines) > maxHistory {
		h.lines = h.lines[1:]
	}
	if h.path == "" {
		return
	}
	// History is a convenience: a file that cannot be written is ignored.
	if f, err := os.OpenFile(h.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		_, _ = f.WriteString(entry + "\n")
		_ = f.Close()
	}
}

func (h *history) Len() int { return len(h.lines) }

func (h *history) At(i int) string { return h.lines[len(h.lines)-1-i] }
