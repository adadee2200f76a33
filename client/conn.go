package client

import (
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// Conn is one connection to a Gibson server. It is safe for concurrent use and pipelines
// automatically: concurrent calls are written back to back, coalesced into as few writes as
// possible, and their replies are matched in order. A lone caller writes its own request and
// reads its own reply, with no goroutine hop; concurrent callers are completed by whichever
// goroutine is reading. Every command of the spec is a method of *Conn (Set, Get, MGet,
// MetaSize, …), as of Client and Pool.
//
// A call whose context ends returns with an error matching the context's error as soon as
// the deadline passes, or within a millisecond of a cancellation (at once when another
// goroutine is reading for it); its reply is still read and dropped, so the stream stays in
// step. When the connection fails (EOF, a read or write error, a malformed reply) every
// pending call fails with an error wrapping ErrClosed (ErrProtocol for a malformed reply)
// and naming its command, and the Conn is closed for good: Closed reports true and later
// calls fail with ErrClosed. Nothing reads an idle Conn over a TCP or Unix socket, so a
// server that closes it is noticed at the next call, which then fails with ErrClosed having
// sent nothing (a Client sends it again on a new connection; a Pool checks connections
// before handing them out). A Conn never reconnects; Client and Pool replace broken
// connections.
type Conn struct {
	cmds generated.Commands // the typed methods (commands_gen.go) run through Exec

	nc   net.Conn
	ep   endpoint
	opts *options

	mu       sync.Mutex
	queue    fifo    // calls whose frames are queued or written, awaiting replies
	capWait  []*call // calls waiting for in-flight budget, in arrival order
	pending  []byte  // frames queued while a write was under way
	writing  bool    // someone owns the socket's write side
	reading  bool    // someone owns the read side; always true while calls are queued
	inflight int     // request bytes queued or written and not yet answered
	// Sequence numbers of calls: the last queued, and the last whose frame was written at
	// least in part. A call numbered above sent when the connection breaks was never sent,
	// so any command may be sent again.
	pushed, sent uint64
	ending       bool // END was queued: nothing may follow it
	broken       *brokenCause
	shut         bool // shutdown has run

	frames, bytes uint64 // guarded by mu: frames queued and their bytes, for PoolStats

	// Owned by the holder of the read role.
	rd           wire.Reader
	readDeadline time.Time // as last set on the socket; see boundRead
	replies      []wire.Reply
	completed    []*call
	silence      silence // finds a server that stopped answering; see WithReplyTimeout

	// Owned by the holder of the write side.
	writeDeadline time.Time // as last set on the socket; see write

	// selfRead: callers may read (nobody reads an idle connection); peek reports a close
	// or stray bytes on an idle socket without blocking, before the first call after
	// idling. See plainSocket.
	selfRead bool
	peek     func() error

	callers atomic.Int32 // goroutines in roundTrip: more than one means others will send soon
	// abandoned counts calls whose callers gave up before their replies came: they still
	// hold the connection's queue, so the Client counts them as load.
	abandoned atomic.Int32
	dead      atomic.Bool   // broken or ending; read without the lock by Closed
	kick      chan struct{} // hands the write side to the flusher
	wake      chan struct{} // hands the read role to the background reader
	quit      chan struct{} // closed by shutdown
	wg        sync.WaitGroup
}

// DialConn connects to the Gibson server at address: "unix:///path", "/path" (or
// "./path"), "host:port" or "tcp://host:port". The context bounds the dial only; see
// WithDialTimeout. Options that concern a Client's connection set (WithPoolSize,
// WithRedialBackoff) are ignored.
func DialConn(ctx context.Context, address string, opts ...Option) (*Conn, error) {
	ep, err := parseEndpoint(address)
	if err != nil {
		return nil, err
	}
	return ep.dial(ctx, buildOptions(opts))
}

func newConn(nc net.Conn, ep endpoint, o *options) *Conn {
	c := &Conn{
		nc:   nc,
		ep:   ep,
		opts: o,
		kick: make(chan struct{}, 1),
		wake: make(chan struct{}, 1),
		quit: make(chan struct{}),
	}
	c.rd.MaxReplySize = o.maxReplySize
	c.selfRead, c.peek = plainSocket(nc)
	if !c.selfRead {
		c.reading = true
		c.wake <- struct{}{}
	}
	c.cmds = generated.Commands{Executor: o.executor(c, ep), Limits: o.limits}
	c.wg.Add(2)
	go c.readLoop()
	go c.flusher()
	return c
}

// deadConn is a placeholder for a Client's connection that could not be dialled at start:
// closed, shut down, with no socket and no goroutine; the Client redials it like a broken one.
func deadConn(ep endpoint, o *options, err error) *Conn {
	c := &Conn{ep: ep, opts: o, shut: true, reading: true, quit: make(chan struct{}),
		broken: &brokenCause{kind: wire.ErrClosed, msg: "not connected: the dial at start failed", err: err}}
	close(c.quit)
	c.dead.Store(true)
	return c
}

// Addr returns the server address as given to DialConn, Dial or NewPool.
func (c *Conn) Addr() string { return c.ep.display }

// Closed reports whether the connection is known to be closed, broken, or to have sent END;
// such a Conn fails every new call with ErrClosed. A close by the server of an idle
// connection is known only once the connection is used again (see Conn).
func (c *Conn) Closed() bool { return c.dead.Load() }

// Close closes the connection. Pending calls fail with an error wrapping ErrClosed. Close
// waits for the connection's goroutines to exit and always returns nil; calling it again
// does nothing.
func (c *Conn) Close() error {
	c.fail(&brokenCause{kind: wire.ErrClosed, msg: "connection closed by Close"})
	c.wg.Wait()
	return nil
}

// status tells the Client what became of a failed round trip.
type status uint8

const (
	stOK         status = iota
	stFailed            // caller owns the request; the server may have acted on it
	stUnanswered        // caller owns the request; sent, but no reply byte arrived before the break
	stNotSent           // caller owns the request; nothing was written
	stAbandoned         // the caller gave up; the reader releases the request
)

// Exec runs req and implements generated.Executor: on success the reply's Data stays valid
// until req.Release, which the caller calls; on error the request has been disposed of.
// Frames longer than the server's max_request_size fail with ErrInvalidArgument unsent.
func (c *Conn) Exec(ctx context.Context, req *wire.Request) (Reply, error) {
	rep, st, err := c.roundTrip(ctx, req)
	if err != nil && st != stAbandoned {
		req.Release()
	}
	return rep, err
}

// roundTrip sends req and waits for its reply. It never releases req itself; on error st
// says who owns it and whether the server can have seen it.
func (c *Conn) roundTrip(ctx context.Context, req *wire.Request) (wire.Reply, status, error) {
	frame := req.Frame()
	if n := len(frame) - 4; n > c.opts.maxRequestSize {
		return wire.Reply{}, stFailed, wire.Errorf(wire.ErrInvalidArgument, req.Verb,
			"request is %d bytes; the server's max_request_size is %d and it would close the connection; send less or match the client's max request size to the server", n, c.opts.maxRequestSize)
	}
	if err := ctx.Err(); err != nil {
		return wire.Reply{}, stFailed, ctxError(req.Verb, err)
	}
	c.callers.Add(1)
	defer c.callers.Add(-1)
	verb := req.Verb // once abandoned, the reader may recycle req
	cl := getCall(req)
	self, st, err := c.enqueue(ctx, cl, frame)
	if err != nil {
		putCall(cl)
		return wire.Reply{}, st, err
	}
	var rep wire.Reply
	if self {
		rep, st, err = c.readOwn(ctx, cl)
	} else {
		rep, st, err = c.wait(ctx, cl)
	}
	return rep, st, blameContext(ctx, verb, st, err)
}

// enqueue peeks at an idle socket, waits for in-flight budget, then queues cl and writes its
// frame (see send). It reports whether the caller took the read role; on error cl was not
// queued.
func (c *Conn) enqueue(ctx context.Context, cl *call, frame []byte) (self bool, st status, err error) {
	c.mu.Lock()
	// An idle socket is peeked first: a TCP write into a connection the server closed would
	// succeed and the request be lost, and bytes that arrived while nothing was pending would
	// be read as this call's reply.
	if cause := c.closedWhileIdle(); cause != nil {
		return false, stNotSent, cause.forVerb(cl.verb)
	}
	if st, err := c.admit(ctx, cl, len(frame)); err != nil {
		c.mu.Unlock()
		return false, st, err
	}
	return c.send(ctx, cl, frame), stOK, nil
}

// blameContext reports a failure that came with the end of the caller's context (for
// instance its own large write cut short, which closes the connection) as the context's
// error, which the caller can act on.
func blameContext(ctx context.Context, verb string, st status, err error) error {
	if err != nil && st != stAbandoned && ctx.Err() != nil {
		return ctxError(verb, ctx.Err())
	}
	return err
}

// wait blocks until the request cl completes or ctx ends.
func (c *Conn) wait(ctx context.Context, cl *call) (wire.Reply, status, error) {
	req := cl.req // once abandoned, the reader may recycle both
	st, err := c.await(ctx, cl)
	if st == stAbandoned {
		return wire.Reply{}, st, err
	}
	putCall(cl)
	if st == stOK {
		return req.Reply(), stOK, nil
	}
	return wire.Reply{}, st, err
}

// await blocks until cl completes or ctx ends. Unless it returns stAbandoned, the caller
// owns cl again and recycles it.
func (c *Conn) await(ctx context.Context, cl *call) (status, error) {
	verb := cl.verb // once abandoned, the reader may recycle cl
	if done := ctx.Done(); done == nil {
		<-cl.done // a plain receive costs less than a select
	} else if !cl.tryDone() {
		select {
		case <-cl.done:
		case <-done:
			if c.abandon(cl) {
				return stAbandoned, ctxError(verb, ctx.Err())
			}
			<-cl.done // completed at the same moment: take the result
		}
	}
	switch {
	case cl.err == nil:
		return stOK, nil
	case cl.unsent:
		return stNotSent, cl.err
	case cl.started:
		return stFailed, cl.err
	}
	return stUnanswered, cl.err
}

// abandon gives cl up to the reader unless it has completed; it reports whether it did.
// The call then counts as load until its reply has been read.
func (c *Conn) abandon(cl *call) bool {
	if !cl.state.CompareAndSwap(callWaiting, callAbandoned) {
		return false
	}
	c.abandoned.Add(1)
	return true
}

// Do sends a raw request: op with args joined by spaces, exactly as given (no validation
// beyond max_request_size, so arguments must not contain spaces except in a command's last
// argument). Opcodes outside Gibson 1.2 fail with ErrInvalidArgument, because the server
// would close the connection. The reply's Data is a copy owned by the caller. For an error
// reply code Do returns the reply and the matching error (errors.Is(err, ErrNotFound), …).
func (c *Conn) Do(ctx context.Context, op Opcode, args ...[]byte) (Reply, error) {
	return do(ctx, c.cmds.Executor, op, args)
}

func do(ctx context.Context, x generated.Executor, op wire.Opcode, args [][]byte) (wire.Reply, error) {
	cmd := generated.ByOpcode(op)
	if cmd == nil {
		return wire.Reply{}, wire.Errorf(wire.ErrInvalidArgument, op.String(), "opcode %d is not a Gibson 1.2 command; the server would close the connection", uint16(op))
	}
	req := wire.NewRequest(op, cmd.Verb, cmd.Flags)
	for _, a := range args {
		req.AppendBytes(a)
	}
	rep, err := x.Exec(ctx, req)
	if err != nil {
		return wire.Reply{}, err
	}
	out := wire.Reply{Code: rep.Code, Encoding: rep.Encoding, Data: bytes.Clone(rep.Data)}
	req.Release()
	if wire.CodeError(out.Code) != nil {
		return out, wire.ReplyError(cmd.Verb, out)
	}
	return out, nil
}

// load is the number of calls holding the connection: callers in progress and requests
// abandoned by theirs that still await replies.
func (c *Conn) load() int32 { return c.callers.Load() + c.abandoned.Load() }

// endPending reports that END was sent and the connection has not broken yet: its reply may
// still be on the way.
func (c *Conn) endPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ending && c.broken == nil
}

// finished reports that the connection has shut down: every call on it has completed.
func (c *Conn) finished() bool {
	select {
	case <-c.quit:
		return true
	default:
		return false
	}
}
