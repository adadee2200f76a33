package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// Client runs the typed Gibson commands over a small set of pipelined connections shared by
// all its callers (WithPoolSize, default DefaultPoolSize). Each call goes to the connection
// with the fewest calls in progress, the first in order among equals, so a caller alone in
// the Client always uses the same connection. It is safe for concurrent use; the more
// goroutines use one Client, the more requests each write and read carries.
//
// A broken connection is redialled by the next call that picks it; when that dial fails the
// call gets an error wrapping ErrClosed and the dial cause, and further attempts on that
// connection wait WithRedialBackoff's growing delay, during which calls use the remaining
// healthy connections or fail at once. Read-only commands (GET, MGET, COUNT, KEYS, STATS,
// PING, META) are retried once on another connection when theirs broke before any byte of
// their reply arrived; other commands are never retried once sent, since the server may have
// executed them. A call none of whose bytes were written (its connection was found closed
// first, as when the server closed it while idle) goes to a new connection whatever the
// command, up to three times. End closes one of the Client's connections, which is then
// replaced.
type Client struct {
	cmds generated.Commands // the typed methods (commands_gen.go) run through Exec

	ep    endpoint
	opts  *options
	slots []*slot

	active    atomic.Int64 // calls in progress
	closed    atomic.Bool
	drained   chan struct{} // closed when closed and no call is active
	drainOnce sync.Once
	closeOnce sync.Once

	// Redials run detached from their callers (see repair); Close cancels them through
	// dialCtx and waits for them with dials.
	dialCtx     context.Context
	cancelDial  context.CancelFunc
	dials       sync.WaitGroup
	dialMu      sync.Mutex // orders dials.Add before Close's dials.Wait
	dialsClosed bool

	retiredMu sync.Mutex
	retired   []*Conn // replaced connections that may still be finishing an END

	logMu        sync.Mutex
	redialOutage outage // failed redials in a row, for the log's rate limit
}

// slot is one of the Client's connections and the state of its reconnection.
type slot struct {
	conn atomic.Pointer[Conn]
	// retryAt is when the slot may be redialled (Unix nanoseconds; 0: at once), and dialing
	// whether a redial is under way. Written under mu, read by pick without it.
	retryAt atomic.Int64
	dialing atomic.Bool

	mu      sync.Mutex
	redial  *redial // the redial under way, if any
	backoff time.Duration
	lastErr error
}

// redial is one reconnection attempt of a slot; callers that need the slot wait for done.
type redial struct {
	// ctx is the dial's: the Client's dial context with the dial timeout, marked (see
	// inDialHook) so that a DialHook's calls on this Client are known.
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
	conn    *Conn
	err     error
	backoff time.Duration // the wait before the next attempt, when err is set
}

// Dial connects to the Gibson server at address ("unix:///path", "/path", "host:port" or
// "tcp://host:port") and returns a Client with WithPoolSize connections, all dialled before
// it returns; if one fails, Dial closes the others and returns the error. The context bounds
// the dials only.
func Dial(ctx context.Context, address string, opts ...Option) (*Client, error) {
	ep, err := parseEndpoint(address)
	if err != nil {
		return nil, err
	}
	c, err := connectClient(ctx, ep, buildOptions(opts), false)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// connectClient builds a Client of ep and dials its connections. With lenient (a Ring's shard
// that may be down at start), a failed dial does not fail the Client: that slot and the ones
// after it start broken, without dialling (the server did not answer the first), and are
// redialled by the first call that picks them; the dial's error is returned with the Client.
func connectClient(ctx context.Context, ep endpoint, o *options, lenient bool) (*Client, error) {
	c := &Client{ep: ep, opts: o, drained: make(chan struct{})}
	c.dialCtx, c.cancelDial = context.WithCancel(context.Background())
	c.cmds = generated.Commands{Executor: o.executor(c, ep), Limits: o.limits}
	defer func() {
		if v := recover(); v != nil { // a DialHook's: close what was dialled, then go on
			for _, s := range c.slots {
				s.conn.Load().Close()
			}
			c.cancelDial()
			panic(v)
		}
	}()
	var dialErr error
	for range o.poolSize {
		s := &slot{}
		if dialErr != nil {
			s.conn.Store(deadConn(ep, o, dialErr))
			s.lastErr = dialErr
			c.slots = append(c.slots, s)
			continue
		}
		cn, err := ep.dial(ctx, o)
		switch {
		case err == nil:
			s.conn.Store(cn)
		case !lenient:
			for _, s := range c.slots {
				s.conn.Load().Close()
			}
			c.cancelDial()
			return nil, err
		default:
			dialErr = err
			c.redialOutage.fail(o.now()) // the owner logs this one; redials that fail too are counted
			s.conn.Store(deadConn(ep, o, err))
			s.lastErr = err
		}
		c.slots = append(c.slots, s)
	}
	return c, dialErr
}

// Addr returns the server address as given to Dial.
func (c *Client) Addr() string { return c.ep.display }

// Exec runs req on one of the Client's connections and implements generated.Executor: on
// success the reply's Data stays valid until req.Release; on error req has been disposed of.
func (c *Client) Exec(ctx context.Context, req *wire.Request) (Reply, error) {
	if !c.enter() {
		err := &wire.Error{Kind: wire.ErrClosed, Command: req.Verb, Msg: "client is closed"}
		req.Release() // after reading req.Verb: a released request may be reused at once
		return wire.Reply{}, err
	}
	defer c.leave()
	var rep wire.Reply
	st, err := c.retry(ctx, req.Verb, req.Flags&wire.FlagReadOnly != 0, func(cn *Conn) (status, error) {
		var st status
		var err error
		rep, st, err = cn.roundTrip(ctx, req)
		return st, err
	})
	if st != stOK && st != stAbandoned {
		req.Release()
	}
	return rep, err
}

// retry is the one retry loop of a Client, for single commands and batches: it runs attempt
// on the connection pick chooses, repairing it first if broken, and again on another when
// the rules allow: nothing was written (any command; three times at most), or a read-only
// request went unanswered when its connection broke (once). It returns the last attempt's
// status (stFailed when no connection could be had) and error.
func (c *Client) retry(ctx context.Context, verb string, readOnly bool, attempt func(cn *Conn) (status, error)) (status, error) {
	s, cn := c.pick()
	retried := false
	var firstErr error // the unanswered first attempt of a retried read-only request
	for reroutes := 0; ; {
		if cn.Closed() {
			var err error
			if cn, err = c.repair(ctx, s, verb); err != nil {
				return stFailed, err
			}
		}
		st, err := attempt(cn)
		switch st {
		case stNotSent:
			// Nothing was written, so any command may go to a new connection; bounded in
			// case connections keep breaking.
			if reroutes < 3 && ctx.Err() == nil {
				reroutes++
				continue
			}
		case stUnanswered:
			// The connection is broken now (cn.Closed), so the retry gets a fresh one.
			if readOnly && !retried && ctx.Err() == nil {
				retried, firstErr = true, err
				continue
			}
			err = bothSilent(verb, firstErr, err)
		}
		return st, err
	}
}

// bothSilent reports a read-only request that went unanswered twice, once on each of two
// connections, with the time it waited in all; other errors are returned as they are.
func bothSilent(verb string, first, second error) error {
	var a, b *silenceError
	if !errors.As(first, &a) || !errors.As(second, &b) {
		return second
	}
	all := &silenceError{waited: a.waited + b.waited, timeout: b.timeout, attempts: a.attempts + b.attempts}
	return &wire.Error{Kind: wire.ErrClosed, Command: verb, Err: all}
}

// pick chooses the connection with the fewest calls in progress (requests abandoned by
// their callers count until answered, so a connection whose server stopped answering is
// avoided until WithReplyTimeout retires it), the first in slot order among equals. Why: the callers completed by one batch of replies come back together and
// go to the connection they left, so its next write carries all their frames (round-robin
// scattered them over every connection: half-size writes, 0.54 of the raw ceiling with 32
// goroutines in-process against ~0.68); and a lone caller keeps one connection, whose
// buffers and server-side reader are warm (5-10 % faster than rotating). A broken
// connection is picked, to be redialled by this call, when nobody is redialling it and its
// backoff has expired; otherwise it is skipped. When every connection is broken and waiting,
// the first is returned and repair reports why.
func (c *Client) pick() (*slot, *Conn) {
	var best *slot
	var bestConn *Conn
	var bestLoad int32
	var now int64
	for _, s := range c.slots {
		cn := s.conn.Load()
		if cn.Closed() {
			if now == 0 {
				now = time.Now().UnixNano()
			}
			if !s.dialing.Load() && s.retryAt.Load() <= now {
				return s, cn
			}
			continue
		}
		if load := cn.load(); best == nil || load < bestLoad {
			best, bestConn, bestLoad = s, cn, load
			if load == 0 {
				break
			}
		}
	}
	if best == nil {
		best = c.slots[0]
		bestConn = best.conn.Load()
	}
	return best, bestConn
}

// Do sends a raw request like Conn.Do, on one of the Client's connections.
func (c *Client) Do(ctx context.Context, op Opcode, args ...[]byte) (Reply, error) {
	return do(ctx, c.cmds.Executor, op, args)
}

// enter registers a call in progress; it reports false, registering nothing, after Close.
func (c *Client) enter() bool {
	if c.closed.Load() {
		return false
	}
	c.active.Add(1)
	if c.closed.Load() {
		c.leave()
		return false
	}
	return true
}

func (c *Client) leave() {
	if c.active.Add(-1) == 0 && c.closed.Load() {
		c.drainOnce.Do(func() { close(c.drained) })
	}
}

func (c *Client) healthy() *Conn {
	for _, s := range c.slots {
		if cn := s.conn.Load(); !cn.Closed() {
			return cn
		}
	}
	return nil
}

// repair returns a usable connection for a broken slot. It starts a redial unless one is
// under way or the slot's backoff has not expired (then another healthy connection is used,
// or the call fails at once). The redial runs on its own goroutine with the Client's dial
// timeout, detached from the caller: a caller whose context ends stops waiting, but the dial
// goes on for the connection's sake, and its outcome alone decides the backoff, so a
// caller's short deadline never counts against the server.
func (c *Client) repair(ctx context.Context, s *slot, verb string) (*Conn, error) {
	if ctx.Value(inDialHook{}) == c {
		return c.fromDialHook(verb)
	}
	s.mu.Lock()
	if old := s.conn.Load(); !old.Closed() {
		s.mu.Unlock()
		return old, nil // repaired meanwhile
	}
	r := s.redial
	if r == nil {
		if wait := time.Until(time.Unix(0, s.retryAt.Load())); wait > 0 {
			lastErr := s.lastErr
			s.mu.Unlock()
			if cn := c.healthy(); cn != nil {
				return cn, nil
			}
			return nil, &wire.Error{Kind: wire.ErrClosed, Command: verb,
				Msg: fmt.Sprintf("not connected to %s: reconnecting failed, next attempt in %v", c.ep.display, wait.Round(time.Millisecond)), Err: lastErr}
		}
		c.dialMu.Lock()
		if c.dialsClosed {
			c.dialMu.Unlock()
			s.mu.Unlock()
			return nil, &wire.Error{Kind: wire.ErrClosed, Command: verb, Msg: "client is closed"}
		}
		c.dials.Add(1)
		c.dialMu.Unlock()
		r = &redial{done: make(chan struct{})}
		r.ctx, r.cancel = context.WithCancel(context.WithValue(c.dialCtx, inDialHook{}, c))
		if c.opts.dialTimeout > 0 {
			r.cancel()
			r.ctx, r.cancel = context.WithTimeout(context.WithValue(c.dialCtx, inDialHook{}, c), c.opts.dialTimeout)
		}
		s.redial = r
		s.dialing.Store(true)
		go c.redial(s, r)
	}
	s.mu.Unlock()
	defer c.opts.stats.waited(time.Now())
	select {
	case <-r.done:
	case <-ctx.Done():
		return nil, &wire.Error{Command: verb, Msg: "gave up while reconnecting to " + c.ep.display, Err: ctx.Err()}
	case <-r.ctx.Done():
		// The redial outlived its dial timeout, or Close cancelled it: a DialHook that does
		// not return (one calling this Client with a context of its own, say) is waited for
		// no longer than the dial itself would be.
		select {
		case <-r.done:
		default:
			if c.closed.Load() {
				return nil, &wire.Error{Kind: wire.ErrClosed, Command: verb, Msg: "client is closed"}
			}
			return nil, &wire.Error{Kind: wire.ErrClosed, Command: verb,
				Msg: fmt.Sprintf("reconnecting to %s did not finish within the dial timeout (%v); a DialHook calling this Client must pass on the context it is given", c.ep.display, c.opts.dialTimeout), Err: r.ctx.Err()}
		}
	}
	if r.err != nil {
		return nil, &wire.Error{Kind: wire.ErrClosed, Command: verb,
			Msg: fmt.Sprintf("connection to %s broke and reconnecting failed (next attempt in %v)", c.ep.display, r.backoff), Err: r.err}
	}
	return r.conn, nil
}

// redial dials a new connection for s and installs it, or sets the slot's backoff.
func (c *Client) redial(s *slot, r *redial) {
	defer c.dials.Done()
	defer r.cancel()
	cn, err := c.dialDetached(r.ctx)
	s.mu.Lock()
	switch {
	case err == nil && c.closed.Load():
		cn.Close() // Close ran meanwhile; it has closed the slots already
		cn, err = nil, &wire.Error{Kind: wire.ErrClosed, Msg: "client is closed"}
	case err != nil && c.dialCtx.Err() != nil:
		err = &wire.Error{Kind: wire.ErrClosed, Msg: "client is closed"}
	case err != nil:
		if s.backoff == 0 {
			s.backoff = c.opts.redialMin
		} else {
			s.backoff = min(2*s.backoff, c.opts.redialMax)
		}
		s.retryAt.Store(time.Now().Add(s.backoff).UnixNano())
		s.lastErr = err
		r.backoff = s.backoff
	default:
		s.backoff, s.lastErr = 0, nil
		s.retryAt.Store(0)
		c.retire(s.conn.Swap(cn))
	}
	r.conn, r.err = cn, err
	s.redial = nil
	s.dialing.Store(false)
	s.mu.Unlock()
	// Noted before the waiting callers go on: a call that used the new connection returns
	// after the log says so, and a Close that follows it cannot make a redial that
	// succeeded look cancelled.
	c.opts.noteRedial(&c.redialOutage, &c.logMu, c.ep.display, err, r.backoff, err != nil && c.dialCtx.Err() != nil)
	close(r.done)
}

// dialDetached dials for a redial. No caller's goroutine is there to raise a DialHook's
// panic on, so it becomes the redial's error (logged with the redial's outcome).
func (c *Client) dialDetached(ctx context.Context) (cn *Conn, err error) {
	defer func() {
		if v := recover(); v != nil {
			cn, err = nil, &wire.Error{Msg: fmt.Sprintf("dial %s: a DialHook panicked: %v", c.ep.display, v)}
		}
	}()
	return c.ep.dial(ctx, c.opts)
}

// inDialHook marks the context a redial's DialHook is given, with the Client as its value.
type inDialHook struct{}

// fromDialHook serves a call made by the Client's DialHook, with the context it was given,
// on a broken connection: such a call never waits for a redial (it may be waiting for the
// hook that makes it), so it goes to a healthy connection or fails at once.
func (c *Client) fromDialHook(verb string) (*Conn, error) {
	if cn := c.healthy(); cn != nil {
		return cn, nil
	}
	return nil, &wire.Error{Kind: wire.ErrClosed, Command: verb,
		Msg: fmt.Sprintf("called from this Client's DialHook while it reconnects to %s, and no other connection is usable: it would wait for the hook itself; use the net.Conn next returned", c.ep.display)}
}

// retire closes a replaced connection, or keeps it until Close while an END it carries may
// still be waiting for its reply.
func (c *Client) retire(old *Conn) {
	if !old.endPending() {
		old.Close()
		return
	}
	c.retiredMu.Lock()
	defer c.retiredMu.Unlock()
	kept := c.retired[:0]
	for _, r := range c.retired {
		if r.finished() {
			r.Close()
		} else {
			kept = append(kept, r)
		}
	}
	c.retired = append(kept, old)
}

// Close stops new calls, waits for the calls in progress to finish for at most
// WithCloseTimeout (default 1 s), then closes every connection, which fails the calls still
// waiting with ErrClosed, stops redials under way, and waits for the connections' goroutines
// to exit. Calls made after Close fail with ErrClosed. It always returns nil; calling it
// again does nothing.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.cancelDial()
		if c.active.Load() == 0 {
			c.drainOnce.Do(func() { close(c.drained) })
		}
		grace := time.NewTimer(c.opts.closeTimeout)
		select {
		case <-c.drained:
		case <-grace.C:
		}
		grace.Stop()
		c.dialMu.Lock()
		c.dialsClosed = true
		c.dialMu.Unlock()
		c.dials.Wait() // cancelled above; after it no redial can install a connection
		for _, s := range c.slots {
			s.conn.Load().Close()
		}
		c.retiredMu.Lock()
		for _, r := range c.retired {
			r.Close()
		}
		c.retired = nil
		c.retiredMu.Unlock()
		<-c.drained
	})
	return nil
}

// Closed reports whether Close has been called.
func (c *Client) Closed() bool { return c.closed.Load() }
