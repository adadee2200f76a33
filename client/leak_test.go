package client

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
)

// TestNoGoroutineLeak uses a Client, a Conn and a Pool through normal calls, cancellations,
// a broken connection and a redial, closes them, and checks that the goroutine count
// returns to where it was.
func TestNoGoroutineLeak(t *testing.T) {
	s, err := gibsontest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	before := runtime.NumGoroutine()

	c, err := Dial(ctx, s.Addr(), WithPoolSize(3), WithRedialBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	cn, err := DialConn(ctx, s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPool(ctx, s.Addr(), PoolConfig{MinSize: 2, MaxSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprint("k", g)
			c.Set(ctx, key, []byte("v"), 0)
			cn.Get(ctx, key)
			p.Get(ctx, key)
			tctx, cancel := context.WithTimeout(ctx, time.Microsecond)
			c.Get(tctx, key)
			cn.Get(tctx, key)
			cancel()
		}()
	}
	wg.Wait()
	s.GarbleNextReply()
	c.Ping(ctx) // breaks one connection
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	held, _ := p.Acquire(ctx)
	c.Close()
	cn.Close()
	p.Close()
	p.Release(held)

	waitGoroutines(t, before)
}
