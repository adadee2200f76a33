package client

import (
	"context"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// Batch queues typed commands and runs them together: one write of all their frames and
// one read of all their replies, on one connection, with one wake-up of the calling
// goroutine instead of one per command. Every command of the spec has a batch method with
// the typed method's parameters minus the context (b.Get(key), b.Set(key, value, ttl),
// b.MGet(prefix, limit), …), returning a handle whose Result
// (Err for commands that return only an error) gives exactly what the typed method would
// have returned, once Exec has run. Do queues a raw request (an opcode and its arguments, as
// Conn.Do sends it) and returns a ReplyHandle.
//
// A handle's error is its own: a miss, NaN, a locked key fail that handle only. Arguments
// are checked when a command is queued; an invalid one is never sent, its handle holds the
// ErrInvalidArgument error at once, and the other commands run. END is refused at queue
// time, since it would close the connection under the rest of the batch. Replies are
// matched to handles in request order and the server runs the commands in that order.
//
// A Batch is not safe for concurrent use; use one per goroutine (Reset lets it be reused
// with its buffers). Handles are valid until Reset.
type Batch struct {
	cmds generated.BatchCommands // the batch methods (commands_gen.go) queue through it

	x       batchRunner
	opts    *options
	scratch wire.Request // every command is built in it, then its frame copied to frames
	frames  []byte
	ends    []int       // end of each queued frame in frames
	args    []wire.Args // where each queued frame's arguments are
	handles []generated.Handle
	// readOnly: every queued command is read-only, so a batch whose connection broke
	// before any reply byte arrived may be sent again.
	readOnly bool
	ran      bool
	chunks   []*call // the chunks of the run under way
	// kept are the chunks whose replies were delivered: a ValueHandle reads its value where
	// the chunk received it, so they are recycled only by Reset.
	kept []*call
}

// batchRunner runs the frames of b from its from-th on, delivering replies to its handles.
type batchRunner interface {
	runBatch(ctx context.Context, b *Batch) error
}

// newBatch returns an empty batch run by x (behind the batch hooks, if x is to run them).
func newBatch(x batchRunner, o *options) *Batch {
	b := &Batch{x: x, opts: o, readOnly: true}
	generated.InitBatch(&b.cmds, queuer{b}, o.limits)
	return b
}

// Batch returns an empty batch that runs on the Client's least loaded connection.
func (c *Client) Batch() *Batch { return newBatch(c.opts.batchRunner(c), c.opts) }

// Batch returns an empty batch that runs on this connection.
func (c *Conn) Batch() *Batch { return newBatch(c.opts.batchRunner(c), c.opts) }

// queuer is the Batch as the generated batch methods see it (generated.Batcher): kept off
// Batch's own method set, so that users see only the typed methods, Do, Exec and Reset.
type queuer struct{ b *Batch }

func (q queuer) Request(op wire.Opcode, verb string, flags wire.Flags) *wire.Request {
	return q.b.request(op, verb, flags)
}

func (q queuer) Queue(req *wire.Request, h generated.Handle) { q.b.queue(req, h) }

// request returns the scratch request each batch method builds its command in.
func (b *Batch) request(op wire.Opcode, verb string, flags wire.Flags) *wire.Request {
	b.scratch.Reset(op, verb, flags)
	return &b.scratch
}

// queue copies req's frame into the batch, or refuses the command (completing h with the
// error) when the batch has run or the frame is over the server's max_request_size.
func (b *Batch) queue(req *wire.Request, h generated.Handle) {
	frame := req.Frame()
	switch n := len(frame) - 4; {
	case b.ran:
		generated.Deliver(h, wire.Reply{}, wire.Errorf(wire.ErrInvalidArgument, req.Verb,
			"the batch has run; call Reset before queuing more commands"))
		return
	case n > b.opts.maxRequestSize:
		generated.Deliver(h, wire.Reply{}, wire.Errorf(wire.ErrInvalidArgument, req.Verb,
			"request is %d bytes; the server's max_request_size is %d and it would close the connection; send less or match the client's max request size to the server", n, b.opts.maxRequestSize))
		return
	}
	b.frames = append(b.frames, frame...)
	b.ends = append(b.ends, len(b.frames))
	b.args = append(b.args, req.Args())
	b.handles = append(b.handles, h)
	b.readOnly = b.readOnly && req.Flags&wire.FlagReadOnly != 0
}

// Do queues a raw request, op with args joined by spaces, exactly as Conn.Do sends it, and
// returns a handle whose Result is what Conn.Do returns. Opcodes outside Gibson 1.2 and END
// are refused: the handle carries an error matching ErrInvalidArgument at once.
func (b *Batch) Do(op Opcode, args ...[]byte) *ReplyHandle { return b.cmds.Do(op, args...) }

// Opcode is a Gibson opcode, as Do and Batch.Do take it; the Op* constants name them.
type Opcode = wire.Opcode

// Reply is a raw reply, as Do returns it: its code, encoding and payload.
type Reply = wire.Reply

// Len returns the number of commands queued to be sent (refused ones are not counted).
func (b *Batch) Len() int { return len(b.ends) }

// Exec sends the queued commands and reads their replies. It returns an error only when the
// batch as a whole could not run: the context ended, the Client or connection is closed, or
// the connection broke. Every handle not answered by then holds that error too (it matches
// ErrClosed or the context's error with errors.Is). Batches larger than the in-flight cap
// (WithMaxInFlightBytes) are written in chunks while earlier replies are read. On a Client,
// commands none of whose bytes were written go to a new connection, and a batch of read-only
// commands whose connection broke before any reply byte arrived is sent once more; other
// commands are never sent twice. Exec twice without Reset is an error.
func (b *Batch) Exec(ctx context.Context) error {
	if b.ran {
		return wire.Errorf(wire.ErrInvalidArgument, "", "batch: Exec called again; call Reset to reuse the batch")
	}
	b.ran = true
	if len(b.ends) == 0 {
		return nil
	}
	err := b.x.runBatch(ctx, b)
	if err != nil {
		for _, h := range b.handles {
			generated.Deliver(h, wire.Reply{}, err) // ignored by handles already answered
		}
	}
	return err
}

// Reset empties the batch for reuse, keeping its buffers. Handles returned before are no
// longer valid.
func (b *Batch) Reset() {
	generated.ResetBatch(&b.cmds)
	b.frames, b.ends, b.args = b.frames[:0], b.ends[:0], b.args[:0]
	clear(b.handles)
	b.handles = b.handles[:0]
	b.readOnly, b.ran = true, false
	for i, cl := range b.kept {
		putCall(cl)
		b.kept[i] = nil
	}
	b.kept = b.kept[:0]
}

// start returns the offset in frames of the i-th frame.
func (b *Batch) start(i int) int {
	if i == 0 {
		return 0
	}
	return b.ends[i-1]
}

// deliverKept hands the replies a chunk has kept (all of them, once it completed) to the
// handles of its frames, from the from-th on.
func (b *Batch) deliverKept(from int, cl *call) {
	for j := range cl.metas {
		generated.Deliver(b.handles[from+j], cl.reply(j), nil)
	}
}

// runBatch runs b's unanswered frames (those after its delivered prefix) on a Client
// connection, retrying as Exec documents.
func (c *Client) runBatch(ctx context.Context, b *Batch) error {
	if !c.enter() {
		return &wire.Error{Kind: wire.ErrClosed, Command: "batch", Msg: "client is closed"}
	}
	defer c.leave()
	from := 0 // frames before it are answered: a retry sends the rest
	_, err := c.retry(ctx, "batch", b.readOnly, func(cn *Conn) (status, error) {
		done, st, err := cn.runFrom(ctx, b, from)
		from = done
		return st, err
	})
	return err
}

func (c *Conn) runBatch(ctx context.Context, b *Batch) error {
	_, _, err := c.runFrom(ctx, b, 0)
	return err
}

// runFrom sends b's frames from the from-th on, in chunks of at most the in-flight cap (a
// larger frame alone), and delivers their replies. It returns how many frames have been
// answered in all and, on error, what became of the first unanswered one (as roundTrip).
func (c *Conn) runFrom(ctx context.Context, b *Batch, from int) (done int, st status, err error) {
	if err := ctx.Err(); err != nil {
		return from, stFailed, ctxError("batch", err)
	}
	c.callers.Add(1)
	defer c.callers.Add(-1)
	b.chunks = b.chunks[:0]
	sent := from // frames queued on the connection
	var qst status
	var qerr error // why queuing stopped early, if it did
	for sent < len(b.ends) {
		end := sent + 1
		for end < len(b.ends) && b.ends[end]-b.start(sent) <= c.opts.maxInFlight {
			end++
		}
		cl := getChunk(end - sent)
		self, st, err := c.enqueue(ctx, cl, b.frames[b.start(sent):b.ends[end-1]])
		if err != nil {
			putCall(cl)
			qst, qerr = st, err
			break
		}
		b.chunks = append(b.chunks, cl)
		sent = end
		if self {
			if sent < len(b.ends) {
				// More chunks to send, which may wait for budget: the background reader
				// takes the replies meanwhile.
				c.releaseRead()
			} else {
				c.readFor(ctx, cl)
			}
		}
	}
	// Collect the chunks in order; after the first failure the rest are only given up
	// (or recycled, if they completed with the connection's failure).
	done = from
	for _, cl := range b.chunks {
		if err != nil {
			if !c.abandon(cl) {
				<-cl.done
				putCall(cl)
			}
			continue
		}
		if st, err = c.await(ctx, cl); err == nil {
			b.deliverKept(done, cl)
			done += cl.want
			b.kept = append(b.kept, cl)
		} else if st != stAbandoned {
			// The replies that did arrive before the connection broke are answers.
			b.deliverKept(done, cl)
			done += len(cl.metas)
			b.kept = append(b.kept, cl)
		}
	}
	if err == nil && qerr != nil {
		st, err = qst, qerr
	}
	clear(b.chunks)
	return done, st, blameContext(ctx, "batch", st, err)
}

// The handle types of batch commands, one per reply kind; each batch method of Batch returns
// its command's.
type (
	// StoredHandle is the result of a batched Set: Err.
	StoredHandle = generated.StoredHandle
	// StatusHandle is the result of a batched Ping: Err.
	StatusHandle = generated.StatusHandle
	// ValueHandle is the result of a batched Get: Result() ([]byte, error).
	ValueHandle = generated.ValueHandle
	// FoundHandle is the result of a batched Delete, TTL, Lock or Unlock: Result() (bool, error).
	FoundHandle = generated.FoundHandle
	// NumberHandle is the result of a batched Inc, Dec or Meta*: Result() (int64, error).
	NumberHandle = generated.NumberHandle
	// CountHandle is the result of a batched Count or M* command: Result() (int64, error).
	CountHandle = generated.CountHandle
	// KVListHandle is the result of a batched MGet: Result() ([]KV, error).
	KVListHandle = generated.KVListHandle
	// KeyListHandle is the result of a batched Keys: Result() ([]string, error).
	KeyListHandle = generated.KeyListHandle
	// StatsHandle is the result of a batched Stats: Result() (Stats, error).
	StatsHandle = generated.StatsHandle
	// ReplyHandle is the result of a batched raw Do: Result() (wire.Reply, error), as Conn.Do.
	ReplyHandle = generated.ReplyHandle
)
