package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/wire"
)

func newTestSession(t *testing.T, address string) *session {
	s := &session{
		addr: address,
		dial: func(ctx context.Context) (conn, error) { return dialConn(ctx, address, dialOptions{timeout: 5e9}) },
	}
	t.Cleanup(s.Close)
	return s
}

func TestREPL(t *testing.T) {
	srv := gibsontest.NewServer(t)
	s := newTestSession(t, srv.Addr())
	in := strings.Join([]string{
		":help",
		":help set",
		":help meta",
		"help nothing",
		"set 0 a 1",
		"  INC a  ",
		"",
		"# a comment",
		"frob",
		":frob",
		"end",   // the server closes the connection after END ...
		"get a", // ... and the session dials again
		":quit",
		"get a",
	}, "\n")
	var out bytes.Buffer
	if code := s.repl(context.Background(), plainLines{bufio.NewReader(strings.NewReader(in))}, &out); code != 0 {
		t.Errorf("repl exit %d, want 0", code)
	}
	checkGolden(t, "repl.text", out.String())
	if strings.Count(out.String(), `"2"`) != 1 {
		t.Errorf("the line after :quit ran, or get a did not:\n%s", out.String())
	}
}

func TestREPLEndOfInput(t *testing.T) {
	srv := gibsontest.NewServer(t)
	s := newTestSession(t, srv.Addr())
	var out bytes.Buffer
	code := s.repl(context.Background(), plainLines{bufio.NewReader(strings.NewReader("ping"))}, &out)
	if code != 0 || out.String() != "OK\n" {
		t.Errorf("a last line without newline: exit %d, output %q", code, out.String())
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	var out bytes.Buffer
	writeHelpAll(&out)
	for _, verb := range []string{"SET <ttl> <key> <value>", "MGET <prefix> [limit]", "META <key> <field>", "END"} {
		if !strings.Contains(out.String(), verb) {
			t.Errorf(":help lacks %q", verb)
		}
	}
}

func TestHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hist")
	h := loadHistory(path)
	h.Add("get a")
	h.Add("get a") // repeated lines are kept once
	h.Add("set 0 b c")
	if h.Len() != 2 || h.At(0) != "set 0 b c" || h.At(1) != "get a" {
		t.Fatalf("history: %q", h.lines)
	}
	h2 := loadHistory(path)
	if h2.Len() != 2 || h2.At(0) != "set 0 b c" {
		t.Errorf("reloaded history: %q", h2.lines)
	}
	data, _ := os.ReadFile(path)
	if string(data) != "get a\nset 0 b c\n" {
		t.Errorf("history file: %q", data)
	}
	if none := loadHistory(""); none.Len() != 0 {
		t.Error("history without a file is not empty")
	}
	none := loadHistory("")
	none.Add("x")
	if none.Len() != 1 {
		t.Error("in-memory history lost a line")
	}
}

func TestHistoryPath(t *testing.T) {
	a := testApp(t)
	home, _ := a.home()
	if got := a.historyPath(""); got != filepath.Join(home, ".gibson_history") {
		t.Errorf("default history path %q", got)
	}
	if got := a.historyPath("-"); got != "" {
		t.Errorf("--history - gives %q", got)
	}
}

// The REPL runs the same Limits as one-shot mode.
func TestREPLValidates(t *testing.T) {
	srv := gibsontest.NewServer(t)
	s := newTestSession(t, srv.Addr())
	s.lim = wire.Limits{MaxKeySize: 4}
	var out bytes.Buffer
	s.repl(context.Background(), plainLines{bufio.NewReader(strings.NewReader("get abcd\nget abc\n"))}, &out)
	if !strings.Contains(out.String(), "at most 3 fit") || !strings.HasSuffix(out.String(), "(nil)\n") {
		t.Errorf("output:\n%s", out.String())
	}
}

// :help lists every REPL command that completes (and so exists), :shards included.
func TestREPLHelpListsEveryREPLCommand(t *testing.T) {
	if !slices.Contains(replCommands, ":shards") {
		t.Errorf("replCommands %q lacks :shards", replCommands)
	}
	var out bytes.Buffer
	writeHelpAll(&out)
	s := newTestSession(t, "unix:///nonexistent.sock")
	for _, c := range replCommands {
		if !strings.Contains(out.String(), "\n"+c+" ") && !strings.Contains(out.String(), ", "+c+" ") && !strings.Contains(out.String(), "\n"+c+",") {
			t.Errorf(":help does not list %s:\n%s", c, out.String())
		}
		var res bytes.Buffer
		if c == ":quit" || c == ":exit" {
			continue
		}
		if _, failed := s.input(context.Background(), &res, c); failed {
			t.Errorf("%s is not a REPL command: %s", c, res.String())
		}
	}
}
