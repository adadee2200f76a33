package client

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	rendezvous "github.com/dgryski/go-rendezvous"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// Ring defaults.
const (
	// DefaultHeartbeatInterval is how often a Ring PINGs every shard.
	DefaultHeartbeatInterval = 500 * time.Millisecond
	// DefaultHeartbeatFailures is how many failed PINGs in a row take a shard out of the hash.
	DefaultHeartbeatFailures = 3
)

// ErrPartial: a command a Ring sent to several shards was answered by some of them only.
// The result holds what they answered; the error (a *ShardError) names each shard that
// failed and why.
var ErrPartial = wire.ErrPartial

// RingConfig configures NewRing.
type RingConfig struct {
	// Shards maps each shard's name to its server address (any form Dial accepts). Keys are
	// hashed over the names, so a shard that changes address under the same name keeps its
	// keys. At least one is needed.
	Shards map[string]string
	// HeartbeatInterval is how often every shard is PINGed, each PING bounded by the same
	// interval (default DefaultHeartbeatInterval).
	HeartbeatInterval time.Duration
	// HeartbeatFailures is how many failed PINGs in a row take a shard out of the hash (default
	// DefaultHeartbeatFailures); one successful PING brings it back.
	HeartbeatFailures int
	// FailFast keeps a shard that failed its heartbeats in the hash: its keys fail at once with
	// an ErrClosed error naming the shard instead of moving to other shards, and fanned-out
	// commands report it in an ErrPartial error. Pick it when a key must never change server
	// while a caller relies on its state there (a LOCK held across calls, a counter).
	FailFast bool
}

// Ring runs the typed Gibson commands over several servers (shards), each reached through its
// own Client built with the Ring's options. Keys are placed by rendezvous hashing (highest
// random weight over xxhash) of the shard names: a key holding {tag} is placed by tag alone,
// so related keys can share a shard. Commands on a key go to its shard; prefix commands,
// STATS and PING go to every shard in the hash, concurrently, and their replies merge as
// commands.yaml says (counts add up, MGET and KEYS concatenate in shard-name order with MGET's
// limit capping the whole, STATS merge entry by entry, PING succeeds when every shard
// answers). A prefix holding a whole {tag} goes to that tag's shard alone. END is refused
// with ErrInvalidArgument: it would close one connection of one shard.
//
// A heartbeat PINGs every shard; after RingConfig.HeartbeatFailures failures in a row a shard
// leaves the hash and its keys go to the others (they come back, possibly stale, when it
// returns), unless RingConfig.FailFast. A fanned-out command some shards could not answer
// returns what the others answered with an error matching ErrPartial. A Ring is safe for
// concurrent use.
type Ring struct {
	cmds generated.Commands // the typed methods (commands_gen.go) run through Exec

	cfg   RingConfig
	opts  []Option
	o     *options
	state atomic.Pointer[ringState]

	mu        sync.Mutex // orders SetShards, heartbeat verdicts and Close
	closed    atomic.Bool
	stop      chan struct{}
	hbDone    chan struct{}
	closeOnce sync.Once
	workers   *fanWorkers // run the shards' parts of fanned-out commands and batches
}

// ringShard is one shard: its Client and its heartbeat record.
type ringShard struct {
	name, addr string
	c          *Client
	down       atomic.Bool // failed HeartbeatFailures PINGs in a row
	fails      int         // PINGs failed in a row; under Ring.mu
	lastErr    error       // the last PING's error; under Ring.mu
	outage     outage      // the log's rate limit while down; under Ring.mu
}

// ringState is an immutable snapshot: every shard, and the hash over those keys may go to.
type ringState struct {
	shards  []*ringShard // every configured shard, by name
	byName  map[string]*ringShard
	members []*ringShard // the shards in the hash, by name: the targets of fanned-out commands
	hash    *rendezvous.Rendezvous
}

func newRingState(shards []*ringShard, failFast bool) *ringState {
	sort.Slice(shards, func(i, j int) bool { return shards[i].name < shards[j].name })
	st := &ringState{shards: shards, byName: make(map[string]*ringShard, len(shards))}
	var names []string
	for _, sh := range shards {
		st.byName[sh.name] = sh
		if failFast || !sh.down.Load() {
			st.members = append(st.members, sh)
			names = append(names, sh.name)
		}
	}
	// A new table on every change: the package's Remove indexes past its slices.
	st.hash = rendezvous.New(names, xxhash.Sum64String)
	return st
}

// NewRing dials every shard of cfg concurrently (each a Client built with opts; the context
// bounds the dials) and starts the heartbeat. A shard that cannot be reached starts down, as
// if it had failed its heartbeats: out of the hash (with FailFast, in it, its keys failing at
// once), shown by Shards, logged, and brought in by the first heartbeat it answers. NewRing
// fails, closing what it dialled, when cfg has no shard, a shard has an empty name or an
// address Dial would refuse, or no shard can be reached; the error names each shard and why.
func NewRing(ctx context.Context, cfg RingConfig, opts ...Option) (*Ring, error) {
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.HeartbeatFailures <= 0 {
		cfg.HeartbeatFailures = DefaultHeartbeatFailures
	}
	r := &Ring{cfg: cfg, opts: opts, o: buildOptions(opts), stop: make(chan struct{}), hbDone: make(chan struct{}),
		workers: newFanWorkers()}
	r.cmds = generated.Commands{Executor: r, Limits: r.o.limits}
	shards, err := r.dialShards(ctx, cfg.Shards, nil, true)
	if err != nil {
		return nil, err
	}
	r.cfg.Shards = nil
	for _, sh := range shards {
		if sh.down.Load() {
			sh.outage.fail(r.o.now())
			r.o.noteShard(sh.name, sh.addr, shardDown, sh.lastErr, cfg.FailFast, 0)
		}
	}
	r.state.Store(newRingState(shards, cfg.FailFast))
	go r.heartbeat()
	return r, nil
}

// dialShards returns the shards of m, reusing those of cur with the same name and address
// and dialling the others concurrently. With degraded, a shard that cannot be reached is
// returned down (unless none can); otherwise any failure fails it all. On error it closes
// what it dialled.
func (r *Ring) dialShards(ctx context.Context, m map[string]string, cur *ringState, degraded bool) ([]*ringShard, error) {
	if len(m) == 0 {
		return nil, wire.Errorf(wire.ErrInvalidArgument, "", "ring: no shards: give at least one name and address")
	}
	var out, dialled []*ringShard
	var eps []endpoint
	for _, name := range sortedNames(m) {
		addr := m[name]
		if name == "" {
			return nil, wire.Errorf(wire.ErrInvalidArgument, "", "ring: a shard has an empty name (address %q); name every shard", addr)
		}
		if cur != nil {
			if old := cur.byName[name]; old != nil && old.addr == addr {
				out = append(out, old)
				continue
			}
		}
		ep, err := parseEndpoint(addr)
		if err != nil {
			return nil, fmt.Errorf("gibson: ring: shard %s: %w", name, err)
		}
		sh := &ringShard{name: name, addr: addr}
		dialled, eps = append(dialled, sh), append(eps, ep)
		out = append(out, sh)
	}
	var wg sync.WaitGroup
	var panicked caught // a DialHook's, raised on the caller once every dial has ended
	for i, sh := range dialled {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer panicked.catch()
			sh.c, sh.lastErr = connectClient(ctx, eps[i], buildOptions(r.opts), degraded)
		}()
	}
	wg.Wait()
	if panicked.set {
		for _, sh := range dialled {
			if sh.c != nil {
				sh.c.Close()
			}
		}
		panicked.raise()
	}
	var failed []ShardFailure
	for _, sh := range dialled {
		if sh.lastErr != nil {
			failed = append(failed, ShardFailure{Shard: sh.name, Err: sh.lastErr})
			sh.down.Store(true)
			sh.fails = r.cfg.HeartbeatFailures
		}
	}
	if failed == nil || (degraded && len(failed) < len(out)) {
		return out, nil
	}
	for _, sh := range dialled {
		if sh.c != nil {
			sh.c.Close()
		}
	}
	if len(failed) == 1 {
		return nil, fmt.Errorf("gibson: ring: shard %s (%s): %w", failed[0].Shard, m[failed[0].Shard], failed[0].Err)
	}
	return nil, fmt.Errorf("gibson: ring: %w", &ShardError{Command: "dial", Failed: failed, Answered: len(out) - len(failed)})
}

func sortedNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// SetShards replaces the shard set at run time: shards whose name and address are unchanged
// keep their connections and health, new ones are dialled (bounded by the dial timeout), and
// removed ones are closed once the new set is in use (Client.Close: calls in progress get
// WithCloseTimeout to finish). Only the keys rendezvous hashing must move change shard: those
// of removed shards, and about 1/N of the others, all to the new shards. On error nothing
// changes.
func (r *Ring) SetShards(shards map[string]string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return &wire.Error{Kind: wire.ErrClosed, Msg: "ring is closed"}
	}
	cur := r.state.Load()
	next, err := r.dialShards(context.Background(), shards, cur, false)
	if err != nil {
		return err
	}
	r.state.Store(newRingState(next, r.cfg.FailFast))
	for _, sh := range cur.shards {
		if !slices.Contains(next, sh) {
			sh.c.Close()
		}
	}
	return nil
}

// ShardFor returns the name of the shard key lives on now (the shard of its {tag}, when it
// has one), or "" when no shard is in the hash. It allocates nothing.
func (r *Ring) ShardFor(key string) string {
	return r.state.Load().hash.Lookup(hashKey(key))
}

// ShardInfo describes one shard of a Ring, as Shards reports it.
type ShardInfo struct {
	// Name and Addr are as configured.
	Name, Addr string
	// InHash reports whether keys go to the shard (a down shard stays in the hash with FailFast).
	InHash bool
	// Down reports whether the shard failed its last HeartbeatFailures PINGs.
	Down bool
	// Failures is how many PINGs in a row it has failed, and LastErr the last failure's error.
	Failures int
	LastErr  error
}

// Shards returns every configured shard in name order with its health.
func (r *Ring) Shards() []ShardInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.state.Load()
	out := make([]ShardInfo, 0, len(st.shards))
	for _, sh := range st.shards {
		out = append(out, ShardInfo{Name: sh.name, Addr: sh.addr, InHash: slices.Contains(st.members, sh),
			Down: sh.down.Load(), Failures: sh.fails, LastErr: sh.lastErr})
	}
	return out
}

// ShardStats returns the Stats of every configured shard, asked concurrently. Shards that
// could not answer are left out of the map and named in an error matching ErrPartial (or, when
// none answered, an error that does not).
func (r *Ring) ShardStats(ctx context.Context) (map[string]Stats, error) {
	st := r.state.Load()
	stats := make([]Stats, len(st.shards))
	errs := make([]error, len(st.shards))
	var wg sync.WaitGroup
	var panicked caught
	for i, sh := range st.shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer panicked.catch() // a hook's, raised below
			stats[i], errs[i] = sh.c.Stats(ctx)
		}()
	}
	wg.Wait()
	panicked.raise()
	out := map[string]Stats{}
	var failed []ShardFailure
	for i, sh := range st.shards {
		if errs[i] != nil {
			failed = append(failed, ShardFailure{Shard: sh.name, Err: errs[i]})
		} else {
			out[sh.name] = stats[i]
		}
	}
	if failed != nil {
		return out, &ShardError{Command: "STATS", Failed: failed, Answered: len(out)}
	}
	return out, nil
}

// Batch returns an empty batch whose commands are split per shard when it runs: each shard's
// commands go as one batch on that shard's Client, all shards concurrently, and fanned-out
// commands are merged as by the typed methods. Every handle gets its own result; when a
// shard's part cannot run, Exec returns a *ShardError (matching ErrPartial when other shards'
// parts ran) and that shard's handles hold its error. The batch hooks (WithHooks) run once per
// shard's part, as on that shard's Client, with its address: not once for the whole batch.
func (r *Ring) Batch() *Batch { return newBatch(r, r.o) }

// ShardFailure is one shard's failure in a ShardError.
type ShardFailure struct {
	Shard string
	Err   error
}

// ShardError reports the shards that could not answer a command sent to several shards. It
// matches ErrPartial with errors.Is when some shard did answer (Answered > 0), and every
// failed shard's error too (errors.Is(err, ErrClosed) when one was down, say).
type ShardError struct {
	Command  string
	Failed   []ShardFailure
	Answered int
}

func (e *ShardError) Error() string {
	var b strings.Builder
	b.WriteString("gibson: ")
	if e.Command != "" {
		b.WriteString(e.Command + ": ")
	}
	if e.Answered > 0 {
		fmt.Fprintf(&b, "partial result: %d of %d shards failed", len(e.Failed), len(e.Failed)+e.Answered)
	} else {
		fmt.Fprintf(&b, "no shard answered (%d failed)", len(e.Failed))
	}
	for i, f := range e.Failed {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "shard %s: %v", f.Shard, f.Err)
	}
	return b.String()
}

// Is matches ErrPartial when some shard answered.
func (e *ShardError) Is(target error) bool { return target == wire.ErrPartial && e.Answered > 0 }

// Unwrap returns every failed shard's error.
func (e *ShardError) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f.Err
	}
	return out
}

// pick returns the shard of a hash key, or an error naming why none can take it.
func (st *ringState) pick(key, verb string) (*ringShard, error) {
	name := st.hash.Lookup(key)
	if name == "" {
		return nil, &wire.Error{Kind: wire.ErrClosed, Command: verb, Msg: "ring: no shard is up"}
	}
	sh := st.byName[name]
	if sh.down.Load() {
		return nil, sh.downError(verb)
	}
	return sh, nil
}

func (sh *ringShard) downError(verb string) error {
	return &wire.Error{Kind: wire.ErrClosed, Command: verb,
		Msg: fmt.Sprintf("shard %s (%s) is down (FailFast: its keys do not move)", sh.name, sh.addr)}
}

// Exec implements generated.Executor: it routes req by its command's route in the spec, and
// for a command sent to several shards merges their replies into one reply held by req (an
// error matching ErrPartial comes with that reply when some shards failed).
func (r *Ring) Exec(ctx context.Context, req *wire.Request) (wire.Reply, error) {
	if r.closed.Load() {
		req.Release()
		return wire.Reply{}, &wire.Error{Kind: wire.ErrClosed, Command: req.Verb, Msg: "ring is closed"}
	}
	ri := routeOf(req.Op)
	if ri == nil || ri.route == wire.RouteNone {
		req.Release()
		return wire.Reply{}, refusal(ri, req.Verb, req.Op)
	}
	st := r.state.Load()
	if ri.keyArg >= 0 {
		arg, _ := frameArg(req.Frame(), ri.keyArg)
		key, single := arg, ri.route == wire.RouteKey
		if !single {
			key, single = prefixTag(arg)
		}
		if single {
			sh, err := st.pick(hashKey(key), req.Verb)
			if err != nil {
				req.Release()
				return wire.Reply{}, err
			}
			return sh.c.cmds.Executor.Exec(ctx, req) // the shard's hooks run
		}
	}
	if len(st.members) == 1 && !st.members[0].down.Load() {
		return st.members[0].c.cmds.Executor.Exec(ctx, req)
	}
	return r.fanOut(ctx, st, ri, req)
}

func refusal(ri *routeInfo, verb string, op wire.Opcode) error {
	if ri == nil {
		return wire.Errorf(wire.ErrInvalidArgument, verb, "opcode %d is not in the spec, so a Ring cannot route it", op)
	}
	return wire.Errorf(wire.ErrInvalidArgument, verb, "refused on a Ring: it acts on one connection of one server; use a Client for it")
}

// fanOut runs req on every shard in the hash concurrently and merges the replies into req.
func (r *Ring) fanOut(ctx context.Context, st *ringState, ri *routeInfo, req *wire.Request) (wire.Reply, error) {
	if len(st.members) == 0 {
		req.Release()
		return wire.Reply{}, &wire.Error{Kind: wire.ErrClosed, Command: req.Verb, Msg: "ring: no shard is up"}
	}
	frame := req.Frame()
	f := getFanCall(ctx, len(st.members))
	parts := f.parts
	for i, sh := range st.members {
		parts[i].shard = sh.name
		if sh.down.Load() {
			parts[i].err = sh.downError(req.Verb)
			continue
		}
		sub := wire.NewRequest(req.Op, req.Verb, req.Flags)
		sub.SetFrame(frame)
		f.tasks[i] = fanTask{f: f, i: i, sh: sh, sub: sub}
		if i == len(st.members)-1 {
			f.tasks[i].exec()
		} else {
			f.wg.Add(1)
			r.workers.run(&f.tasks[i])
		}
	}
	f.wg.Wait() // every part has finished: only now may f be pooled or a hook's panic go on
	if f.panicked.set {
		f.releaseAnswered()
		req.Release()
		p := f.panicked.val
		putFanCall(f)
		panic(p)
	}
	merged, failed := merge(ri, frame, parts)
	f.releaseAnswered()
	putFanCall(f)
	if len(failed) == len(parts) {
		req.Release()
		return wire.Reply{}, &ShardError{Command: req.Verb, Failed: failed}
	}
	req.SetReply(merged)
	if failed != nil {
		return req.Reply(), &ShardError{Command: req.Verb, Failed: failed, Answered: len(parts) - len(failed)}
	}
	return req.Reply(), nil
}

// fanCall is one fanned-out command, a part per shard, pooled: with a closure, slice and
// WaitGroup of its own, a COUNT over four shards allocated 14 times.
type fanCall struct {
	ctx      context.Context
	wg       sync.WaitGroup
	parts    []shardReply
	tasks    []fanTask
	panicked caught // a hook's panic in a part, raised on the caller once all have finished
}

// releaseAnswered releases the parts' requests that hold replies (once merged).
func (f *fanCall) releaseAnswered() {
	for i := range f.tasks {
		if sub := f.tasks[i].answered; sub != nil {
			sub.Release()
		}
	}
}

// fanTask is one shard's part of a fanCall.
type fanTask struct {
	f        *fanCall
	i        int
	sh       *ringShard
	sub      *wire.Request
	answered *wire.Request // sub once it has a reply, released after the merge
}

// exec runs the part on the caller's goroutine; run, on a worker. A hook's panic in either
// is caught for fanOut to raise on the caller.
func (t *fanTask) exec() {
	defer t.f.panicked.catch()
	p := &t.f.parts[t.i]
	p.rep, p.err = t.sh.c.cmds.Executor.Exec(t.f.ctx, t.sub)
	if p.err == nil {
		t.answered = t.sub // on error Exec disposed of it
	}
}

func (t *fanTask) run() {
	t.exec()
	t.f.wg.Done()
}

var fanCalls = sync.Pool{New: func() any { return new(fanCall) }}

func getFanCall(ctx context.Context, n int) *fanCall {
	f := fanCalls.Get().(*fanCall)
	f.ctx = ctx
	f.parts = slices.Grow(f.parts[:0], n)[:n]
	f.tasks = slices.Grow(f.tasks[:0], n)[:n]
	return f
}

// putFanCall clears f (no reply, context or request kept alive) and pools it.
func putFanCall(f *fanCall) {
	f.ctx = nil
	f.panicked = caught{}
	clear(f.parts)
	clear(f.tasks)
	fanCalls.Put(f)
}

// heartbeat PINGs every shard each interval until Close.
func (r *Ring) heartbeat() {
	defer close(r.hbDone)
	t := time.NewTicker(r.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.beat()
		}
	}
}

// beat PINGs every shard concurrently, then records the verdicts and rebuilds the hash when
// a shard left or returned.
func (r *Ring) beat() {
	st := r.state.Load()
	errs := make([]error, len(st.shards))
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.HeartbeatInterval)
	var wg sync.WaitGroup
	for i, sh := range st.shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = (&generated.Commands{Executor: sh.c, Limits: sh.c.cmds.Limits}).Ping(ctx) // no hooks: heartbeats are not the caller's commands
		}()
	}
	wg.Wait()
	cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return
	}
	changed := false
	for i, sh := range st.shards {
		sh.lastErr = errs[i]
		if errs[i] == nil {
			sh.fails = 0
			if sh.down.Swap(false) {
				changed = true
				r.o.noteShard(sh.name, sh.addr, shardUp, nil, r.cfg.FailFast, sh.outage.end())
			}
			continue
		}
		sh.fails++
		switch {
		case sh.fails >= r.cfg.HeartbeatFailures && !sh.down.Swap(true):
			changed = true
			sh.outage = outage{}
			sh.outage.fail(r.o.now())
			r.o.noteShard(sh.name, sh.addr, shardDown, errs[i], r.cfg.FailFast, 0)
		case sh.down.Load():
			if log, n := sh.outage.fail(r.o.now()); log {
				r.o.noteShard(sh.name, sh.addr, shardStillDown, errs[i], r.cfg.FailFast, n)
			}
		}
	}
	if cur := r.state.Load(); changed && cur == st {
		r.state.Store(newRingState(slices.Clone(st.shards), r.cfg.FailFast))
	} else if changed {
		// SetShards ran meanwhile: rebuild its set with the new verdicts.
		r.state.Store(newRingState(slices.Clone(cur.shards), r.cfg.FailFast))
	}
}

// Close stops the heartbeat and closes every shard's Client (see Client.Close); calls made
// afterwards fail with ErrClosed. It always returns nil; calling it again does nothing.
func (r *Ring) Close() error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed.Store(true)
		r.mu.Unlock()
		close(r.stop)
		<-r.hbDone
		r.workers.stop()
		var wg sync.WaitGroup
		for _, sh := range r.state.Load().shards {
			wg.Add(1)
			go func() { defer wg.Done(); sh.c.Close() }()
		}
		wg.Wait()
	})
	return nil
}

// Closed reports whether Close has been called.
func (r *Ring) Closed() bool { return r.closed.Load() }

// unsafeString views b as a string without copying; the string must not outlive b.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// Do sends a raw request like Client.Do, routed as Exec routes typed commands; an opcode
// that is not in the spec is refused, since the Ring could not route it.
func (r *Ring) Do(ctx context.Context, op wire.Opcode, args ...[]byte) (wire.Reply, error) {
	return do(ctx, r, op, args)
}

// PoolStats returns each shard's PoolStats (see Client.PoolStats), by shard name.
func (r *Ring) PoolStats() map[string]PoolStats {
	st := r.state.Load()
	out := make(map[string]PoolStats, len(st.shards))
	for _, sh := range st.shards {
		out[sh.name] = sh.c.PoolStats()
	}
	return out
}
