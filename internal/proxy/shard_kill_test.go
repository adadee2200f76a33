package proxy_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/internal/proxy"
)

// A shard killed under load: Go clients through the proxy, each on keys of one shard, keep
// going; those on the live shards see no error at all, those on the dead one get errors
// at once (never a hang), and once the heartbeat has taken the shard out its keys move.
func TestProxyShardKilledUnderLoad(t *testing.T) {
	m := map[string]string{}
	shards := map[string]*gibsontest.Server{}
	for _, n := range []string{"a", "b", "c"} {
		shards[n] = gibsontest.NewServer(t, gibsontest.WithTCP())
		m[n] = shards[n].Addr()
	}
	r, err := client.NewRing(context.Background(), client.RingConfig{Shards: m, Segment: ":", HeartbeatInterval: 20 * time.Millisecond, HeartbeatFailures: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, f := startProxy(t, proxy.Config{Batch: func() proxy.Batcher { return r.Batch() }, Exec: r, RequestTimeout: 2 * time.Second})
	segOf := map[string]string{} // shard → a segment it holds
	for i := 0; len(segOf) < 3; i++ {
		seg := fmt.Sprint("s", i, ":")
		if sh := r.ShardFor(seg + "x"); segOf[sh] == "" {
			segOf[sh] = seg
		}
	}
	var (
		wg      sync.WaitGroup
		stop    = make(chan struct{})
		ops     atomic.Int64
		liveErr atomic.Value
		deadErr atomic.Int64
		slowest atomic.Int64
	)
	for g := range 12 {
		shard := []string{"a", "b", "c"}[g%3]
		c, err := client.Dial(context.Background(), "unix://"+f, client.WithPoolSize(1), client.WithReplyTimeout(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprint(segOf[shard], g, ":", i%50)
				start := time.Now()
				err := c.Set(context.Background(), key, []byte("v"), 0)
				if d := time.Since(start); int64(d) > slowest.Load() {
					slowest.Store(int64(d))
				}
				ops.Add(1)
				switch {
				case err == nil:
				case shard == "b":
					deadErr.Add(1)
				default:
					liveErr.Store(fmt.Errorf("shard %s, %s: %w", shard, key, err))
				}
			}
		}()
	}
	waitFor(func() bool { return ops.Load() > 500 })
	shards["b"].Close()
	waitFor(func() bool { return r.ShardFor(segOf["b"]+"x") != "b" }) // out of the hash: b's keys moved
	moved := ops.Load()
	waitFor(func() bool { return ops.Load() > moved+500 })
	close(stop)
	wg.Wait()
	if err, _ := liveErr.Load().(error); err != nil {
		t.Errorf("a client of a live shard got an error: %v", err)
	}
	if deadErr.Load() == 0 {
		t.Log("no request of the dead shard failed (every one fell before the kill or after the move)")
	}
	if d := time.Duration(slowest.Load()); d > 2*time.Second+time.Second {
		t.Errorf("a SET took %v; the proxy bounds a request by its RequestTimeout (2 s)", d)
	}
}
