package gibsontest

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// logLines is a log destination the server and a test share.
type logLines struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// with returns the lines holding s.
func (l *logLines) with(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lines []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		if strings.Contains(line, s) {
			lines = append(lines, line)
		}
	}
	return lines
}

// fakeLogClock makes the rate limits read a clock the test moves; call it before
// starting the server, so that it is put back once the server is closed.
func fakeLogClock(t *testing.T) (advance func(time.Duration)) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	logClock = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	t.Cleanup(func() { logClock = nil })
	return func(d time.Duration) {
		mu.Lock()
		now = now.Add(d)
		mu.Unlock()
	}
}

func warnLogger(l *logLines) Option {
	return WithLogger(slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// Connections refused at max_clients are logged at warn level: the first at once, then
// at most one line a minute, with the number held back since the last.
func TestRefusalsAtMaxClientsAreWarnedOncePerMinute(t *testing.T) {
	advance := fakeLogClock(t)
	var logs logLines
	cfg := DefaultConfig()
	cfg.MaxClients = 1
	s := NewServer(t, WithConfig(cfg), warnLogger(&logs))
	eq(t, "PING of the one client allowed", dial(t, s).do(generated.OpPing), status(wire.CodeOK))
	refuse := func() { dial(t, s).expectClosed() } // the line is logged before the close
	const msg = "connection refused: max_clients reached"
	refuse()
	if got := logs.with(msg); len(got) != 1 || !strings.Contains(got[0], "level=WARN") || !strings.Contains(got[0], "not_logged_since_last=0") {
		t.Fatalf("after the first refusal: %q", got)
	}
	refuse()
	advance(59 * time.Second)
	refuse()
	if got := logs.with(msg); len(got) != 1 {
		t.Fatalf("three refusals within a minute logged %d lines: %q", len(got), got)
	}
	advance(2 * time.Second)
	refuse()
	if got := logs.with(msg); len(got) != 2 || !strings.Contains(got[1], "not_logged_since_last=2") {
		t.Errorf("a refusal a minute after the first: %q; want a second line counting the 2 held back", got)
	}
}

// failingListener's Accept runs the functions sent to it and returns their errors, in
// the accept loop's goroutine, then net.ErrClosed.
type failingListener struct{ errs chan func() error }

func (l failingListener) Accept() (net.Conn, error) {
	if f, ok := <-l.errs; ok {
		return nil, f()
	}
	return nil, net.ErrClosed
}
func (l failingListener) Close() error   { return nil }
func (l failingListener) Addr() net.Addr { return &net.UnixAddr{Name: "fake", Net: "unix"} }

// A failing accept (out of file descriptors) is logged at warn level, rate-limited the
// same way, and the server goes on accepting.
func TestAcceptFailuresAreWarnedOncePerMinute(t *testing.T) {
	advance := fakeLogClock(t)
	var logs logLines
	s := NewServer(t, warnLogger(&logs))
	ln := failingListener{errs: make(chan func() error, 4)}
	s.wg.Add(1) // as listen does for the loop
	done := make(chan struct{})
	emfile := func() error {
		return &net.OpError{Op: "accept", Net: "unix", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	ln.errs <- emfile
	ln.errs <- emfile
	ln.errs <- emfile
	ln.errs <- func() error { advance(time.Minute); return emfile() } // in the loop: after the third is handled
	close(ln.errs)
	go func() { s.acceptLoop(ln, make(chan struct{})); close(done) }()
	<-done
	got := logs.with("cannot accept connections")
	if len(got) != 2 || !strings.Contains(got[0], "level=WARN") || !strings.Contains(got[0], "too many open files") ||
		!strings.Contains(got[0], "not_logged_since_last=0") || !strings.Contains(got[1], "not_logged_since_last=2") {
		t.Errorf("4 failed accepts, the last a minute after the first, logged %q; want 2 warn lines, the second counting 2", got)
	}
	eq(t, "PING after failed accepts on another listener", dial(t, s).do(generated.OpPing), status(wire.CodeOK))
}
