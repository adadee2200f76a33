package client

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
)

func newTestPool(t *testing.T, address string, cfg PoolConfig, opts ...Option) *Pool {
	t.Helper()
	p, err := NewPool(context.Background(), address, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func checkSizes(t *testing.T, p *Pool, size, free int) {
	t.Helper()
	if p.Size() != size || p.FreeSize() != free {
		t.Fatalf("Size, FreeSize = %d, %d; want %d, %d", p.Size(), p.FreeSize(), size, free)
	}
}

func TestPoolAcquireRelease(t *testing.T) {
	s := gibsontest.NewServer(t)
	p := newTestPool(t, s.Addr(), PoolConfig{MinSize: 2, MaxSize: 3})
	ctx := context.Background()
	if p.MinSize() != 2 || p.MaxSize() != 3 {
		t.Fatalf("MinSize, MaxSize = %d, %d", p.MinSize(), p.MaxSize())
	}
	checkSizes(t, p, 2, 2)
	var conns []*Conn
	for range 3 {
		cn, err := p.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := cn.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, cn)
	}
	checkSizes(t, p, 3, 0)
	if conns[0] == conns[1] || conns[1] == conns[2] || conns[0] == conns[2] {
		t.Fatal("Acquire handed out one connection twice")
	}

	// Exhausted: Acquire waits until the context ends, then says why.
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	_, err := p.Acquire(tctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("Acquire on an exhausted pool = %v; want DeadlineExceeded explaining the pool is in use", err)
	}

	// A waiting Acquire gets the next released connection.
	got := make(chan *Conn, 1)
	go func() {
		cn, err := p.Acquire(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- cn
	}()
	waitFor(t, "the waiter", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.waiters) == 1
	})
	p.Release(conns[0])
	if cn := <-got; cn != conns[0] {
		t.Fatal("the waiter did not get the released connection")
	}
	checkSizes(t, p, 3, 0)
	p.Release(conns[0])
	p.Release(conns[1])
	p.Release(conns[1]) // a second Release is ignored
	checkSizes(t, p, 3, 2)
	p.Release(conns[2])
	checkSizes(t, p, 3, 3)
	if s.Connections() != 3 {
		t.Fatalf("server accepted %d connections, want 3", s.Connections())
	}
}

func TestPoolDiscardsBrokenConnections(t *testing.T) {
	s := gibsontest.NewServer(t)
	p := newTestPool(t, s.Addr(), PoolConfig{MinSize: 2, MaxSize: 2})
	ctx := context.Background()
	cn, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cn.Close()
	p.Release(cn)
	checkSizes(t, p, 1, 1)

	// Free connections broken by the server are skipped, never handed out.
	// Both connections accepted and the closed one noticed: only the idle one is left to drop.
	waitFor(t, "the server to accept", func() bool { return s.Connections() == 2 && s.ActiveConnections() == 1 })
	s.CloseClientConnections()
	p.mu.Lock()
	idle := p.free[0]
	p.mu.Unlock()
	if idle.Closed() {
		t.Fatal("an idle connection noticed the close with nobody reading; want it found by Acquire")
	}
	for range 2 {
		cn, err := p.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cn == idle || cn.Closed() {
			t.Fatal("Acquire handed out a broken connection")
		}
		if err := cn.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		defer p.Release(cn)
	}
	checkSizes(t, p, 2, 0)
	if s.Connections() != 4 {
		t.Fatalf("server accepted %d connections, want 4 (two replacements)", s.Connections())
	}
}

func TestPoolWaiterGetsPlaceOfBrokenConnection(t *testing.T) {
	s := gibsontest.NewServer(t)
	p := newTestPool(t, s.Addr(), PoolConfig{MinSize: 1, MaxSize: 1})
	ctx := context.Background()
	cn, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		c2, err := p.Acquire(ctx)
		if err == nil {
			err = c2.Ping(ctx)
			p.Release(c2)
		}
		got <- err
	}()
	waitFor(t, "the waiter", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.waiters) == 1
	})
	if err := cn.End(ctx); err != nil {
		t.Fatal(err)
	}
	p.Release(cn) // closed by END: discarded, and the waiter dials a replacement
	if err := <-got; err != nil {
		t.Fatalf("waiter = %v", err)
	}
	checkSizes(t, p, 1, 1)
}

func TestPoolClearAndClose(t *testing.T) {
	s := gibsontest.NewServer(t)
	p := newTestPool(t, s.Addr(), PoolConfig{MinSize: 3, MaxSize: 4})
	ctx := context.Background()
	inUse, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.Clear()
	checkSizes(t, p, 1, 0)
	if inUse.Closed() {
		t.Fatal("Clear closed a connection in use")
	}
	waiting := make(chan error, 1)
	p2 := newTestPool(t, s.Addr(), PoolConfig{MinSize: 1, MaxSize: 1})
	held, _ := p2.Acquire(ctx)
	go func() {
		_, err := p2.Acquire(ctx)
		waiting <- err
	}()
	waitFor(t, "the waiter", func() bool {
		p2.mu.Lock()
		defer p2.mu.Unlock()
		return len(p2.waiters) == 1
	})
	p2.Close()
	if err := <-waiting; !errors.Is(err, ErrClosed) {
		t.Fatalf("Acquire waiting during Close = %v; want ErrClosed", err)
	}
	if !held.Closed() {
		t.Fatal("Close left a connection in use open")
	}
	p2.Release(held)
	if _, err := p2.Acquire(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Acquire after Close = %v; want ErrClosed", err)
	}
	if err := p2.Ping(ctx); !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "PING") {
		t.Fatalf("Ping on a closed pool = %v; want ErrClosed naming PING", err)
	}
	p.Release(inUse)
	checkSizes(t, p, 1, 1)
}

func TestPoolConfig(t *testing.T) {
	s := gibsontest.NewServer(t)
	ctx := context.Background()
	p := newTestPool(t, s.Addr(), PoolConfig{})
	if p.MinSize() != DefaultPoolMinSize || p.MaxSize() != DefaultPoolMaxSize || p.Size() != DefaultPoolMinSize {
		t.Fatalf("zero PoolConfig: min %d max %d size %d", p.MinSize(), p.MaxSize(), p.Size())
	}
	lazy := newTestPool(t, s.Addr(), PoolConfig{MaxSize: 2})
	if lazy.Size() != 0 || lazy.MaxSize() != 2 {
		t.Fatalf("PoolConfig{MaxSize: 2}: size %d max %d", lazy.Size(), lazy.MaxSize())
	}
	if err := lazy.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	checkSizes(t, lazy, 1, 1)
	for _, cfg := range []PoolConfig{{MinSize: 3, MaxSize: 2}, {MinSize: -1, MaxSize: 2}, {MaxSize: -1}} {
		if _, err := NewPool(ctx, s.Addr(), cfg); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("NewPool(%+v) = %v; want ErrInvalidArgument", cfg, err)
		}
	}
	if _, err := NewPool(ctx, "unix:///nonexistent/x.sock", PoolConfig{MinSize: 1, MaxSize: 1}); err == nil {
		t.Fatal("NewPool to a missing server succeeded")
	}
}
