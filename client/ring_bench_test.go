package client

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
)

// The Ring's targets compare benchmarks of this file run together: RingGet1 against
// ClientGetBaseline (a key-routed GET through a Ring of one shard costs at most 1.05x), and
// COUNT over four in-process shards, asked concurrently, against one COUNT on one shard
// holding every key (at most 1.5x). The COUNT pairs come in two settings:
//
//   - RingCount4Remote against CountOneShardRemote: each server delays its replies by 1 ms,
//     as a shard on another host would seem to; the latency shows whether the shards are
//     asked concurrently (Count4OneByOneRemote asks them one after the other). The target
//     is judged here.
//   - RingCount4 (and …Large) against CountOneShard: the shards' only cost is their work,
//     done on the CPUs the client uses too. With fewer cores than client and servers (2 on
//     the machine of BENCHMARKS.md) the CPU bounds both; Count4OneByOne shows that bound.
//     GIBSON_BENCH_RING runs these against servers of your own (see countFixture).

func benchGetOver(b *testing.B, get func(ctx context.Context, key string) ([]byte, error)) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := get(ctx, "bench:key"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClientGetBaseline(b *testing.B) {
	s := gibsontest.NewServer(b)
	c, err := Dial(context.Background(), s.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.Set(context.Background(), "bench:key", []byte("value"), 0)
	benchGetOver(b, c.Get)
}

func BenchmarkRingGet1(b *testing.B) {
	s := gibsontest.NewServer(b)
	r, err := NewRing(context.Background(), RingConfig{Shards: map[string]string{"a": s.Addr()}})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	r.Set(context.Background(), "bench:key", []byte("value"), 0)
	benchGetOver(b, r.Get)
}

// benchCount times COUNT over shards servers holding keys keys between them, each server
// delaying its replies by away.
func benchCount(b *testing.B, shards, keys int, away time.Duration) {
	r, prefix := countFixture(b, shards, keys, away)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if n, err := r.Count(ctx, prefix); err != nil || n != int64(keys) {
			b.Fatal(n, err)
		}
	}
}

// benchCountOneByOne is benchCount with the shards asked one after the other, each through
// its Client in the Ring: what the Ring's concurrent fan-out is to beat.
func benchCountOneByOne(b *testing.B, shards, keys int, away time.Duration) {
	r, prefix := countFixture(b, shards, keys, away)
	ctx := context.Background()
	var cs []*Client
	for _, sh := range r.state.Load().members {
		cs = append(cs, sh.c)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var n int64
		for _, c := range cs {
			m, err := c.Count(ctx, prefix)
			if err != nil {
				b.Fatal(err)
			}
			n += m
		}
		if n != int64(keys) {
			b.Fatal(n)
		}
	}
}

// countFixture is a Ring over shards servers holding keys keys under the prefix it returns,
// each server delaying its replies by away; the servers and the Ring close when the
// benchmark ends. The servers are embedded ones, or, when GIBSON_BENCH_RING lists server
// addresses (comma-separated, as many as the largest Ring here: 4), the first shards of those
// (their keys under the prefix are deleted afterwards; a delay cannot be set there).
func countFixture(b *testing.B, shards, keys int, away time.Duration) (*Ring, string) {
	ctx := context.Background()
	prefix := fmt.Sprintf("gogibson:bench:count%d:", keys)
	m := map[string]string{}
	var servers []*gibsontest.Server
	if list := os.Getenv("GIBSON_BENCH_RING"); list != "" {
		addrs := strings.Split(list, ",")
		if len(addrs) < shards {
			b.Fatalf("GIBSON_BENCH_RING lists %d servers; this benchmark needs %d", len(addrs), shards)
		}
		if away > 0 {
			b.Skip("a reply delay needs embedded servers; GIBSON_BENCH_RING is set")
		}
		for i := range shards {
			m[fmt.Sprint("s", i)] = addrs[i]
		}
	} else {
		for i := range shards {
			s := gibsontest.NewServer(b)
			servers = append(servers, s)
			m[fmt.Sprint("s", i)] = s.Addr()
		}
	}
	r, err := NewRing(ctx, RingConfig{Shards: m})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if servers == nil {
			r.MDelete(ctx, prefix)
		}
		r.Close()
	})
	bt := r.Batch()
	for i := range keys {
		bt.Set(fmt.Sprint(prefix, i), []byte("v"), 0)
	}
	if err := bt.Exec(ctx); err != nil {
		b.Fatal(err)
	}
	for _, s := range servers {
		s.SetReplyDelay(away)
	}
	return r, prefix
}

// BenchmarkCountOneShard is one COUNT on one shard holding all 400 keys.
func BenchmarkCountOneShard(b *testing.B) { benchCount(b, 1, 400, 0) }

// BenchmarkCountOneShardLarge is one COUNT on one shard holding 20 000 keys: the walk, not
// the round trip, dominates.
func BenchmarkCountOneShardLarge(b *testing.B) { benchCount(b, 1, 20000, 0) }

// BenchmarkCountOneShardRemote is CountOneShard with the shard a millisecond away.
func BenchmarkCountOneShardRemote(b *testing.B) { benchCount(b, 1, 400, time.Millisecond) }

// BenchmarkRingCount4 is COUNT over four shards holding 100 keys each: four round trips
// where CountOneShard makes one, on the same CPUs, so it measures the fan-out's overhead.
func BenchmarkRingCount4(b *testing.B) { benchCount(b, 4, 400, 0) }

// BenchmarkRingCount4Large is COUNT over four shards holding 5 000 keys each.
func BenchmarkRingCount4Large(b *testing.B) { benchCount(b, 4, 20000, 0) }

// BenchmarkRingCount4Remote is RingCount4 with every shard a millisecond away.
func BenchmarkRingCount4Remote(b *testing.B) { benchCount(b, 4, 400, time.Millisecond) }

// BenchmarkCount4OneByOne is RingCount4's four COUNTs asked one after the other.
func BenchmarkCount4OneByOne(b *testing.B) { benchCountOneByOne(b, 4, 400, 0) }

// BenchmarkCount4OneByOneLarge is RingCount4Large's four COUNTs asked one after the other.
func BenchmarkCount4OneByOneLarge(b *testing.B) { benchCountOneByOne(b, 4, 20000, 0) }

// BenchmarkCount4OneByOneRemote is RingCount4Remote's four COUNTs asked one after the other.
func BenchmarkCount4OneByOneRemote(b *testing.B) { benchCountOneByOne(b, 4, 400, time.Millisecond) }

// BenchmarkRingShardFor is choosing a key's shard among four.
func BenchmarkRingShardFor(b *testing.B) {
	m := map[string]string{}
	for i := range 4 {
		m[fmt.Sprint("s", i)] = gibsontest.NewServer(b).Addr()
	}
	r, err := NewRing(context.Background(), RingConfig{Shards: m})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.ReportAllocs()
	for i := range b.N {
		_ = r.ShardFor(keys4[i&3])
	}
}

var keys4 = [4]string{"user:1", "user:2", "user:{42}:x", "session:abcdef"}
