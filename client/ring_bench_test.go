package client

import (
	"context"
	"fmt"
	"testing"

	"github.com/gogibson/gogibson/gibsontest"
)

// The Ring's targets compare benchmarks of this file run together: RingGet1 against
// ClientGetBaseline (a key-routed GET through a Ring of one shard costs at most 1.05x), and
// RingCount4 against CountOneShard (COUNT over four in-process shards, asked concurrently,
// at most 1.5x one COUNT on one shard).

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

func benchCount(b *testing.B, shards int) {
	ctx := context.Background()
	m := map[string]string{}
	for i := range shards {
		m[fmt.Sprint("s", i)] = gibsontest.NewServer(b).Addr()
	}
	r, err := NewRing(ctx, RingConfig{Shards: m})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for i := range 400 {
		r.Set(ctx, fmt.Sprint("bench:", i), []byte("v"), 0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if n, err := r.Count(ctx, "bench:"); err != nil || n != 400 {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkCountOneShard is one COUNT on one shard holding all 400 keys.
func BenchmarkCountOneShard(b *testing.B) { benchCount(b, 1) }

// BenchmarkRingCount4 is COUNT over four shards holding 100 keys each.
func BenchmarkRingCount4(b *testing.B) { benchCount(b, 4) }

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
