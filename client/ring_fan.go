package client

import (
	"context"
	"slices"
	"sync"

	"github.com/gogibson/gogibson/wire"
)

// fanOut runs req on every shard in the hash (at least one: see route) concurrently and
// merges the replies into req.
func (r *Ring) fanOut(ctx context.Context, st *ringState, ri *routeInfo, req *wire.Request) (wire.Reply, error) {
	frame := req.Frame()
	f := getFanCall(ctx, len(st.members))
	parts := f.parts
	for i, sh := range st.members {
		parts[i].shard = sh.name
		if st.failFast && sh.down.Load() { // see pick
			parts[i].err = sh.downError(req.Verb)
			continue
		}
		sub := wire.NewRequest(req.Op, req.Verb, req.Flags)
		sub.CopyFrame(req)
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
	merged, failed := merge(ri, frame, req.Args(), parts)
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
