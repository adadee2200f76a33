package client

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

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
			return nil, &wire.Error{Kind: wire.ErrInvalidArgument, Msg: "ring: shard " + name, Err: err}
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
		return nil, &wire.Error{Msg: fmt.Sprintf("ring: shard %s (%s)", failed[0].Shard, m[failed[0].Shard]), Err: failed[0].Err}
	}
	return nil, &wire.Error{Msg: "ring", Err: &ShardError{Command: "dial", Failed: failed, Answered: len(out) - len(failed)}}
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
	r.state.Store(newRingState(next, r.cfg.FailFast, r.cfg.Segment))
	for _, sh := range cur.shards {
		if !slices.Contains(next, sh) {
			sh.c.Close()
		}
	}
	return nil
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
		r.state.Store(newRingState(slices.Clone(st.shards), r.cfg.FailFast, r.cfg.Segment))
	} else if changed {
		// SetShards ran meanwhile: rebuild its set with the new verdicts.
		r.state.Store(newRingState(slices.Clone(cur.shards), r.cfg.FailFast, r.cfg.Segment))
	}
}
