package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/wire"
)

// ringFixture is a Ring over n embedded servers named a, b, c, …
type ringFixture struct {
	r       *Ring
	servers map[string]*gibsontest.Server
	direct  map[string]*Client // one Client per shard, to look behind the Ring
}

func newRingFixture(t *testing.T, n int, cfg RingConfig, opts ...Option) *ringFixture {
	t.Helper()
	f := &ringFixture{servers: map[string]*gibsontest.Server{}, direct: map[string]*Client{}}
	cfg.Shards = map[string]string{}
	for i := range n {
		name := string(rune('a' + i))
		s := gibsontest.NewServer(t, gibsontest.WithTCP()) // TCP, so that a killed shard can return on its port
		f.servers[name] = s
		cfg.Shards[name] = s.Addr()
		c, err := Dial(context.Background(), s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		f.direct[name] = c
	}
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = time.Hour // tests that want a heartbeat say so
	}
	r, err := NewRing(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	f.r = r
	return f
}

// kill stops a shard's server; revive starts a fresh one (empty) on the same address.
func (f *ringFixture) kill(name string) { f.servers[name].Close() }

func (f *ringFixture) revive(t *testing.T, name string) {
	t.Helper()
	f.servers[name] = gibsontest.NewServer(t, gibsontest.WithAddr(f.servers[name].Addr()))
}

func (f *ringFixture) names() []string {
	var out []string
	for n := range f.servers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// TestRingKeyRouting: every key command lands on ShardFor's shard and only there.
func TestRingKeyRouting(t *testing.T) {
	ctx := context.Background()
	f := newRingFixture(t, 3, RingConfig{})
	r := f.r
	used := map[string]int{}
	for i := range 300 {
		key := fmt.Sprint("k:", i)
		if err := r.Set(ctx, key, []byte(fmt.Sprint(i)), 0); err != nil {
			t.Fatal(err)
		}
		home := r.ShardFor(key)
		used[home]++
		for name, s := range f.servers {
			_, ok := s.Get(key)
			if ok != (name == home) {
				t.Fatalf("key %s on shard %s: %v; ShardFor says %s", key, name, ok, home)
			}
		}
	}
	if len(used) != 3 {
		t.Fatalf("300 keys used shards %v, want all 3", used)
	}
	key := "k:7"
	home := f.servers[r.ShardFor(key)]
	if v, err := r.Get(ctx, key); err != nil || string(v) != "7" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if n, err := r.Inc(ctx, key); err != nil || n != 8 {
		t.Fatalf("Inc = %d, %v", n, err)
	}
	if n, err := r.Dec(ctx, key); err != nil || n != 7 {
		t.Fatalf("Dec = %d, %v", n, err)
	}
	if ok, err := r.TTL(ctx, key, time.Hour); err != nil || !ok {
		t.Fatalf("TTL = %v, %v", ok, err)
	}
	if n, err := r.MetaTTL(ctx, key); err != nil || n != 3600 {
		t.Fatalf("MetaTTL = %d, %v", n, err)
	}
	if ok, err := r.Lock(ctx, key, time.Minute); err != nil || !ok {
		t.Fatalf("Lock = %v, %v", ok, err)
	}
	if err := r.Set(ctx, key, []byte("x"), 0); !errors.Is(err, ErrLocked) {
		t.Fatalf("Set of a locked key: %v, want ErrLocked", err)
	}
	if ok, err := r.Unlock(ctx, key); err != nil || !ok {
		t.Fatalf("Unlock = %v, %v", ok, err)
	}
	if ok, err := r.Delete(ctx, key); err != nil || !ok {
		t.Fatalf("Delete = %v, %v", ok, err)
	}
	if _, ok := home.Get(key); ok {
		t.Fatal("Delete did not reach the key's shard")
	}
	if _, err := r.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
}

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
	if hashKey("a{}b") != "a{}b" || hashKey("a{b") != "a{b" {
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

// TestRingMergeEveryCommand runs every command of the spec through a Ring of three shards
// and checks its merged result against the shards' own answers.
func TestRingMergeEveryCommand(t *testing.T) {
	ctx := context.Background()
	f := newRingFixture(t, 3, RingConfig{})
	r := f.r
	covered := map[string]bool{}
	cover := func(verbs ...string) {
		for _, v := range verbs {
			covered[v] = true
		}
	}
	const n = 60
	for i := range n {
		if err := r.Set(ctx, fmt.Sprintf("p:%02d", i), []byte(fmt.Sprint(i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	cover("SET")
	// Concatenation in shard-name order, each shard in its own order.
	var wantKVs []KV
	var wantKeys []string
	for _, name := range f.names() {
		kvs, err := f.direct[name].MGet(ctx, "p:", 0)
		if err != nil {
			t.Fatal(err)
		}
		wantKVs = append(wantKVs, kvs...)
		keys, _ := f.direct[name].Keys(ctx, "p:")
		wantKeys = append(wantKeys, keys...)
	}
	kvs, err := r.MGet(ctx, "p:", 0)
	if err != nil || !slices.EqualFunc(kvs, wantKVs, func(a, b KV) bool { return a.Key == b.Key && string(a.Value) == string(b.Value) }) {
		t.Fatalf("MGet = %v, %v; want %v", kvs, err, wantKVs)
	}
	if kvs, err := r.MGet(ctx, "p:", 7); err != nil || len(kvs) != 7 || kvs[6].Key != wantKVs[6].Key {
		t.Fatalf("MGet limit 7 = %v, %v; want the first 7 of %v", kvs, err, wantKVs)
	}
	if kvs, err := r.MGet(ctx, "none:", 0); err != nil || len(kvs) != 0 {
		t.Fatalf("MGet of nothing = %v, %v", kvs, err)
	}
	keys, err := r.Keys(ctx, "p:")
	if err != nil || !slices.Equal(keys, wantKeys) {
		t.Fatalf("Keys = %v, %v; want %v", keys, err, wantKeys)
	}
	cover("MGET", "KEYS")
	sums := []struct {
		verb string
		run  func() (int64, error)
		want int64
	}{
		{"COUNT", func() (int64, error) { return r.Count(ctx, "p:") }, n},
		{"COUNT", func() (int64, error) { return r.Count(ctx, "none:") }, 0},
		{"MINC", func() (int64, error) { return r.MInc(ctx, "p:") }, n},
		{"MDEC", func() (int64, error) { return r.MDec(ctx, "p:") }, n},
		{"MLOCK", func() (int64, error) { return r.MLock(ctx, "p:1", time.Minute) }, 10},
		{"MUNLOCK", func() (int64, error) { return r.MUnlock(ctx, "p:1") }, 10},
		{"MTTL", func() (int64, error) { return r.MTTL(ctx, "p:", time.Hour) }, n},
		{"MSET", func() (int64, error) { return r.MSet(ctx, "p:2", []byte("z")) }, 10},
		{"MDEL", func() (int64, error) { return r.MDelete(ctx, "p:3") }, 10},
		{"MDEL", func() (int64, error) { return r.MDelete(ctx, "none:") }, 0},
	}
	for _, s := range sums {
		if got, err := s.run(); err != nil || got != s.want {
			t.Errorf("%s = %d, %v; want %d", s.verb, got, err, s.want)
		}
		cover(s.verb)
	}
	if v, err := r.Get(ctx, "p:25"); err != nil || string(v) != "z" {
		t.Errorf("after MSET p:2, p:25 = %q, %v", v, err)
	}
	if n, _ := r.Count(ctx, "p:"); n != 50 {
		t.Errorf("after MDEL p:3, COUNT = %d, want 50", n)
	}
	// STATS: counters add up, every entry follows its rule; ShardStats gives each shard's own.
	per, err := r.ShardStats(ctx)
	if err != nil || len(per) != 3 {
		t.Fatalf("ShardStats = %d shards, %v", len(per), err)
	}
	st, err := r.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var items, maxTime, minStart int64
	minStart = 1 << 62
	for _, s := range per {
		items += s.TotalItems
		maxTime = max(maxTime, s.ServerTime)
		minStart = min(minStart, s.ServerStarted)
	}
	if st.TotalItems != items || st.TotalItems != 50 {
		t.Errorf("Stats.TotalItems = %d, shards hold %d (want 50)", st.TotalItems, items)
	}
	if st.ServerTime < maxTime || st.ServerStarted != minStart {
		t.Errorf("Stats server_time %d (max of shards %d), server_started %d (min %d)", st.ServerTime, maxTime, st.ServerStarted, minStart)
	}
	if st.ServerVersion != per["a"].ServerVersion || st.ServerVersion == "" {
		t.Errorf("Stats.ServerVersion = %q, want the first shard's %q", st.ServerVersion, per["a"].ServerVersion)
	}
	if len(st.All) != len(per["a"].All) {
		t.Errorf("Stats.All has %d entries, a shard %d", len(st.All), len(per["a"].All))
	}
	cover("STATS")
	if err := r.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	cover("PING")
	if err := r.End(ctx); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("End on a Ring: %v, want ErrInvalidArgument", err)
	}
	cover("END")
	for _, k := range []string{"p:40", "p:41"} {
		sh := f.direct[r.ShardFor(k)]
		want, _ := sh.MetaSize(ctx, k)
		if got, err := r.MetaSize(ctx, k); err != nil || got != want {
			t.Errorf("MetaSize(%s) = %d, %v; its shard says %d", k, got, err, want)
		}
	}
	cover("META", "GET", "TTL", "DEL", "INC", "DEC", "LOCK", "UNLOCK") // TestRingKeyRouting
	for _, c := range generated.Table {
		if !covered[c.Verb] {
			t.Errorf("%s is not exercised through a Ring", c.Verb)
		}
		if c.Route == 0 {
			t.Errorf("%s has no route", c.Verb)
		}
	}
}

// TestRingPartialAndHeartbeat: a dead shard gives partial results naming it, then leaves
// the hash after the heartbeat's failures, and returns when it is back.
func TestRingPartialAndHeartbeat(t *testing.T) {
	ctx := context.Background()
	var logs syncLog
	f := newRingFixture(t, 3, RingConfig{HeartbeatInterval: 20 * time.Millisecond, HeartbeatFailures: 2},
		WithRedialBackoff(time.Millisecond, 5*time.Millisecond), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	r := f.r
	for i := range 90 {
		r.Set(ctx, fmt.Sprint("q:", i), []byte("v"), 0)
	}
	stats := r.PoolStats()
	if len(stats) != 3 || stats["a"].Requests == 0 || stats["b"].Requests == 0 || stats["c"].Requests == 0 {
		t.Fatalf("PoolStats = %+v; want the three shards, each with requests sent", stats)
	}
	perShard := map[string]int64{}
	for name, s := range f.servers {
		perShard[name] = int64(len(s.Keys("q:")))
	}
	f.kill("b")
	n, err := r.Count(ctx, "q:")
	if !errors.Is(err, ErrPartial) || !strings.Contains(err.Error(), "shard b") || n != perShard["a"]+perShard["c"] {
		t.Fatalf("Count with b dead = %d, %v; want %d and a partial error naming b", n, err, perShard["a"]+perShard["c"])
	}
	var se *ShardError
	if !errors.As(err, &se) || len(se.Failed) != 1 || se.Failed[0].Shard != "b" || !errors.Is(err, ErrClosed) {
		t.Fatalf("error %v: want a *ShardError for b matching ErrClosed", err)
	}
	if err := r.Ping(ctx); !errors.Is(err, ErrPartial) {
		t.Fatalf("Ping with b dead: %v", err)
	}
	keyOfB := ""
	for i := 0; keyOfB == ""; i++ {
		if k := fmt.Sprint("z", i); r.ShardFor(k) == "b" {
			keyOfB = k
		}
	}
	waitFor(t, "b to leave the hash", func() bool { return r.ShardFor(keyOfB) != "b" })
	if n, err := r.Count(ctx, "q:"); err != nil || n != perShard["a"]+perShard["c"] {
		t.Fatalf("Count once b left = %d, %v", n, err)
	}
	if err := r.Set(ctx, keyOfB, []byte("moved"), 0); err != nil {
		t.Fatalf("a key of b while b is out: %v", err)
	}
	info := r.Shards()
	if len(info) != 3 || !info[1].Down || info[1].InHash || info[1].LastErr == nil {
		t.Fatalf("Shards() = %+v; want b down and out of the hash", info)
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "ring shard left the hash") || !strings.Contains(out, "shard=b") {
		t.Fatalf("log while b is out:\n%s\nwant a warning that shard b left the hash", out)
	}
	f.revive(t, "b")
	waitFor(t, "b to return", func() bool { return r.ShardFor(keyOfB) == "b" })
	if err := r.Ping(ctx); err != nil {
		t.Fatalf("Ping once b is back: %v", err)
	}
	waitFor(t, "the log to say b is back", func() bool { return strings.Contains(logs.String(), "ring shard answers again") })
}

// syncLog is a log destination safe for the heartbeat's and the test's goroutines.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestRingFailFast: a down shard stays in the hash and its keys fail at once, naming it.
func TestRingFailFast(t *testing.T) {
	ctx := context.Background()
	f := newRingFixture(t, 2, RingConfig{HeartbeatInterval: 20 * time.Millisecond, HeartbeatFailures: 1, FailFast: true},
		WithRedialBackoff(time.Millisecond, 5*time.Millisecond))
	r := f.r
	keyOfB := ""
	for i := 0; keyOfB == ""; i++ {
		if k := fmt.Sprint("z", i); r.ShardFor(k) == "b" {
			keyOfB = k
		}
	}
	f.kill("b")
	waitFor(t, "b to be marked down", func() bool { return r.Shards()[1].Down })
	if r.ShardFor(keyOfB) != "b" {
		t.Fatal("FailFast moved a key of the down shard")
	}
	start := time.Now()
	_, err := r.Get(ctx, keyOfB)
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "shard b") || time.Since(start) > time.Second {
		t.Fatalf("Get of a key on the down shard: %v after %v; want an immediate ErrClosed naming b", err, time.Since(start))
	}
	if _, err := r.Count(ctx, "z"); !errors.Is(err, ErrPartial) || !strings.Contains(err.Error(), "shard b") {
		t.Fatalf("Count with b down: %v", err)
	}
}

// TestRingBatch: a batch splits per shard, merges fanned-out commands, and gives every
// handle its own result in order.
func TestRingBatch(t *testing.T) {
	ctx := context.Background()
	f := newRingFixture(t, 3, RingConfig{})
	r := f.r
	b := r.Batch()
	var sets []*StoredHandle
	for i := range 40 {
		sets = append(sets, b.Set(fmt.Sprint("b:", i), []byte(fmt.Sprint(i)), 0))
	}
	count := b.Count("b:")
	get := b.Get("b:17")
	mget := b.MGet("b:", 10)
	tagged := b.Count("{t}:")
	inc := b.Inc("b:3")
	stats := b.Stats()
	ping := b.Ping()
	if err := b.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for i, h := range sets {
		if err := h.Err(); err != nil {
			t.Fatalf("set %d: %v", i, err)
		}
		k := fmt.Sprint("b:", i)
		if v, ok := f.servers[r.ShardFor(k)].Get(k); !ok || string(v) != fmt.Sprint(i) && k != "b:3" {
			t.Fatalf("%s not on its shard %s", k, r.ShardFor(k))
		}
	}
	if n, err := count.Result(); err != nil || n != 40 {
		t.Errorf("batched Count = %d, %v; want 40 (the sets earlier in the batch)", n, err)
	}
	if v, err := get.Result(); err != nil || string(v) != "17" {
		t.Errorf("batched Get = %q, %v", v, err)
	}
	if kvs, err := mget.Result(); err != nil || len(kvs) != 10 {
		t.Errorf("batched MGet limit 10 = %d pairs, %v", len(kvs), err)
	}
	if n, err := tagged.Result(); err != nil || n != 0 {
		t.Errorf("batched tagged Count = %d, %v", n, err)
	}
	if n, err := inc.Result(); err != nil || n != 4 {
		t.Errorf("batched Inc = %d, %v", n, err)
	}
	if st, err := stats.Result(); err != nil || st.TotalItems != 40 {
		t.Errorf("batched Stats = %d items, %v", st.TotalItems, err)
	}
	if err := ping.Err(); err != nil {
		t.Error(err)
	}
	// A dead shard: its handles fail, the others answer, Exec reports the shard.
	f.kill("c")
	b = r.Batch()
	var gets []*ValueHandle
	for i := range 40 {
		gets = append(gets, b.Get(fmt.Sprint("b:", i)))
	}
	count = b.Count("b:")
	err := b.Exec(ctx)
	if !errors.Is(err, ErrPartial) || !strings.Contains(err.Error(), "shard c") {
		t.Fatalf("Exec with c dead: %v", err)
	}
	for i, h := range gets {
		k := fmt.Sprint("b:", i)
		v, err := h.Result()
		if (r.ShardFor(k) == "c") != (err != nil) || err == nil && string(v) != fmt.Sprint(i) && k != "b:3" {
			t.Errorf("get %s (shard %s) = %q, %v", k, r.ShardFor(k), v, err)
		}
	}
	n, err := count.Result()
	if !errors.Is(err, ErrPartial) || n != int64(40-len(f.servers["c"].Keys("b:"))) {
		t.Errorf("batched Count with c dead = %d, %v", n, err)
	}
	b = r.Batch()
	end := b.End()
	if err := end.Err(); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("batched End: %v", err)
	}
}

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
