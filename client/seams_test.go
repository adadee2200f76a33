package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
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
