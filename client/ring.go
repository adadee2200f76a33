package client

import (
	"context"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	rendezvous "github.com/dgryski/go-rendezvous"

	"github.com/gogibson/gogibson/generated"
)

// Ring defaults.
const (
	// DefaultHeartbeatInterval is how often a Ring PINGs every shard.
	DefaultHeartbeatInterval = 500 * time.Millisecond
	// DefaultHeartbeatFailures is how many failed PINGs in a row take a shard out of the hash.
	DefaultHeartbeatFailures = 3
)

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
	// Segment, when set (":" say), places keys by segment: a key holding Segment is hashed by
	// its text up to and including the first Segment ("user:" for "user:1"), or by a {tag}
	// inside that part, and a prefix command whose prefix holds Segment ("MGET user:") goes
	// to that segment's shard alone, which answers it exactly as one server would: in its
	// order, with its limit. Keys without Segment are placed as without it ({tag}, or the
	// whole key). Pick it when prefixes are queried as a unit; its cost is that a segment,
	// however hot or large, lives on one shard. Every process sharing the shards must use
	// the same Segment. Empty (the default): keys are placed by {tag} or whole.
	Segment string
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
	shards   []*ringShard // every configured shard, by name
	byName   map[string]*ringShard
	members  []*ringShard // the shards in the hash, by name: the targets of fanned-out commands
	hash     *rendezvous.Rendezvous
	sep      string // RingConfig.Segment
	failFast bool   // RingConfig.FailFast
}

func newRingState(shards []*ringShard, failFast bool, sep string) *ringState {
	sort.Slice(shards, func(i, j int) bool { return shards[i].name < shards[j].name })
	st := &ringState{shards: shards, byName: make(map[string]*ringShard, len(shards)), sep: sep, failFast: failFast}
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
	r.state.Store(newRingState(shards, cfg.FailFast, cfg.Segment))
	go r.heartbeat()
	return r, nil
}

// ShardFor returns the name of the shard key lives on now (the shard of its {tag}, when it
// has one), or "" when no shard is in the hash. It allocates nothing.
func (r *Ring) ShardFor(key string) string {
	return r.state.Load().hash.Lookup(hashKey(key, r.cfg.Segment))
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

// Do sends a raw request like Client.Do, routed as Exec routes typed commands; an opcode
// that is not in the spec is refused, since the Ring could not route it.
func (r *Ring) Do(ctx context.Context, op Opcode, args ...[]byte) (Reply, error) {
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
