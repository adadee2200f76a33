package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/gogibson/gogibson/wire"
)

// The write side. A caller that finds nobody writing writes its own frame directly; callers
// arriving meanwhile append their frames to pending, and the writer hands pending to the
// flusher goroutine, which writes everything queued in one call per round. Only whole frames
// are ever written, so a 4-byte length field is never split by us (docs/protocol.md §2.3).

// admit reserves size bytes of the in-flight budget for cl, waiting while the budget is
// spent. It is called and returns with c.mu held.
func (c *Conn) admit(ctx context.Context, cl *call, size int) (status, error) {
	if c.broken != nil || c.ending {
		return stNotSent, c.closedErr(cl.verb)
	}
	cl.size = size
	if len(c.capWait) == 0 && (c.inflight == 0 || c.inflight+size <= c.opts.maxInFlight) {
		c.inflight += size
		return stOK, nil
	}
	c.capWait = append(c.capWait, cl)
	c.mu.Unlock()
	defer c.opts.stats.waited(time.Now())
	select {
	case <-cl.done:
		c.mu.Lock()
	case <-ctx.Done():
		c.mu.Lock()
		if !c.removeWaiter(cl) {
			// Granted or failed in the meantime; the signal was sent under the lock.
			<-cl.done
			if cl.err == nil {
				c.inflight -= size
				c.grant()
			}
		}
		cl.err = nil
		return stFailed, ctxError(cl.verb, ctx.Err())
	}
	if err := cl.err; err != nil {
		cl.err = nil
		return stNotSent, err
	}
	// Granted, but the connection may have broken (or queued END) between the grant and
	// this lock: shutdown fails only the calls still waiting or queued, so one queued now
	// would never complete.
	if c.broken != nil || c.ending {
		c.inflight -= size
		return stNotSent, c.closedErr(cl.verb)
	}
	return stOK, nil
}

// grant admits waiting callers whose frames now fit. Called with c.mu held.
func (c *Conn) grant() {
	for len(c.capWait) > 0 {
		w := c.capWait[0]
		if c.inflight > 0 && c.inflight+w.size > c.opts.maxInFlight {
			return
		}
		c.inflight += w.size
		c.dropWaiter(0)
		w.done <- struct{}{}
	}
}

func (c *Conn) removeWaiter(cl *call) bool {
	for i, w := range c.capWait {
		if w == cl {
			c.dropWaiter(i)
			return true
		}
	}
	return false
}

func (c *Conn) dropWaiter(i int) {
	n := len(c.capWait) - 1
	copy(c.capWait[i:], c.capWait[i+1:])
	c.capWait[n] = nil
	c.capWait = c.capWait[:n]
}

// send queues cl and its frame and writes it unless another writer is active. It reports
// whether the caller took the read role (nobody was reading) and must read its own reply.
// It is called with c.mu held and returns with it released.
func (c *Conn) send(ctx context.Context, cl *call, frame []byte) (self bool) {
	// Written directly only when no other caller is about to send: otherwise the flusher
	// batches this frame with theirs (measured: ~8 % more GETs/s with 32 callers).
	alone := c.queue.len() == 0 && c.callers.Load() == 1
	c.pushed++
	cl.seq = c.pushed
	c.queue.push(cl)
	c.frames, c.bytes = c.frames+uint64(cl.want), c.bytes+uint64(len(frame)) // see PoolStats
	if cl.req != nil && cl.req.Flags&wire.FlagCloses != 0 {
		c.ending = true
		c.dead.Store(true)
	}
	self = !c.reading // only when the queue was empty: queued calls always have a reader
	c.reading = true
	if c.writing || !alone {
		// Others are waiting for replies: queue the frame for the flusher, which writes
		// everything that accumulates meanwhile in one call.
		c.pending = append(c.pending, frame...)
		start := !c.writing
		c.writing = true
		c.mu.Unlock()
		if start {
			c.kick <- struct{}{}
		}
		return self
	}
	// Nothing in flight: write directly, with no goroutine hop.
	c.writing = true
	c.mu.Unlock()
	n, err := c.writeOwn(ctx, frame)
	c.mu.Lock()
	if n > 0 {
		c.sent = cl.seq
	}
	if err != nil {
		c.mu.Unlock()
		c.fail(c.writeCause(ctx, err))
		return self // writing stays set: nothing may follow a partial write
	}
	if len(c.pending) == 0 {
		c.writing = false
		c.mu.Unlock()
		return self
	}
	c.mu.Unlock()
	// The flusher owns the write side until it clears writing, so the buffer always has room.
	c.kick <- struct{}{}
	return self
}

// flusher writes frames queued by concurrent callers, all that are queued in one write.
func (c *Conn) flusher() {
	defer c.wg.Done()
	var buf []byte
	for {
		select {
		case <-c.kick:
		case <-c.quit:
			return
		}
		// Let the callers that are runnable now queue their frames, so they share the write.
		runtime.Gosched()
		c.mu.Lock()
		for len(c.pending) > 0 && c.broken == nil {
			// The frames queued last are pending: only a direct write, which comes before
			// any of them, skips pending.
			buf, c.pending = c.pending, buf[:0]
			upto := c.pushed
			c.mu.Unlock()
			n, err := c.write(buf)
			if cap(buf) > 4*c.opts.maxInFlight {
				buf = nil // do not keep a buffer grown by one huge frame
			}
			c.mu.Lock()
			if n > 0 {
				c.sent = upto
			}
			if err != nil {
				c.mu.Unlock()
				c.fail(c.writeCause(context.Background(), err))
				c.mu.Lock()
				break
			}
		}
		if c.broken == nil {
			c.writing = false
		}
		c.mu.Unlock()
	}
}

// writeOwn writes the frame of a caller writing its own request. A frame larger than the
// in-flight cap may block until the server reads it, so it honours the caller's context as
// well as the write timeout; smaller frames fit the socket's buffer unless the server has
// stopped reading, which the write timeout covers without a timer or a clock read per call.
func (c *Conn) writeOwn(ctx context.Context, frame []byte) (int, error) {
	if len(frame) <= c.opts.maxInFlight || ctx.Done() == nil {
		return c.write(frame)
	}
	d := time.Now().Add(c.opts.writeTimeout)
	limit, ok := ctx.Deadline()
	if ok && limit.Before(d) {
		d = limit
	}
	c.setWriteDeadline(d)
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.nc.SetWriteDeadline(time.Unix(1, 0)) // in the past: the write returns at once
		close(fired)
	})
	n, err := c.nc.Write(frame)
	if !stop() {
		<-fired
	}
	c.setWriteDeadline(time.Time{}) // write sets its own again
	if err != nil && ctx.Err() == nil && ok && !time.Now().Before(limit) {
		<-ctx.Done() // the context's deadline cut the write: let its timer catch up
	}
	return n, err
}

// write writes buf within the write timeout. The deadline is set lazily, once per timeout
// rather than per write: it may have been set long before this write began, so when it
// passes the write gets one fresh timeout of its own before it is called stuck (a server
// that stopped reading is found after between one and two timeouts). Called by the holder
// of the write side.
func (c *Conn) write(buf []byte) (int, error) {
	if c.writeDeadline.IsZero() {
		c.setWriteDeadline(time.Now().Add(c.opts.writeTimeout))
	}
	n, err := c.nc.Write(buf)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		c.setWriteDeadline(time.Now().Add(c.opts.writeTimeout))
		m, err2 := c.nc.Write(buf[n:])
		n, err = n+m, err2
	}
	return n, err
}

func (c *Conn) setWriteDeadline(t time.Time) {
	c.nc.SetWriteDeadline(t)
	c.writeDeadline = t
}

// writeCause says why a write failed: the caller's context (which only writeOwn watches),
// the write timeout, or the socket.
func (c *Conn) writeCause(ctx context.Context, err error) *brokenCause {
	switch {
	case !errors.Is(err, os.ErrDeadlineExceeded):
		return &brokenCause{kind: wire.ErrClosed, msg: "writing the request failed", err: err}
	case ctx.Err() != nil:
		return &brokenCause{kind: wire.ErrClosed, msg: "a caller's context ended while its large request was being written; part of it may have been sent, so the connection was closed"}
	}
	return &brokenCause{kind: wire.ErrClosed, msg: fmt.Sprintf("writing the request timed out after %v (WithWriteTimeout): the server is not reading; connection closed", c.opts.writeTimeout)}
}

// fail marks the connection broken (the first cause wins) and closes the socket, which
// makes the holder of the read role fail every pending call; with no holder, fail does it.
func (c *Conn) fail(cause *brokenCause) {
	c.mu.Lock()
	c.markBroken(cause)
	idle := !c.reading
	c.reading = true // nobody may read from now on but the one who shuts down
	c.mu.Unlock()
	if c.nc != nil { // nil: a placeholder that never connected (deadConn)
		c.nc.Close()
	}
	if idle {
		c.shutdown(nil, false)
	}
}

// markBroken records cause unless one is recorded and fails the callers waiting for budget.
// Called with c.mu held.
func (c *Conn) markBroken(cause *brokenCause) {
	if c.broken == nil {
		c.broken = cause
	}
	c.dead.Store(true)
	for _, w := range c.capWait {
		w.err = c.closedErr(w.verb)
		w.done <- struct{}{}
	}
	clear(c.capWait)
	c.capWait = c.capWait[:0]
	c.pending = c.pending[:0]
}

// closedErr is the error for a request refused because the connection is unusable.
// Called with c.mu held.
func (c *Conn) closedErr(verb string) error {
	b := c.broken
	if b == nil {
		return &wire.Error{Kind: wire.ErrClosed, Command: verb, Msg: "connection is closed: END was sent"}
	}
	return &wire.Error{Kind: wire.ErrClosed, Command: verb, Msg: "connection is closed: " + b.msg, Err: b.err}
}
