package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/wire"
)

// logBuffer is a concurrency-safe buffer for a slog text handler.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestLogger() (*slog.Logger, *logBuffer) {
	var b logBuffer
	return slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), &b
}

func TestPoolStatsCountsRequestsAndBytes(t *testing.T) {
	s := gibsontest.NewServer(t)
	c := dialClient(t, s.Addr(), WithPoolSize(2))
	ctx := context.Background()
	st := c.PoolStats()
	if st.Open != 2 || st.Idle != 2 || st.Active != 0 || st.Dials != 2 || st.DialFailures != 0 || st.Requests != 0 {
		t.Fatalf("fresh client: %+v; want 2 open and idle, 2 dials, nothing sent", st)
	}
	var want int
	for _, k := range []string{"a", "bb", "ccc"} {
		if err := c.Set(ctx, k, []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
		want += len(wire.AppendRequest(nil, generated.OpSet, []byte("0"), []byte(k), []byte("v")))
	}
	b := c.Batch()
	for _, k := range []string{"a", "bb", "ccc", "dddd"} {
		b.Get(k)
		want += len(wire.AppendRequest(nil, generated.OpGet, []byte(k)))
	}
	if err := b.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	st = c.PoolStats()
	if st.Requests != 7 || st.BytesSent != uint64(want) {
		t.Fatalf("after 3 SETs and a batch of 4 GETs: requests %d, bytes %d; want 7 and %d", st.Requests, st.BytesSent, want)
	}
	if st.Broken.Total() != 0 || st.Redials != 0 || st.Waits != 0 {
		t.Fatalf("nothing broke or waited, yet %+v", st)
	}
	c.Close()
	if st := c.PoolStats(); st.Open != 0 || st.Requests != 7 || st.Broken.Total() != 0 {
		t.Fatalf("after Close: %+v; want nothing open, the 7 requests kept, and no broken connection (Close is not a break)", st)
	}
}

func TestPoolStatsActiveCountsCallsInProgress(t *testing.T) {
	release := make(chan struct{})
	s := newFakeServer(t, func(op wire.Opcode, payload []byte) ([]byte, bool) {
		<-release
		return codeReply(wire.CodeOK), false
	})
	c := dialClient(t, s.addr, WithPoolSize(1))
	done := make(chan error)
	go func() { done <- c.Ping(context.Background()) }()
	waitFor(t, "the PING in progress to be counted", func() bool { return c.PoolStats().Active == 1 },
		func() string { return fmt.Sprintf("%+v", c.PoolStats()) })
	if st := c.PoolStats(); st.Idle != 0 || st.Open != 1 {
		t.Fatalf("the connection carrying the PING counts as idle: %+v", st)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := c.PoolStats(); st.Active != 0 || st.Idle != 1 {
		t.Fatalf("after the PING: %+v", st)
	}
}

func TestPoolStatsAndLogsOnServerCloseAndRedial(t *testing.T) {
	s := gibsontest.NewServer(t)
	logger, logs := newTestLogger()
	c := dialClient(t, s.Addr(), WithPoolSize(1), WithLogger(logger), WithRedialBackoff(time.Millisecond, time.Millisecond))
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	s.CloseClientConnections()
	if err := c.Ping(ctx); err != nil { // found closed while idle, sent on a new connection
		t.Fatal(err)
	}
	st := c.PoolStats()
	if st.Broken.ServerClosed != 1 || st.Broken.Total() != 1 || st.Redials != 1 || st.RedialFailures != 0 || st.Dials != 2 {
		t.Fatalf("after the server closed the idle connection: %+v; want 1 server_closed, 1 redial, 2 dials", st)
	}
	if st.Requests != 2 {
		t.Fatalf("requests %d: the PING on the old connection must stay counted after it shut down", st.Requests)
	}
	out := logs.String()
	for _, want := range []string{"level=WARN msg=\"gibson: connection broken\"", "cause=server_closed", "addr=" + s.Addr(), "level=INFO msg=\"gibson: reconnected\""} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "\n") != 2 {
		t.Errorf("want exactly 2 records (nothing per request):\n%s", out)
	}

	s.Close()
	if err := c.Ping(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("server gone: %v", err)
	}
	st = c.PoolStats()
	if st.RedialFailures < 1 || st.DialFailures < 1 {
		t.Fatalf("a failed redial is not counted: %+v", st)
	}
	if out := logs.String(); !strings.Contains(out, "gibson: reconnecting failed") || !strings.Contains(out, "backoff=1ms") {
		t.Errorf("no warning for the failed redial with its backoff:\n%s", out)
	}
}

// A redial's outcome is counted and logged before the calls that waited for it go on, so
// a Close right after them cannot make it look cancelled (ExampleWithLogger once missed its
// "reconnected" line that way).
func TestRedialNotedBeforeWaitersReturn(t *testing.T) {
	s := gibsontest.NewServer(t)
	ctx := context.Background()
	for i := range 100 {
		logger, logs := newTestLogger()
		c, err := Dial(ctx, s.Addr(), WithPoolSize(1), WithLogger(logger))
		if err != nil {
			t.Fatal(err)
		}
		c.Ping(ctx)
		s.CloseClientConnections()
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		c.Close()
		if st := c.PoolStats(); st.Redials != 1 || !strings.Contains(logs.String(), "gibson: reconnected") {
			t.Fatalf("round %d: redials %d, log:\n%s\nwant the redial counted and logged", i, st.Redials, logs.String())
		}
	}
}

// Each cause a connection breaks for is counted under its own name, and logged at its level.
func TestPoolStatsBrokenCauses(t *testing.T) {
	ctx := context.Background()
	t.Run("protocol", func(t *testing.T) {
		s := newFakeServer(t, echo(func(op wire.Opcode, payload []byte) []byte {
			return append(codeReply(wire.CodeOK), codeReply(wire.CodeOK)...) // one reply too many
		}))
		logger, logs := newTestLogger()
		c := dialClient(t, s.addr, WithPoolSize(1), WithLogger(logger))
		c.Ping(ctx)
		waitBroken(t, c, func(b BrokenStats) bool { return b.Protocol == 1 })
		if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "cause=protocol") {
			t.Errorf("a protocol violation is not logged as an error:\n%s", logs)
		}
	})
	t.Run("reply timeout", func(t *testing.T) {
		s := newFakeServer(t, echo(func(op wire.Opcode, payload []byte) []byte { return nil }))
		c := dialClient(t, s.addr, WithPoolSize(1), WithReplyTimeout(20*time.Millisecond))
		if err := c.Set(ctx, "k", []byte("v"), 0); !errors.Is(err, ErrClosed) { // not retried
			t.Fatalf("silent server: %v", err)
		}
		waitBroken(t, c, func(b BrokenStats) bool { return b.ReplyTimeout == 1 && b.Total() == 1 })
	})
	t.Run("END", func(t *testing.T) {
		s := gibsontest.NewServer(t)
		logger, logs := newTestLogger()
		c := dialClient(t, s.Addr(), WithPoolSize(1), WithLogger(logger))
		if err := c.End(ctx); err != nil {
			t.Fatal(err)
		}
		waitBroken(t, c, func(b BrokenStats) bool { return b.Ended == 1 && b.Total() == 1 })
		if !strings.Contains(logs.String(), "level=DEBUG") {
			t.Errorf("END is not logged at debug level:\n%s", logs)
		}
	})
}

func TestClassifyCauses(t *testing.T) {
	for _, tc := range []struct {
		cause *brokenCause
		want  BreakCause
	}{
		{&brokenCause{kind: wire.ErrClosed, msg: closeMsg}, breakClosed},
		{&brokenCause{kind: wire.ErrClosed, msg: endMsg}, BreakEnded},
		{readCause(errors.New("connection reset")), BreakReadError},
		{(&Conn{opts: buildOptions(nil)}).writeCause(context.Background(), errors.New("broken pipe")), BreakWriteError},
		{protocolCause(errors.New("bad")), BreakProtocol},
	} {
		if got := classify(tc.cause); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.cause.msg, got, tc.want)
		}
	}
}

func TestPoolPoolStatsAndWaits(t *testing.T) {
	s := gibsontest.NewServer(t)
	p, err := NewPool(context.Background(), s.Addr(), PoolConfig{MinSize: 1, MaxSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cn, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st := p.PoolStats(); st.Open != 1 || st.Idle != 0 || st.Active != 1 {
		t.Fatalf("one connection acquired: %+v", st)
	}
	got := make(chan *Conn)
	go func() {
		c, _ := p.Acquire(context.Background())
		got <- c
	}()
	waitFor(t, "the second Acquire to wait", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.waiters) == 1
	})
	p.Release(cn)
	cn = <-got
	if err := cn.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Release(cn)
	st := p.PoolStats()
	if st.Waits != 1 || st.WaitTime <= 0 || st.WaitTime > 5*time.Second {
		t.Fatalf("one Acquire waited: waits %d, time %v", st.Waits, st.WaitTime)
	}
	if st.Open != 1 || st.Idle != 1 || st.Active != 0 || st.Requests != 1 || st.Dials != 1 {
		t.Fatalf("after release: %+v", st)
	}
}

// A caller over the in-flight cap waits for budget; the wait is counted.
func TestPoolStatsCountsInFlightWaits(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	s := newFakeServer(t, func(op wire.Opcode, payload []byte) ([]byte, bool) {
		once.Do(func() { <-release })
		return codeReply(wire.CodeOK), false
	})
	c := dialClient(t, s.addr, WithPoolSize(1), WithMaxInFlightBytes(8))
	errs := make(chan error, 2)
	go func() { errs <- c.Ping(context.Background()) }()
	waitFor(t, "the first PING to be sent", func() bool { return c.PoolStats().Requests == 1 })
	go func() { errs <- c.Ping(context.Background()) }()
	waitFor(t, "the second PING to wait for the in-flight cap", func() bool {
		cn := connOf(c, 0)
		cn.mu.Lock()
		defer cn.mu.Unlock()
		return len(cn.capWait) == 1
	})
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if st := c.PoolStats(); st.Waits != 1 || st.WaitTime <= 0 {
		t.Fatalf("the second PING waited for the in-flight cap: %+v", st)
	}
}
