package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/wire"
)

// countingConn is a client connection that counts the single requests and the batches the
// session sends on it.
type countingConn struct {
	*client.Conn
	dos, batches *atomic.Int64
}

func (c countingConn) Do(ctx context.Context, op wire.Opcode, args ...[]byte) (wire.Reply, error) {
	c.dos.Add(1)
	return c.Conn.Do(ctx, op, args...)
}

func (c countingConn) Batch() *client.Batch {
	c.batches.Add(1)
	return c.Conn.Batch()
}

// plainConn hides the connection's Batch, so the session sends one command at a time.
type plainConn struct{ conn }

// batchScript mixes commands with every line that must not be batched: blank lines,
// comments, a line that does not parse, an unknown REPL command, END (which closes the
// connection, after which the session redials), and it crosses chunk boundaries.
func batchScript() string {
	var b strings.Builder
	for i := range 150 {
		fmt.Fprintf(&b, "SET 0 s:%d v%d\nINC s:n\n", i%7, i)
		switch i {
		case 10:
			b.WriteString("\n# a comment\nGET\n")
		case 40:
			b.WriteString(":nosuch\nGET s:absent\n")
		case 70:
			b.WriteString("END\n")
		case 100:
			b.WriteString("INC s:0\nMGET s:\n")
		}
	}
	b.WriteString("GET s:n\nKEYS s:\n")
	return b.String()
}

// A piped script prints exactly what it printed one command at a time, while sending its
// commands in batches.
func TestScriptBatchesKeepOutput(t *testing.T) {
	script := batchScript()
	runWith := func(wrap func(c *client.Conn) conn) run {
		srv := gibsontest.NewServer(t)
		a := testApp(t)
		a.dial = func(ctx context.Context, address string, o dialOptions) (conn, error) {
			c, err := dialConn(ctx, address, o)
			if err != nil {
				return nil, err
			}
			return wrap(c.(*client.Conn)), nil
		}
		return a.runPiped(script, "--addr", srv.Addr())
	}
	want := runWith(func(c *client.Conn) conn { return plainConn{c} })
	var dos, batches atomic.Int64
	got := runWith(func(c *client.Conn) conn { return countingConn{c, &dos, &batches} })
	if got.code != want.code || got.stdout != want.stdout || got.stderr != want.stderr {
		t.Errorf("batched run differs from one at a time:\ngot  %+v\nwant %+v", got, want)
	}
	// Every INC of s:n ran once, across END and its redial: the last one and GET say 150.
	if got.code != 1 || !strings.Contains(got.stdout, "usage: GET <key>\n") || !strings.Contains(got.stdout, `unknown REPL command ":nosuch"`) || !strings.Contains(got.stdout, "\n150\n150\n") {
		t.Errorf("the script's failures or results are missing (exit %d):\n%s", got.code, got.stdout)
	}
	commands := strings.Count(script, "\n") - 4 // blank, comment, GET, :nosuch
	if batches.Load() == 0 || dos.Load() > int64(commands)/4 {
		t.Errorf("%d commands went as %d batches and %d single requests; want mostly batches", commands, batches.Load(), dos.Load())
	}
}

// A script never waits for more input to fill a batch: each line is answered while the
// pipe stays open with nothing more to read.
func TestScriptAnswersWithoutWaitingForMoreInput(t *testing.T) {
	srv := gibsontest.NewServer(t)
	pr, pw := io.Pipe()
	outR, outW := io.Pipe()
	var errOut syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- testApp(t).runCLI([]string{"--addr", srv.Addr()}, pr, outW, &errOut)
		outW.Close()
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		for sc := bufio.NewScanner(outR); sc.Scan(); {
			lines <- sc.Text()
		}
	}()
	for i := 1; i <= 3; i++ {
		if _, err := fmt.Fprintf(pw, "INC s:n\n"); err != nil {
			t.Fatal(err)
		}
		select {
		case line := <-lines:
			if line != fmt.Sprint(i) {
				t.Fatalf("line %d answered %q; want %d", i, line, i)
			}
		case <-time.After(5 * time.Second):
			_ = pw.Close()
			t.Fatalf("line %d not answered within 5 s while the pipe stayed open; stderr %q", i, errOut.String())
		}
	}
	_ = pw.Close()
	select {
	case code := <-exit:
		if rest, open := <-lines; code != 0 || open {
			t.Errorf("exit %d, more output %q, stderr %q", code, rest, errOut.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("script did not end within 5 s of its input")
	}
}

// A script line over 64 MiB fails as a command of its own, and the script goes on; the
// line is never held in memory (it comes from a reader, not a string).
func TestScriptOverlongLineFailsAndGoesOn(t *testing.T) {
	srv := gibsontest.NewServer(t)
	in := io.MultiReader(strings.NewReader("set 0 a 1\nset 0 b "),
		&countingReader{left: maxScriptLine}, strings.NewReader("\ninc a\nget a\n"))
	var out, errOut bytes.Buffer
	code := testApp(t).runCLI([]string{"--addr", srv.Addr()}, in, &out, &errOut)
	want := "OK\ngibson: script line 2 is over 64M (67108864 bytes), the most a line may hold; it was skipped (give a value that large with gibson -x)\n2\n2\n"
	if code != 1 || out.String() != want || errOut.String() != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1 and %q", code, out.String(), errOut.String(), want)
	}
	if _, ok := srv.Get("b"); ok {
		t.Error("the over-long line was sent")
	}
}

func TestReadScriptLine(t *testing.T) {
	long := strings.Repeat("y", 100) // longer than bufio's smallest buffer (16 bytes)
	r := bufio.NewReaderSize(strings.NewReader("abcd\nabcde\n"+long+"\n\nlast"), 16)
	for _, want := range []struct {
		text    string
		tooLong bool
		err     error
	}{{"abcd", false, nil}, {"", true, nil}, {"", true, nil}, {"", false, nil}, {"last", false, io.EOF}, {"", false, io.EOF}} {
		text, tooLong, err := readScriptLine(r, 4)
		if text != want.text || tooLong != want.tooLong || err != want.err {
			t.Errorf("readScriptLine = %q, %v, %v; want %q, %v, %v", text, tooLong, err, want.text, want.tooLong, want.err)
		}
	}
	r = bufio.NewReaderSize(strings.NewReader(long+"\n"), 16)
	if text, tooLong, err := readScriptLine(r, 100); text != long || tooLong || err != nil {
		t.Errorf("a line of exactly the limit across buffer refills: %d bytes, %v, %v", len(text), tooLong, err)
	}
}
