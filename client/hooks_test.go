package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/wire"
)

// recorder is a hook that writes down what it sees.
type recorder struct {
	name string
	mu   sync.Mutex
	log  []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	r.log = append(r.log, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

func (r *recorder) ProcessHook(next ProcessFunc) ProcessFunc {
	return func(ctx context.Context, cmd *Cmd) error {
		r.add("%s before %s %v key=%q has=%v value=%q addr=%s", r.name, cmd.Verb, cmd.Op, cmd.Key(), cmd.HasKey(), cmd.Value(), cmd.Addr)
		err := next(ctx, cmd)
		r.add("%s after %s code=%v err=%v value=%q", r.name, cmd.Verb, cmd.Reply().Code, err != nil, cmd.Value())
		return err
	}
}

func (r *recorder) ProcessBatchHook(next ProcessBatchFunc) ProcessBatchFunc {
	return func(ctx context.Context, b *BatchCmds) error {
		for i := range b.Len() {
			r.add("%s batch %d %s key=%q value=%q", r.name, i, b.Verb(i), b.Key(i), b.Value(i))
		}
		err := next(ctx, b)
		r.add("%s batch done err=%v readonly=%v addr=%s", r.name, err, b.ReadOnly(), b.Addr)
		return err
	}
}

func (r *recorder) DialHook(next DialFunc) DialFunc {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		r.add("%s dial %s", r.name, network)
		return next(ctx, network, address)
	}
}

func TestHooksSeeCommandsInOrder(t *testing.T) {
	s := gibsontest.NewServer(t)
	a, b := &recorder{name: "a"}, &recorder{name: "b"}
	c := dialClient(t, s.Addr(), WithPoolSize(1), WithHooks(a, nil), WithHooks(b))
	ctx := context.Background()
	if got := a.lines(); !slices.Equal(got, []string{"a dial unix"}) {
		t.Fatalf("dial hook: %q", got)
	}
	a.log, b.log = nil, nil
	if err := c.Set(ctx, "user:1", []byte("alice smith"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if _, err := c.MGet(ctx, "user:", 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(ctx, generated.OpCount, []byte("user:")); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	want := []string{
		`a before SET SET key="user:1" has=true value="alice smith" addr=` + addr,
		`a after SET code=VAL err=false value="alice smith"`,
		`a before GET GET key="nope" has=true value="" addr=` + addr,
		`a after GET code=NOT_FOUND err=false value=""`, // a miss is a reply, not an error
		`a before MGET MGET key="user:" has=true value="" addr=` + addr,
		`a after MGET code=KVAL err=false value=""`,
		`a before PING PING key="" has=false value="" addr=` + addr,
		`a after PING code=OK err=false value=""`,
		`a before COUNT COUNT key="user:" has=true value="" addr=` + addr,
		`a after COUNT code=VAL err=false value=""`,
	}
	if got := a.lines(); !slices.Equal(got, want) {
		t.Fatalf("hook a saw:\n%q\nwant:\n%q", got, want)
	}
	if n := len(b.lines()); n != len(want) {
		t.Fatalf("hook b saw %d events, want %d", n, len(want))
	}
}

func TestHooksRunInOrderAndPassTheContext(t *testing.T) {
	s := gibsontest.NewServer(t)
	type key struct{}
	var trace []string
	mk := func(name string) Hook {
		return HookFuncs{Process: func(next ProcessFunc) ProcessFunc {
			return func(ctx context.Context, cmd *Cmd) error {
				seen, _ := ctx.Value(key{}).(string)
				trace = append(trace, name+" in (ctx "+seen+")")
				err := next(context.WithValue(ctx, key{}, seen+name), cmd)
				trace = append(trace, name+" out")
				return err
			}
		}}
	}
	c := dialClient(t, s.Addr(), WithHooks(mk("1"), mk("2"), mk("3")))
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"1 in (ctx )", "2 in (ctx 1)", "3 in (ctx 12)", "3 out", "2 out", "1 out"}
	if !slices.Equal(trace, want) {
		t.Fatalf("order: %q, want %q", trace, want)
	}

	// The context a hook passes on is the one the call runs with.
	cancelling := HookFuncs{Process: func(next ProcessFunc) ProcessFunc {
		return func(ctx context.Context, cmd *Cmd) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return next(ctx, cmd)
		}
	}}
	c2 := dialClient(t, s.Addr(), WithHooks(cancelling))
	if err := c2.Ping(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("a hook's cancelled context: %v", err)
	}
}

func TestHookMayStopOrReplaceButNotHideFailures(t *testing.T) {
	s := gibsontest.NewServer(t)
	ctx := context.Background()
	errBreaker := errors.New("circuit open")
	stop := HookFuncs{Process: func(next ProcessFunc) ProcessFunc {
		return func(ctx context.Context, cmd *Cmd) error { return errBreaker }
	}}
	c := dialClient(t, s.Addr(), WithHooks(stop))
	before := s.Requests()
	if err := c.Set(ctx, "k", []byte("v"), 0); !errors.Is(err, errBreaker) {
		t.Fatalf("a hook's error: %v", err)
	}
	if s.Requests() != before {
		t.Fatal("a hook that did not call next still sent the request")
	}

	silent := HookFuncs{Process: func(next ProcessFunc) ProcessFunc {
		return func(ctx context.Context, cmd *Cmd) error { return nil }
	}}
	c2 := dialClient(t, s.Addr(), WithHooks(silent))
	if err := c2.Ping(ctx); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a hook returning nil without calling next: %v", err)
	}

	twice := HookFuncs{Process: func(next ProcessFunc) ProcessFunc {
		return func(ctx context.Context, cmd *Cmd) error {
			next(ctx, cmd)
			return next(ctx, cmd)
		}
	}}
	c3 := dialClient(t, s.Addr(), WithHooks(twice))
	if err := c3.Ping(ctx); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a hook calling next twice: %v", err)
	}
	if _, err := c3.Get(ctx, "k"); !errors.Is(err, ErrInvalidArgument) { // the client still works
		t.Fatalf("GET after: %v", err)
	}

	// A hook that turns a success into an error gets its error; one that hides a failure
	// does not.
	var keyAfter string
	replace := HookFuncs{Process: func(next ProcessFunc) ProcessFunc {
		return func(ctx context.Context, cmd *Cmd) error {
			if err := next(ctx, cmd); err != nil {
				keyAfter = cmd.Key()
				return nil
			}
			return errBreaker
		}
	}}
	c4 := dialClient(t, s.Addr(), WithHooks(replace), WithPoolSize(1), WithRedialBackoff(50*time.Millisecond, 50*time.Millisecond))
	if err := c4.Ping(ctx); !errors.Is(err, errBreaker) {
		t.Fatalf("hook's replacement error: %v", err)
	}
	s.Close()
	if err := c4.Set(ctx, "key1", []byte("v"), 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("a failure a hook swallowed: %v", err)
	}
	if keyAfter != "key1" {
		t.Fatalf("key after a failure: %q", keyAfter)
	}
}

func TestBatchHooks(t *testing.T) {
	s := gibsontest.NewServer(t)
	r := &recorder{name: "r"}
	c := dialClient(t, s.Addr(), WithHooks(r))
	conn := dialConn(t, s.Addr(), WithHooks(r))
	for _, b := range []*Batch{c.Batch(), conn.Batch()} {
		r.log = nil
		b.Set("k1", []byte("one two"), 0)
		b.Get("k1")
		b.MGet("k", 0)
		b.Ping()
		if err := b.Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := []string{
			`r batch 0 SET key="k1" value="one two"`,
			`r batch 1 GET key="k1" value=""`,
			`r batch 2 MGET key="k" value=""`,
			`r batch 3 PING key="" value=""`,
			`r batch done err=<nil> readonly=false addr=` + s.Addr(),
		}
		if got := r.lines(); !slices.Equal(got, want) {
			t.Fatalf("batch hook saw:\n%q\nwant:\n%q", got, want)
		}
	}
	// A batch hook's error fails every handle.
	stop := HookFuncs{ProcessBatch: func(next ProcessBatchFunc) ProcessBatchFunc {
		return func(ctx context.Context, b *BatchCmds) error { return errors.New("no batches today") }
	}}
	c2 := dialClient(t, s.Addr(), WithHooks(stop))
	b := c2.Batch()
	get := b.Get("k1")
	if err := b.Exec(context.Background()); err == nil || err.Error() != "no batches today" {
		t.Fatalf("batch hook error: %v", err)
	}
	if _, err := get.Result(); err == nil {
		t.Fatal("the handle of a batch a hook stopped has no error")
	}
}

func TestDialHookCanFailDials(t *testing.T) {
	s := gibsontest.NewServer(t)
	refuse := HookFuncs{Dial: func(next DialFunc) DialFunc {
		return func(ctx context.Context, network, address string) (net.Conn, error) {
			return nil, errors.New("dials forbidden")
		}
	}}
	if _, err := Dial(context.Background(), s.Addr(), WithHooks(refuse)); err == nil {
		t.Fatal("Dial succeeded past a refusing dial hook")
	}
}

// A Pool runs hooks once per call, not again on the connection it acquires; a connection
// acquired from it runs them for its own calls.
func TestPoolHooksRunOnce(t *testing.T) {
	s := gibsontest.NewServer(t)
	r := &recorder{name: "r"}
	p, err := NewPool(context.Background(), s.Addr(), PoolConfig{MinSize: 1, MaxSize: 1}, WithHooks(r))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r.log = nil
	if err := p.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	cn, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := cn.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Release(cn)
	if n := len(r.lines()); n != 4 {
		t.Fatalf("two PINGs, want 4 hook events: %q", r.lines())
	}
}

func TestKeyAndValueOfRequests(t *testing.T) {
	for _, tc := range []struct {
		op         wire.Opcode
		args       []string
		key, value string
	}{
		{generated.OpSet, []string{"10", "k", "a b c"}, "k", "a b c"},
		{generated.OpTTL, []string{"k", "5"}, "k", ""},
		{generated.OpMSet, []string{"p:", "v v"}, "p:", "v v"},
		{generated.OpMGet, []string{"p:", "3"}, "p:", ""},
		{generated.OpMeta, []string{"k", "size"}, "k", ""},
		{generated.OpLock, []string{"k", "-1"}, "k", ""},
		{generated.OpStats, nil, "", ""},
	} {
		req := wire.NewRequest(tc.op, "", 0)
		for _, a := range tc.args {
			req.AppendString(a)
		}
		key, _ := keyOf(tc.op, req.Frame(), req.Args())
		if value := valueOf(tc.op, req.Frame(), req.Args()); string(key) != tc.key || string(value) != tc.value {
			t.Errorf("%v %q: key %q value %q", tc.op, tc.args, key, value)
		}
		req.Release()
	}
}

// BenchmarkGetWithHook is BenchmarkGet with one hook that passes everything through: the
// cost of the hook machinery itself.
func BenchmarkGetWithHook(b *testing.B) {
	pass := HookFuncs{Process: func(next ProcessFunc) ProcessFunc {
		return func(ctx context.Context, cmd *Cmd) error { return next(ctx, cmd) }
	}}
	c := dialClient(b, benchAddr(b), WithHooks(pass))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.Get(ctx, benchKey); err != nil {
			b.Fatal(err)
		}
	}
}

// A Ring's commands run the hooks of the shard they go to, with its address; a command
// sent to every shard runs each shard's hooks once.
func TestRingRunsShardHooks(t *testing.T) {
	a, b := gibsontest.NewServer(t), gibsontest.NewServer(t)
	r := &recorder{name: "r"}
	ring, err := NewRing(context.Background(), RingConfig{Shards: map[string]string{"a": a.Addr(), "b": b.Addr()},
		HeartbeatInterval: time.Millisecond, HeartbeatFailures: 1 << 20}, // heartbeats must not show; a PING they time out (1 ms) must not take a shard out
		WithHooks(r), WithPoolSize(2))
	if err != nil {
		t.Fatal(err)
	}
	defer ring.Close()
	waitFor(t, "3 heartbeats on each shard", func() bool { return a.Requests() >= 3 && b.Requests() >= 3 })
	dials := slices.Repeat([]string{"r dial unix"}, 4) // 2 connections per shard
	if got := r.lines(); !slices.Equal(got, dials) {
		t.Fatalf("after NewRing and heartbeats: %q; want the 4 dials only", got)
	}
	ring.Get(context.Background(), "user:1")
	addr := a.Addr()
	if ring.ShardFor("user:1") == "b" {
		addr = b.Addr()
	}
	if got := r.lines()[len(dials):]; len(got) != 2 || got[0] != `r before GET GET key="user:1" has=true value="" addr=`+addr {
		t.Fatalf("ring GET: %q", got)
	}
	ring.Count(context.Background(), "user:")
	if got := r.lines()[len(dials)+2:]; len(got) != 4 {
		t.Fatalf("a COUNT over two shards: %d hook events, want 4: %q", len(got), got)
	}
}

// A Ring batch runs the batch hooks once per shard's part, with that shard's address and
// commands (a fanned-out command counted in each shard's part), never once with no address.
func TestRingBatchRunsShardBatchHooks(t *testing.T) {
	a, b := gibsontest.NewServer(t), gibsontest.NewServer(t)
	var mu sync.Mutex
	seen := map[string]int{}
	h := HookFuncs{ProcessBatch: func(next ProcessBatchFunc) ProcessBatchFunc {
		return func(ctx context.Context, bc *BatchCmds) error {
			mu.Lock()
			seen[bc.Addr] += bc.Len()
			mu.Unlock()
			return next(ctx, bc)
		}
	}}
	ring, err := NewRing(context.Background(), RingConfig{Shards: map[string]string{"a": a.Addr(), "b": b.Addr()},
		HeartbeatInterval: time.Hour}, WithHooks(h))
	if err != nil {
		t.Fatal(err)
	}
	defer ring.Close()
	bt := ring.Batch()
	for i := range 20 {
		bt.Set(fmt.Sprint("k", i), []byte("v"), 0)
	}
	count := bt.Count("k")
	if err := bt.Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, err := count.Result(); err != nil || n != 20 {
		t.Fatalf("COUNT in the batch = %d, %v", n, err)
	}
	if len(seen) != 2 || seen[a.Addr()] == 0 || seen[b.Addr()] == 0 || seen[a.Addr()]+seen[b.Addr()] != 22 {
		t.Fatalf("batch hook runs by address (commands each): %v; want one per shard with its address, 22 commands in all", seen)
	}
}
