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
