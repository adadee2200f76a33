package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/wire"
)

// Tests of the seams between the client's parts: each reproduces a defect found where two
// parts meet (the in-flight budget and a breaking connection, hooks and the Ring's pooled
// state, a DialHook and the redial it runs in).

// finishes fails the test, with every goroutine's stack, unless done is closed within limit.
// The limit is generous: it only tells a hang from a slow machine.
func finishes(t *testing.T, what string, limit time.Duration, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(limit):
		buf := make([]byte, 1<<20)
		t.Fatalf("%s: still running after %v:\n%s", what, limit, buf[:runtime.Stack(buf, true)])
	}
}

// within fails the test when f takes longer than limit, and returns f's error.
func within(t *testing.T, what string, limit time.Duration, f func() error) error {
	t.Helper()
	start := time.Now()
	err := f()
	if took := time.Since(start); took > limit {
		t.Errorf("%s took %v; want at most %v", what, took, limit)
	}
	return err
}

// A call granted in-flight budget by complete() just before its connection broke was queued
// on the dead connection and never completed: with context.Background() it waited for ever,
// and Client.Close behind it.
func TestBudgetWaiterNeverQueuedOnDeadConn(t *testing.T) {
	cfg := gibsontest.DefaultConfig()
	cfg.MaxValueSize = 64 << 10
	for _, opts := range [][]gibsontest.Option{{}, {gibsontest.WithTCP()}} {
		s := gibsontest.NewServer(t, append(opts, gibsontest.WithConfig(cfg))...)
		c := dialClient(t, s.Addr(), WithPoolSize(1), WithMaxValueSize(64<<10))
		value := bytes.Repeat([]byte("v"), 40<<10) // one fits the 64 KiB budget at a time
		var stop atomic.Bool
		var calls atomic.Int64
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; !stop.Load(); i++ {
					err := c.Set(context.Background(), "k", value, 0)
					if err != nil && !errors.Is(err, ErrClosed) {
						t.Errorf("goroutine %d: %v", g, err)
						return
					}
					calls.Add(1)
				}
			}()
		}
		for range 400 {
			// Drop the connection only once calls are flowing on the new one.
			before := calls.Load()
			waitFor(t, "calls after a drop", func() bool { return calls.Load() > before+2 })
			s.CloseClientConnections()
		}
		stop.Store(true)
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		finishes(t, "SETs after 400 dropped connections", 20*time.Second, done)
		closed := make(chan struct{})
		go func() { c.Close(); close(closed) }()
		finishes(t, "Client.Close", 5*time.Second, closed)
	}
}

// The same defect through batches: a server answering once too many during 500-GET batches
// (four chunks each) broke connections while chunks waited for budget; the chunks granted
// just before were queued on the dead connection and their Exec waited out its context.
func TestBatchChunksNeverQueuedOnDeadConn(t *testing.T) {
	hostiles(t, func(t *testing.T, h *gibsontest.Hostile) {
		c := dialClient(t, h.Addr(), WithPoolSize(1))
		done := make(chan struct{})
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := c.Batch()
				for range 10 {
					b.Reset()
					for i := range 500 {
						b.Get(fmt.Sprintf("missing:%0100d", i)) // ~120 bytes a frame: 4 chunks
					}
					h.ExtraReplyAfter(0, nil)
					if err := b.Exec(context.Background()); err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrProtocol) {
						t.Error(err)
						return
					}
				}
			}()
		}
		go func() { wg.Wait(); close(done) }()
		finishes(t, "batches against a server answering once too many", 20*time.Second, done)
	})
}

// The reply timeout bounds a call: with WithReplyTimeout(d) a SET to a server that never
// answers fails within 1.25 d, a GET (read-only, so sent once more on a new connection)
// within 2.5 d, and each error says how long it waited. The old silence check, in halves,
// took 1.5 d per attempt and its error said d.
func TestReplyTimeoutBoundsTheCall(t *testing.T) {
	const d = 800 * time.Millisecond
	const slack = 80 * time.Millisecond // timers firing late on a busy machine
	s := newFakeServer(t, func(wire.Opcode, []byte) ([]byte, bool) { return nil, false })
	c := dialClient(t, s.addr, WithPoolSize(1), WithReplyTimeout(d))
	ctx := context.Background()
	err := within(t, "an unanswered SET", d*5/4+slack, func() error { return c.Set(ctx, "k", []byte("v"), 0) })
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "no reply from the server for") || strings.Contains(err.Error(), "in all") {
		t.Errorf("SET = %v; want ErrClosed saying how long it waited", err)
	}
	var se *silenceError
	if !errors.As(err, &se) || se.waited < d || se.waited > d*5/4+slack {
		t.Errorf("SET waited %v by its error; want between %v and 1.25 times it", se, d)
	}
	err = within(t, "an unanswered GET, sent twice", d*5/2+2*slack, func() error { _, err := c.Get(ctx, "k"); return err })
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "in all, over 2 attempts") {
		t.Errorf("GET = %v; want ErrClosed saying it waited twice and how long in all", err)
	}
	if !errors.As(err, &se) || se.waited < 2*d {
		t.Errorf("GET waited %v in all by its error; want at least %v", se, 2*d)
	}
}
