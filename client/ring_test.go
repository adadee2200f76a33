package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/gibsontest"
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
