package client

import (
	"context"
	"unsafe"

	"github.com/gogibson/gogibson/internal/spec"
	"github.com/gogibson/gogibson/wire"
)

// The one router of a Ring: single commands (Exec), Ring batches and fanned-out commands all
// ask route where a frame goes.

// route says where a frame of op goes: to one shard (sh), or, when sh and err are nil, to
// every shard in the hash (the members, of which there is at least one). It looks at the
// command's route in the spec and, for a key or a prefix holding a whole {tag}, at that
// argument; err says why no shard can take it (refused on a Ring, shard down, none up).
func (st *ringState) route(op wire.Opcode, verb string, frame []byte, args wire.Args) (ri *routeInfo, sh *ringShard, err error) {
	ri = routeOf(op)
	if ri == nil || ri.route == spec.RouteNone {
		return ri, nil, refusal(ri, verb, op)
	}
	if ri.keyArg >= 0 {
		b, _ := args.Arg(frame, ri.keyArg)
		arg := unsafeString(b) // for the hash only: not kept
		var hk string
		single := ri.route == spec.RouteKey
		if single {
			hk = hashKey(arg, st.sep)
		} else {
			hk, single = prefixKey(arg, st.sep)
		}
		if single {
			sh, err = st.pick(hk, verb)
			return ri, sh, err
		}
	}
	if len(st.members) == 0 {
		return ri, nil, &wire.Error{Kind: wire.ErrClosed, Command: verb, Msg: "ring: no shard is up"}
	}
	return ri, nil, nil
}

// pick returns the shard of a hash key, or an error naming why none can take it.
func (st *ringState) pick(key, verb string) (*ringShard, error) {
	name := st.hash.Lookup(key)
	if name == "" {
		return nil, &wire.Error{Kind: wire.ErrClosed, Command: verb, Msg: "ring: no shard is up"}
	}
	sh := st.byName[name]
	// With FailFast a down shard's keys fail at once. Without it a down shard leaves the
	// hash: one still in this snapshot was marked down a moment ago and the next snapshot
	// is on its way, so its key goes to it as before rather than failing on the spot.
	if st.failFast && sh.down.Load() {
		return nil, sh.downError(verb)
	}
	return sh, nil
}

// Exec implements generated.Executor: it routes req by its command's route in the spec, and
// for a command sent to several shards merges their replies into one reply held by req (an
// error matching ErrPartial comes with that reply when some shards failed).
func (r *Ring) Exec(ctx context.Context, req *wire.Request) (Reply, error) {
	if r.closed.Load() {
		req.Release()
		return wire.Reply{}, &wire.Error{Kind: wire.ErrClosed, Command: req.Verb, Msg: "ring is closed"}
	}
	st := r.state.Load()
	ri, sh, err := st.route(req.Op, req.Verb, req.Frame(), req.Args())
	switch {
	case err != nil:
		req.Release()
		return wire.Reply{}, err
	case sh != nil:
		return sh.c.cmds.Executor.Exec(ctx, req) // the shard's hooks run
	case len(st.members) == 1 && !st.members[0].down.Load():
		return st.members[0].c.cmds.Executor.Exec(ctx, req)
	}
	return r.fanOut(ctx, st, ri, req)
}

// unsafeString views b as a string without copying; the string must not outlive b.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
