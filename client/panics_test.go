package client

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
)

// panicRing is a Ring over shards a, b, c (c's part of a fanned-out command runs on the
// caller's goroutine, a's and b's on workers) with 30 keys, whose hook panics with "boom" in
// the COUNT or batch part of the shard named by panicOn, once armed. The other parts wait
// until the panic has happened, then count themselves finished.
type panicRing struct {
	r        *Ring
	addrs    map[string]string
	armed    atomic.Bool
	panicOn  string
	fired    chan struct{}
	finished atomic.Int32
}

func newPanicRing(t *testing.T, panicOn string) *panicRing {
	p := &panicRing{addrs: map[string]string{}, panicOn: panicOn, fired: make(chan struct{})}
	for _, n := range []string{"a", "b", "c"} {
		p.addrs[n] = gibsontest.NewServer(t).Addr()
	}
	part := func(addr string, next func() error) error {
		if !p.armed.Load() {
			return next()
		}
		if addr == p.addrs[p.panicOn] {
			close(p.fired)
			panic("boom")
		}
		<-p.fired // still running when the panic happens
		err := next()
		p.finished.Add(1)
		return err
	}
	h := HookFuncs{
		Process: func(next ProcessFunc) ProcessFunc {
			return func(ctx context.Context, cmd *Cmd) error {
				if cmd.Verb != "COUNT" {
					return next(ctx, cmd)
				}
				return part(cmd.Addr, func() error { return next(ctx, cmd) })
			}
		},
		ProcessBatch: func(next ProcessBatchFunc) ProcessBatchFunc {
			return func(ctx context.Context, bc *BatchCmds) error {
				return part(bc.Addr, func() error { return next(ctx, bc) })
			}
		},
	}
	r, err := NewRing(context.Background(), RingConfig{Shards: p.addrs, HeartbeatInterval: time.Hour}, WithHooks(h))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	for i := range 30 {
		if err := r.Set(context.Background(), fmt.Sprint("k", i), []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
	}
	p.r = r
	return p
}

// recovered runs f, which must panic, and returns what it panicked with.
func recovered(t *testing.T, f func()) (v any) {
	t.Helper()
	defer func() { v = recover() }()
	f()
	t.Fatal("no panic reached the caller")
	return nil
}

// checkPanicked asserts that the caller got the hook's panic only once the two other parts
// had finished, and that the Ring still counts right, from many goroutines.
func (p *panicRing) checkPanicked(t *testing.T, v any) {
	t.Helper()
	if v != "boom" {
		t.Fatalf("the caller recovered %v; want the hook's own value, boom", v)
	}
	if n := p.finished.Load(); n != 2 {
		t.Fatalf("the panic reached the caller with %d of the 2 other parts finished; want both (nothing of the call may be reused before)", n)
	}
	p.armed.Store(false)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if n, err := p.r.Count(context.Background(), "k"); err != nil || n != 30 {
					t.Errorf("COUNT after the panic = %d, %v; want 30", n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// A hook panicking in the part of a fanned-out command that runs on the caller's goroutine
// used to pool the command's state while the workers still used it.
func TestRingHookPanicOnCallerPart(t *testing.T) {
	p := newPanicRing(t, "c")
	p.armed.Store(true)
	p.checkPanicked(t, recovered(t, func() { p.r.Count(context.Background(), "k") }))
}

// A hook panicking on a fan worker used to kill the process.
func TestRingHookPanicOnWorker(t *testing.T) {
	p := newPanicRing(t, "a")
	p.armed.Store(true)
	p.checkPanicked(t, recovered(t, func() { p.r.Count(context.Background(), "k") }))
}

// A batch hook panicking in one shard's part of a Ring batch (every part runs on a worker).
func TestRingBatchHookPanic(t *testing.T) {
	p := newPanicRing(t, "b")
	b := p.r.Batch()
	for i := range 30 {
		b.Get(fmt.Sprint("k", i))
	}
	p.armed.Store(true)
	p.checkPanicked(t, recovered(t, func() { b.Exec(context.Background()) }))
}

// A DialHook panicking while a Ring dials its shards (each on a goroutine of its own) reaches
// the caller of NewRing, and leaves nothing running.
func TestNewRingDialHookPanic(t *testing.T) {
	a, b := gibsontest.NewServer(t), gibsontest.NewServer(t)
	before := runtime.NumGoroutine()
	h := HookFuncs{Dial: func(next DialFunc) DialFunc {
		return func(ctx context.Context, network, address string) (net.Conn, error) {
			if strings.HasSuffix(b.Addr(), address) { // the address Dial parsed out of b.Addr()
				panic("dial boom")
			}
			return next(ctx, network, address)
		}
	}}
	v := recovered(t, func() {
		NewRing(context.Background(), RingConfig{Shards: map[string]string{"a": a.Addr(), "b": b.Addr()}}, WithHooks(h))
	})
	if v != "dial boom" {
		t.Fatalf("NewRing's caller recovered %v; want dial boom", v)
	}
	waitGoroutines(t, before)
}

// A DialHook panicking during a redial, which runs detached from every caller, used to kill
// the process. It is the redial's error now, logged; the next redial after the backoff works.
func TestRedialDialHookPanic(t *testing.T) {
	s := gibsontest.NewServer(t)
	var armed atomic.Bool
	h := HookFuncs{Dial: func(next DialFunc) DialFunc {
		return func(ctx context.Context, network, address string) (net.Conn, error) {
			if armed.Load() {
				panic("redial boom")
			}
			return next(ctx, network, address)
		}
	}}
	var logs syncBuffer
	c := dialClient(t, s.Addr(), WithHooks(h), WithPoolSize(1), WithRedialBackoff(time.Millisecond, time.Millisecond),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	s.CloseClientConnections()
	err := c.Ping(ctx)
	if err == nil || !strings.Contains(err.Error(), "DialHook panicked: redial boom") {
		t.Fatalf("PING whose redial's DialHook panicked: %v; want an error saying so", err)
	}
	if !strings.Contains(logs.String(), "DialHook panicked: redial boom") {
		t.Errorf("the redial's panic was not logged: %q", logs.String())
	}
	armed.Store(false)
	waitFor(t, "a redial after the backoff", func() bool { return c.Ping(ctx) == nil })
}

// A DialHook panicking in a Pool's dial, on the caller's goroutine, reaches the caller and
// gives back the place it had taken: the pool (MaxSize 1) can still dial.
func TestPoolDialHookPanic(t *testing.T) {
	s := gibsontest.NewServer(t)
	var armed atomic.Bool
	h := HookFuncs{Dial: func(next DialFunc) DialFunc {
		return func(ctx context.Context, network, address string) (net.Conn, error) {
			if armed.Load() {
				panic("pool boom")
			}
			return next(ctx, network, address)
		}
	}}
	p, err := NewPool(context.Background(), s.Addr(), PoolConfig{MinSize: 0, MaxSize: 1}, WithHooks(h))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	armed.Store(true)
	if v := recovered(t, func() { p.Acquire(context.Background()) }); v != "pool boom" {
		t.Fatalf("Acquire's caller recovered %v; want pool boom", v)
	}
	armed.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cn, err := p.Acquire(ctx)
	if err != nil {
		t.Fatalf("Acquire after a DialHook panic: %v; want a connection (the place was given back)", err)
	}
	p.Release(cn)
}

// syncBuffer is a bytes.Buffer safe for a logger writing from other goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
