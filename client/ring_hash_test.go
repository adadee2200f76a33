package client

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
)

// Where a Ring places keys: hash tags, the spread over shards, what SetShards moves.

// TestRingHashTags: keys with one {tag} share its shard, and a prefix holding the whole tag
// goes to that shard alone.
func TestRingHashTags(t *testing.T) {
	ctx := context.Background()
	f := newRingFixture(t, 4, RingConfig{})
	r := f.r
	home := r.ShardFor("42")
	for _, k := range []string{"user:{42}:a", "user:{42}:b", "{42}", "x{42}y{7}", "user:{42}"} {
		if got := r.ShardFor(k); got != home {
			t.Errorf("ShardFor(%q) = %s, want %s (the shard of tag 42)", k, got, home)
		}
	}
	if hashKey("a{}b", "") != "a{}b" || hashKey("a{b", "") != "a{b" {
		t.Error("an empty or unclosed tag must hash the whole key")
	}
	for i := range 20 {
		if err := r.Set(ctx, fmt.Sprintf("user:{42}:%d", i), []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
	}
	before := map[string]int64{}
	for n, s := range f.servers {
		before[n] = s.Requests()
	}
	if n, err := r.Count(ctx, "user:{42}:"); err != nil || n != 20 {
		t.Fatalf("Count = %d, %v", n, err)
	}
	kvs, err := r.MGet(ctx, "user:{42}", 5)
	if err != nil || len(kvs) != 5 {
		t.Fatalf("MGet = %d pairs, %v", len(kvs), err)
	}
	for n, s := range f.servers {
		want := int64(0)
		if n == home {
			want = 2
		}
		if got := s.Requests() - before[n]; got != want {
			t.Errorf("shard %s got %d requests for two tagged prefix commands, want %d", n, got, want)
		}
	}
	// An untagged prefix still reaches every shard.
	if _, err := r.Count(ctx, "user:"); err != nil {
		t.Fatal(err)
	}
	for n, s := range f.servers {
		if s.Requests()-before[n] < 1 {
			t.Errorf("shard %s was not asked an untagged COUNT", n)
		}
	}
}

// TestRingDistribution: 4 shards hold 25 % ± 3 % of 100 000 keys each; a fifth takes
// 20 % ± 2 % of them, every moved key going to it.
func TestRingDistribution(t *testing.T) {
	f := newRingFixture(t, 5, RingConfig{})
	r := f.r
	four := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d"} {
		four[n] = f.servers[n].Addr()
	}
	if err := r.SetShards(four); err != nil {
		t.Fatal(err)
	}
	const keys = 100000
	before := make([]string, keys)
	count := map[string]int{}
	for i := range keys {
		before[i] = r.ShardFor(fmt.Sprintf("user:%d:%x", i, i*7919))
		count[before[i]]++
	}
	for name, n := range count {
		if share := float64(n) / keys; share < 0.22 || share > 0.28 {
			t.Errorf("shard %s holds %.2f %% of the keys, want 25 ± 3", name, 100*share)
		}
	}
	four["e"] = f.servers["e"].Addr()
	if err := r.SetShards(four); err != nil {
		t.Fatal(err)
	}
	moved := 0
	for i := range keys {
		now := r.ShardFor(fmt.Sprintf("user:%d:%x", i, i*7919))
		if now != before[i] {
			moved++
			if now != "e" {
				t.Fatalf("a key moved from %s to %s, not to the new shard", before[i], now)
			}
		}
	}
	if share := float64(moved) / keys; share < 0.18 || share > 0.22 {
		t.Errorf("adding a fifth shard moved %.2f %% of the keys, want 20 ± 2", 100*share)
	}
}

// TestRingShardForAllocs: choosing the shard allocates nothing.
func TestRingShardForAllocs(t *testing.T) {
	f := newRingFixture(t, 4, RingConfig{})
	keys := []string{"user:1", "user:{42}:x"}
	if n := testing.AllocsPerRun(1000, func() {
		for _, k := range keys {
			f.r.ShardFor(k)
		}
	}); n != 0 {
		t.Errorf("ShardFor allocates %.1f times", n)
	}
}

func TestHashKey(t *testing.T) {
	for _, tc := range []struct{ key, sep, want string }{
		{"user:1", "", "user:1"},
		{"user:{42}:name", "", "42"},
		{"a{}b", "", "a{}b"},
		{"a{b", "", "a{b"},
		{"user:1", ":", "user:"},
		{"user:{42}:name", ":", "user:"}, // the tag is past the first segment
		{"{42}:name", ":", "42"},         // a tag inside the first segment
		{"plain", ":", "plain"},
		{"pl{x}ain", ":", "x"}, // no segment: the tag rule
		{"a::b", "::", "a::"},
	} {
		if got := hashKey(tc.key, tc.sep); got != tc.want {
			t.Errorf("hashKey(%q, %q) = %q, want %q", tc.key, tc.sep, got, tc.want)
		}
	}
}

// prefixKey claims one hash key for a prefix only when every key under the prefix has it:
// checked on random keys and prefixes over a small alphabet full of separators and braces.
func TestPrefixKeyHoldsForEveryKeyUnderIt(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		const alphabet = "ab:{}"
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for _, sep := range []string{"", ":", "::"} {
		for range 20000 {
			prefix := word(rng.IntN(6))
			hk, single := prefixKey(prefix, sep)
			if !single {
				continue
			}
			for range 8 {
				if key := prefix + word(rng.IntN(6)); hashKey(key, sep) != hk {
					t.Fatalf("sep %q: prefixKey(%q) = %q, but key %q hashes to %q", sep, prefix, hk, key, hashKey(key, sep))
				}
			}
		}
	}
}

// With Segment, the keys of a segment live on one shard, and a prefix command on the
// segment is that shard's exact answer: MGET in its order and with its limit, KEYS, COUNT.
func TestRingSegment(t *testing.T) {
	ctx := context.Background()
	srvs := map[string]*gibsontest.Server{}
	shards := map[string]string{}
	for _, n := range []string{"a", "b", "c"} {
		srvs[n] = gibsontest.NewServer(t)
		shards[n] = srvs[n].Addr()
	}
	r, err := NewRing(ctx, RingConfig{Shards: shards, Segment: ":", HeartbeatInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, seg := range []string{"user:", "cart:", "item:"} {
		for i := range 30 {
			if err := r.Set(ctx, fmt.Sprint(seg, i), []byte(fmt.Sprint("v", i)), 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, seg := range []string{"user:", "cart:", "item:"} {
		home := srvs[r.ShardFor(seg+"anything")]
		if got := len(home.Keys(seg)); got != 30 {
			t.Fatalf("%s holds %d keys of %s; want all 30 on the segment's shard", r.ShardFor(seg), got, seg)
		}
		direct := dialClient(t, home.Addr())
		want, err := direct.MGet(ctx, seg, 7)
		if err != nil {
			t.Fatal(err)
		}
		before := map[string]int64{}
		for n, s := range srvs {
			before[n] = s.Requests()
		}
		got, err := r.MGet(ctx, seg, 7)
		for n, s := range srvs {
			if asked := s.Requests() - before[n]; asked != 0 && s != home {
				t.Fatalf("MGET %s asked shard %s too; want the segment's shard alone", seg, n)
			}
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) || len(got) != 7 {
			t.Fatalf("ring MGET %s limit 7 = %v, %v; want the shard's own answer %v", seg, got, err, want)
		}
		if n, err := r.Count(ctx, seg+"1"); err != nil || n != 11 {
			t.Fatalf("COUNT %s1 = %d, %v; want 11", seg, n, err)
		}
	}
	keys, err := r.Keys(ctx, "user:")
	if err != nil || len(keys) != 30 || !strings.HasPrefix(keys[0], "user:") {
		t.Fatalf("KEYS user: = %v, %v", keys, err)
	}
	if n, err := r.Count(ctx, "u"); err != nil || n != 30 { // no segment in the prefix: every shard
		t.Fatalf("COUNT u = %d, %v; want 30 from the fan-out", n, err)
	}
}
