package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
)

// startServe runs serve in a goroutine and returns the server once it listens, and a
// channel with serve's exit status.
func startServe(t *testing.T, args []string, stdout, stderr io.Writer) (*gibsontest.Server, chan int) {
	t.Helper()
	started := make(chan *gibsontest.Server, 1)
	exit := make(chan int, 1)
	go func() { exit <- serve(args, stdout, stderr, func(s *gibsontest.Server) { started <- s }) }()
	select {
	case s := <-started:
		return s, exit
	case code := <-exit:
		t.Fatalf("serve exited with %d", code)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	return nil, nil
}

func ping(t *testing.T, sock string) {
	t.Helper()
	nc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte{2, 0, 0, 0, 0x13, 0})
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	reply := make([]byte, 8)
	if _, err := io.ReadFull(nc, reply); err != nil || !bytes.Equal(reply, []byte{5, 0, 0, 1, 0, 0, 0, 0}) {
		t.Fatalf("PING on %s: %x, %v", sock, reply, err)
	}
}

func sigterm(t *testing.T, exit chan int) {
	t.Helper()
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case code := <-exit:
		if code != 0 {
			t.Errorf("exit status %d after SIGTERM", code)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("serve did not stop within 2 s of SIGTERM")
	}
}

// A second serve on a unix socket that a server answers on refuses; a stale socket file
// (nobody answering) is replaced.
func TestServeUnixSocketInUse(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "g.sock")
	first, err := gibsontest.Start(gibsontest.WithAddr(sock))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	var stderr bytes.Buffer
	if code := runServe([]string{"--listen", sock, "--pidfile", ""}, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "address in use") {
		t.Errorf("second serve on a live socket: status %d, %q; want 2 and \"address in use\"", code, stderr.String())
	}
	ping(t, sock) // the first server is still reachable

	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close() // the file stays, nobody answers
	_, exit := startServe(t, []string{"--listen", stale, "--pidfile", ""}, io.Discard, io.Discard)
	ping(t, stale)
	sigterm(t, exit)
}

// daemonize 1 and bad logging directives are refused with a message saying what to do.
func TestServeRefusesUnsupportedDirectives(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--daemonize", "1"}, "run it under a service manager"},
		{[]string{"--loglevel", "7"}, `loglevel "7": out of range; allowed: 0 to 4`},
		{[]string{"--logflushrate", "0"}, `logflushrate "0": out of range; allowed: 1 to 1048576`},
		{[]string{"--logfile", "/nonexistent-dir/x.log"}, "logfile: open /nonexistent-dir/x.log"},
	} {
		var stderr bytes.Buffer
		if code := runServe(append(tc.args, "--listen", filepath.Join(t.TempDir(), "s.sock")), io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: status %d, %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// logfile, loglevel and pidfile work; SIGHUP reopens the log file (rotation); the pidfile
// goes away on exit.
func TestServeLogFilePidFileAndSIGHUP(t *testing.T) {
	dir := t.TempDir()
	sock, logf, pidf := filepath.Join(dir, "g.sock"), filepath.Join(dir, "g.log"), filepath.Join(dir, "g.pid")
	_, exit := startServe(t, []string{"--listen", sock, "--logfile", logf, "--loglevel", "0", "--pidfile", pidf}, io.Discard, io.Discard)
	if b, err := os.ReadFile(pidf); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("pidfile: %q, %v; want %d", b, err, os.Getpid())
	}
	ping(t, sock)
	waitForFile(t, logf, "connection closed")
	if log, _ := os.ReadFile(logf); !strings.Contains(string(log), "gibson serve started") || !strings.Contains(string(log), "level=DEBUG msg=\"connection opened\"") {
		t.Errorf("log file: %s", log)
	}
	if err := os.Rename(logf, logf+".1"); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitForFile(t, logf, "log file reopened")
	sigterm(t, exit)
	if log, _ := os.ReadFile(logf); !strings.Contains(string(log), "msg=stopped") {
		t.Errorf("reopened log file lacks the stop line: %s", log)
	}
	if _, err := os.Stat(pidf); !os.IsNotExist(err) {
		t.Errorf("pidfile still there after exit: %v", err)
	}
}

// waitForFile waits until the file at path holds text. The lines come from serve's
// goroutines (a connection's close, the signal loop) and a file has no event to wait on, so
// it is polled.
func waitForFile(t *testing.T, path, text string) {
	t.Helper()
	if !pollFor(10*time.Second, func() bool { b, _ := os.ReadFile(path); return strings.Contains(string(b), text) }) {
		b, _ := os.ReadFile(path)
		t.Fatalf("%s never contained %q: %s", path, text, b)
	}
}
