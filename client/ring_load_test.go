package client

import (
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

// Ring tests under load and at Close: shards die, return and change while callers run, and
// nothing hangs or leaks.

// TestRingKillRestartUnderLoad: callers hammer the Ring while a shard dies and returns;
// every call ends promptly with a result or a clear error.
func TestRingKillRestartUnderLoad(t *testing.T) {
	ctx := context.Background()
	f := newRingFixture(t, 3, RingConfig{HeartbeatInterval: 20 * time.Millisecond, HeartbeatFailures: 2},
		WithRedialBackoff(time.Millisecond, 10*time.Millisecond), WithDialTimeout(200*time.Millisecond))
	r := f.r
	stop := make(chan struct{})
	var calls, failures atomic.Int64
	var slowest atomic.Int64
	var bad sync.Map
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				start := time.Now()
				k := fmt.Sprintf("load:%d:%d", g, i%50)
				var err error
				switch i % 3 {
				case 0:
					err = r.Set(cctx, k, []byte("v"), 0)
				case 1:
					_, err = r.Get(cctx, k)
					if errors.Is(err, ErrNotFound) {
						err = nil
					}
				case 2:
					_, err = r.Count(cctx, "load:")
				}
				cancel()
				d := int64(time.Since(start))
				for old := slowest.Load(); d > old && !slowest.CompareAndSwap(old, d); old = slowest.Load() {
				}
				calls.Add(1)
				if err != nil {
					failures.Add(1)
					var we *wire.Error
					var se *ShardError
					if !errors.As(err, &we) && !errors.As(err, &se) || !strings.HasPrefix(err.Error(), "gibson: ") {
						bad.Store(err.Error(), true)
					}
				}
			}
		}()
	}
	// Each phase lasts until the Ring has seen it and a hundred more calls were made in it.
	more := func(what string) {
		t.Helper()
		n := calls.Load() + 100
		waitFor(t, "100 calls "+what, func() bool { return calls.Load() >= n })
	}
	more("before the kill")
	f.kill("b")
	waitFor(t, "b to be marked down", func() bool { return shardInfo(r, "b").Down })
	more("while b is down")
	f.revive(t, "b")
	waitFor(t, "b to be back", func() bool { return !shardInfo(r, "b").Down })
	more("after b returned")
	close(stop)
	wg.Wait()
	bad.Range(func(k, _ any) bool { t.Errorf("unclear error: %s", k); return true })
	if s := time.Duration(slowest.Load()); s > 2500*time.Millisecond {
		t.Errorf("a call took %v", s)
	}
	if calls.Load() == 0 || failures.Load() == calls.Load() {
		t.Fatalf("%d calls, %d failed", calls.Load(), failures.Load())
	}
	waitFor(t, "every shard back", func() bool { return r.Ping(ctx) == nil && !r.Shards()[1].Down })
}

// TestRingSetShardsUnderLoad: shards come and go while callers run; nothing hangs and the
// hash follows the new set.
func TestRingSetShardsUnderLoad(t *testing.T) {
	ctx := context.Background()
	f := newRingFixture(t, 3, RingConfig{})
	r := f.r
	extra := gibsontest.NewServer(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var calls atomic.Int64
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				k := fmt.Sprintf("s:%d:%d", g, i%40)
				r.Set(cctx, k, []byte("v"), 0)
				r.Count(cctx, "s:")
				cancel()
				calls.Add(1)
			}
		}()
	}
	all := map[string]string{"a": f.servers["a"].Addr(), "b": f.servers["b"].Addr(), "c": f.servers["c"].Addr(), "d": extra.Addr()}
	for round := range 4 {
		n := calls.Load() + 20
		waitFor(t, "20 calls on the current set", func() bool { return calls.Load() >= n })
		m := map[string]string{}
		for name, addr := range all {
			if name != string(rune('a'+round)) {
				m[name] = addr
			}
		}
		if err := r.SetShards(m); err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			if r.ShardFor(fmt.Sprint(i)) == string(rune('a'+round)) {
				t.Fatalf("round %d: a key still goes to the removed shard", round)
			}
		}
	}
	close(stop)
	wg.Wait()
	if calls.Load() == 0 {
		t.Fatal("no call completed")
	}
	if err := r.SetShards(map[string]string{"x": "127.0.0.1:1"}); err == nil || !strings.Contains(err.Error(), "shard x") {
		t.Fatalf("SetShards to an unreachable shard: %v", err)
	}
	if got := len(r.Shards()); got != 3 {
		t.Fatalf("a failed SetShards changed the set: %d shards", got)
	}
	if err := r.SetShards(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("SetShards(nil): %v", err)
	}
}

// TestRingNoGoroutineLeft: after Close, the heartbeat and every shard's goroutines are gone,
// and calls fail with ErrClosed.
func TestRingNoGoroutineLeft(t *testing.T) {
	ctx := context.Background()
	shards := map[string]string{}
	var servers []*gibsontest.Server
	for i := range 3 {
		s := gibsontest.NewServer(t)
		servers = append(servers, s)
		shards[fmt.Sprint("s", i)] = s.Addr()
	}
	before := runtime.NumGoroutine()
	r, err := NewRing(ctx, RingConfig{Shards: shards, HeartbeatInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		r.Set(ctx, fmt.Sprint(i), []byte("v"), 0)
		r.Count(ctx, "z")
	}
	b := r.Batch()
	b.Get("1")
	b.Count("")
	b.Exec(ctx)
	var seen []int64
	for _, s := range servers {
		seen = append(seen, s.Requests())
	}
	waitFor(t, "a heartbeat after the calls", func() bool { // so that its goroutines have run too
		for i, s := range servers {
			if s.Requests() <= seen[i] {
				return false
			}
		}
		return true
	})
	r.Close()
	if _, err := r.Get(ctx, "1"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: %v", err)
	}
	if err := r.SetShards(shards); !errors.Is(err, ErrClosed) {
		t.Errorf("SetShards after Close: %v", err)
	}
	waitGoroutines(t, before)
}

// TestRingFanOutConcurrent: a fanned-out command asks every shard before any has answered.
// Each shard stalls the request it gets, so asking one after the other would leave the
// later shards waiting for ever; here all four hold a request at once.
func TestRingFanOutConcurrent(t *testing.T) {
	shards := map[string]string{}
	var hs []*gibsontest.Hostile
	for i := range 4 {
		h := gibsontest.NewHostile(t)
		hs = append(hs, h)
		shards[fmt.Sprint("s", i)] = h.Addr()
	}
	r, err := NewRing(context.Background(), RingConfig{Shards: shards, HeartbeatInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, h := range hs {
		h.StallAt(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := r.Count(ctx, "user:")
		done <- err
	}()
	waitFor(t, "every shard to hold the COUNT", func() bool {
		for _, h := range hs {
			if h.StalledConnections() != 1 {
				return false
			}
		}
		return true
	})
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("COUNT with every shard stalled, cancelled: %v, want an error matching context.Canceled", err)
	}
}
