package client

import (
	"context"
	"encoding/binary"
	"sync"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// ringFan is one fanned-out command of a Ring batch: the shards asked and the raw handles
// their replies go to, merged into the command's own handle once every part has run.
type ringFan struct {
	i      int // the command's position in the batch
	ri     *routeInfo
	shards []*ringShard
	parts  []*generated.ReplyHandle
	down   []error // per shard: set when the shard was down (FailFast) and not asked
}

// runBatch implements batchRunner for a Ring: it splits b per shard as route says,
// runs every shard's part as one batch on that shard's Client, all concurrently, then merges
// the fanned-out commands' replies into their handles.
func (r *Ring) runBatch(ctx context.Context, b *Batch) error {
	if r.closed.Load() {
		return &wire.Error{Kind: wire.ErrClosed, Command: "batch", Msg: "ring is closed"}
	}
	st := r.state.Load()
	subs := map[*ringShard]*Batch{}
	add := func(sh *ringShard, frame []byte, args wire.Args, h generated.Handle, ri *routeInfo) {
		sub := subs[sh]
		if sub == nil {
			sub = &Batch{x: sh.c.opts.batchRunner(sh.c), opts: b.opts, readOnly: true} // the shard's batch hooks
			subs[sh] = sub
		}
		sub.frames = append(sub.frames, frame...)
		sub.ends = append(sub.ends, len(sub.frames))
		sub.args = append(sub.args, args)
		sub.handles = append(sub.handles, h)
		sub.readOnly = sub.readOnly && ri.flags&wire.FlagReadOnly != 0
	}
	var fans []*ringFan
	for i := range b.ends {
		frame := b.frames[b.start(i):b.ends[i]]
		h := b.handles[i]
		op := wire.Opcode(binary.LittleEndian.Uint16(frame[4:]))
		verb := ""
		if ri := routeOf(op); ri != nil {
			verb = ri.verb
		}
		ri, sh, err := st.route(op, verb, frame, b.args[i])
		switch {
		case err != nil:
			generated.Deliver(h, wire.Reply{}, err)
			continue
		case sh != nil:
			add(sh, frame, b.args[i], h, ri)
			continue
		}
		fan := &ringFan{i: i, ri: ri, shards: st.members, parts: make([]*generated.ReplyHandle, len(st.members)), down: make([]error, len(st.members))}
		for j, sh := range st.members {
			if st.failFast && sh.down.Load() { // see pick
				fan.down[j] = sh.downError(verb)
				continue
			}
			fan.parts[j] = new(generated.ReplyHandle)
			add(sh, frame, b.args[i], fan.parts[j], ri)
		}
		fans = append(fans, fan)
	}

	var mu sync.Mutex
	var failed []ShardFailure
	var wg sync.WaitGroup
	var panicked caught // a batch hook's, raised on the caller once every part has finished
	// Every shard's part runs on a worker but the last, which runs on the caller's goroutine
	// (a batch for one shard then hands nothing over), as fanOut does.
	left := len(subs)
	for sh, sub := range subs {
		part := func() {
			defer panicked.catch()
			if err := sub.x.runBatch(ctx, sub); err != nil {
				for _, h := range sub.handles {
					generated.Deliver(h, wire.Reply{}, err) // ignored by handles already answered
				}
				mu.Lock()
				failed = append(failed, ShardFailure{Shard: sh.name, Err: err})
				mu.Unlock()
			}
		}
		if left--; left == 0 {
			part()
			continue
		}
		wg.Add(1)
		r.workers.run(funcTask(func() {
			defer wg.Done()
			part()
		}))
	}
	wg.Wait()
	panicked.raise()
	for _, sub := range subs {
		b.kept = append(b.kept, sub.kept...) // the handles read from them: recycled by b's Reset
	}

	for _, fan := range fans {
		parts := make([]shardReply, len(fan.shards))
		for j, sh := range fan.shards {
			parts[j].shard = sh.name
			if fan.down[j] != nil {
				parts[j].err = fan.down[j]
				continue
			}
			rep, err := fan.parts[j].Result()
			if rep.Data == nil {
				parts[j].err = err // the part did not run; with a reply, an error code is the merge's to judge
			} else {
				parts[j].rep = rep
			}
		}
		frame := b.frames[b.start(fan.i):b.ends[fan.i]]
		merged, bad := merge(fan.ri, frame, b.args[fan.i], parts)
		var err error
		switch {
		case len(bad) == len(parts):
			merged, err = wire.Reply{}, &ShardError{Command: fan.ri.verb, Failed: bad}
		case bad != nil:
			err = &ShardError{Command: fan.ri.verb, Failed: bad, Answered: len(parts) - len(bad)}
		}
		generated.Deliver(b.handles[fan.i], merged, err)
	}
	if failed != nil {
		return &ShardError{Command: "batch", Failed: sortFailures(failed), Answered: len(subs) - len(failed)}
	}
	return nil
}

func sortFailures(f []ShardFailure) []ShardFailure {
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && f[j].Shard < f[j-1].Shard; j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
	return f
}
