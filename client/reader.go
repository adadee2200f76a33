package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/gogibson/gogibson/wire"
)

// The read side. Replies are read by whoever holds the read role (c.reading): a caller that
// finds nobody reading — a lone caller — reads its own reply, with no goroutine hop; callers
// that arrive while someone reads just wait to be completed. A reader that leaves while calls
// are still queued (its own reply arrived, or its context ended) hands the role to the
// connection's background goroutine, which reads until the queue is empty. Nobody reads an
// idle connection: the first call after idling peeks at the socket without blocking (see
// plainSocket), so a close by the server, or bytes it sent while nothing was pending (a
// protocol violation), are found before anything is written, and the request is known to be
// unsent. Connections that are not plain sockets (WithDialer may return anything) keep the
// background goroutine reading at all times instead.

// readOwn reads replies until cl's arrives or ctx ends; the caller holds the read role and
// gives it up here.
func (c *Conn) readOwn(ctx context.Context, cl *call) (wire.Reply, status, error) {
	c.readFor(ctx, cl)
	return c.wait(ctx, cl)
}

// readFor reads replies until cl has completed or ctx ends, then gives up the read role,
// which the caller holds.
func (c *Conn) readFor(ctx context.Context, cl *call) {
	done := ctx.Done()
	deadline, hasDeadline := ctx.Deadline()
	alive := true
	for alive && cl.state.Load() == callWaiting && ctx.Err() == nil {
		if done == nil {
			c.armSilence()
		} else if !c.boundRead(deadline, hasDeadline) {
			break // the deadline passed; wait sees the context end once its timer has fired
		}
		alive = c.readOnce()
	}
	if alive {
		c.releaseRead()
	}
}

// cancelPoll bounds how long a caller reading its own reply takes to notice that its
// context was cancelled (a context's deadline is noticed when it passes).
const cancelPoll = time.Millisecond

// boundRead makes the next read return by the context's deadline, or within cancelPoll to
// look for a cancellation (context.AfterFunc would interrupt at once but costs three
// allocations per call). A deadline already set that ends between cancelPoll/2 and
// cancelPoll from now, and not after the context's, is kept: setting one costs more than a
// fast round trip's share. It reports false when the context's deadline has passed.
func (c *Conn) boundRead(deadline time.Time, hasDeadline bool) bool {
	now := time.Now()
	d := now.Add(cancelPoll)
	if hasDeadline && deadline.Before(d) {
		if !deadline.After(now) {
			return false
		}
		d = deadline
	}
	cur := c.readDeadline
	if cur.IsZero() || cur.After(d) || cur.Before(now.Add(cancelPoll/2)) && !cur.Equal(d) {
		c.setReadDeadline(d)
	}
	return true
}

// silence tracks whether a connection with requests outstanding still receives bytes. The
// holder of the read role checks it whenever a read deadline passes (a lone caller's
// deadlines of boundRead, or armSilence's): the checks are at least a quarter of the reply
// timeout apart, and the connection is declared dead when silenceChecks checks in a row saw
// the same oldest request waiting and no byte received. The first of them saw that request
// within a quarter timeout of its sending, so it has then waited between the timeout and
// 1.25 times it. Counting instead of taking the time on every read keeps the hot path free
// of clock reads.
type silence struct {
	fills    uint64    // reads that returned bytes
	next     time.Time // the earliest next check
	since    time.Time // the check that first saw lastHead waiting with no byte since
	lastHead uint64    // oldest queued call at the last check (0: none)
	lastFill uint64    // fills at the last check
	quiet    int       // checks in a row that saw no progress
}

// silenceChecks is how many quarter-timeout checks in a row must see no progress.
const silenceChecks = 4

// armSilence makes a read that would block for ever return by the next silence check: a
// deadline left from an earlier read serves as well, so this sets one only after the last
// has passed (once per quarter reply timeout on a busy connection).
func (c *Conn) armSilence() {
	if c.readDeadline.IsZero() {
		c.setReadDeadline(time.Now().Add(c.opts.replyTimeout / silenceChecks))
	}
}

// checkSilence runs when a read deadline passed; it returns the cause to close for when the
// server has sent nothing for a reply timeout while a request waited.
func (c *Conn) checkSilence() *brokenCause {
	now := time.Now()
	sl := &c.silence
	if now.Before(sl.next) {
		return nil
	}
	sl.next = now.Add(c.opts.replyTimeout / silenceChecks)
	c.mu.Lock()
	head := c.queue.headSeq()
	c.mu.Unlock()
	if head == 0 || head != sl.lastHead || sl.fills != sl.lastFill {
		sl.lastHead, sl.lastFill, sl.quiet, sl.since = head, sl.fills, 0, now
		return nil
	}
	if sl.quiet++; sl.quiet < silenceChecks {
		return nil
	}
	return &brokenCause{kind: wire.ErrClosed, err: &silenceError{waited: now.Sub(sl.since), timeout: c.opts.replyTimeout, attempts: 1}}
}

// silenceError says how long a request went unanswered before its connection was closed
// as dead (see WithReplyTimeout); a Client that sent a read-only request twice adds both
// waits up.
type silenceError struct {
	waited, timeout time.Duration
	attempts        int
}

func (e *silenceError) Error() string {
	w := e.waited.Round(time.Millisecond)
	if e.attempts == 1 {
		return fmt.Sprintf("no reply from the server for %v (WithReplyTimeout %v); connection closed", w, e.timeout)
	}
	return fmt.Sprintf("no reply from the server for %v in all, over %d attempts on new connections (a read-only command is sent again once; WithReplyTimeout %v each); connection closed", w, e.attempts, e.timeout)
}

// setReadDeadline sets the socket's read deadline and remembers it; the caller holds the
// read role (or c.mu with nobody reading). A deadline left behind by a caller that has gone
// makes a later read return early, which every reader takes as "look up, read on".
func (c *Conn) setReadDeadline(t time.Time) {
	c.nc.SetReadDeadline(t)
	c.readDeadline = t
}

// releaseRead gives up the read role: to nobody when the queue is empty, else to the
// background goroutine. If the connection broke meanwhile (fail leaves the shutdown to the
// holder of the role), it shuts the connection down instead.
func (c *Conn) releaseRead() {
	if c.mustRead() {
		c.wake <- struct{}{}
	}
}

// mustRead is releaseRead's decision: it reports whether calls still await replies, and
// otherwise gives the role up.
func (c *Conn) mustRead() bool {
	c.mu.Lock()
	if c.broken != nil {
		c.mu.Unlock()
		c.shutdown(nil, c.rd.Buffered() > 0)
		return false
	}
	if c.queue.len() == 0 && c.selfRead {
		c.reading = false
		c.mu.Unlock()
		return false
	}
	c.mu.Unlock()
	return true
}

// readLoop is the background reader: woken with the read role, it reads until no call is
// queued (for ever on connections that are not plain sockets), and exits when the
// connection shuts down.
func (c *Conn) readLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.wake:
		case <-c.quit:
			return
		}
		for {
			c.armSilence()
			if !c.readOnce() || !c.mustRead() {
				break
			}
		}
	}
}

// readOnce reads what the socket has (blocking until something arrives), completes the
// calls whose replies are complete, in order, and reports whether the connection is still
// up; when it is not, every queued call has been failed. The caller holds the read role.
func (c *Conn) readOnce() bool {
	n, rerr := c.rd.Fill(c.nc)
	if n > 0 {
		c.silence.fills++
	}
	c.replies = c.replies[:0]
	var perr error
	for {
		rep, ok, err := c.rd.Next()
		if err != nil {
			perr = err
			break
		}
		if !ok {
			break
		}
		c.replies = append(c.replies, rep)
	}
	var cause *brokenCause
	if len(c.replies) > 0 {
		cause = c.complete(c.replies)
	}
	switch {
	case cause != nil:
	case perr != nil:
		cause = protocolCause(perr)
	case errors.Is(rerr, os.ErrDeadlineExceeded):
		// A deadline set by boundRead or armSilence: clear it, see whether the server has
		// gone silent, and let the reader decide whether to read on.
		c.setReadDeadline(time.Time{})
		cause = c.checkSilence()
	case rerr != nil:
		cause = readCause(rerr)
	}
	if cause != nil {
		c.shutdown(cause, c.rd.Buffered() > 0)
		return false
	}
	return true
}

// complete hands replies to the calls at the head of the queue, one lock per batch of
// replies, and returns the cause to shut down for, if any. A batch chunk takes as many
// replies as it has frames, possibly over several reads.
func (c *Conn) complete(replies []wire.Reply) *brokenCause {
	calls := c.completed[:0]
	taken := 0
	c.mu.Lock()
	for taken < len(replies) {
		cl := c.queue.peek()
		if cl == nil {
			break
		}
		k := min(cl.want-cl.taken, len(replies)-taken)
		cl.taken += k
		taken += k
		calls = append(calls, cl)
		if cl.taken == cl.want {
			c.queue.pop()
			c.inflight -= cl.size
		}
	}
	if len(c.capWait) > 0 {
		c.grant()
	}
	c.mu.Unlock()
	var cause *brokenCause
	next := 0
	for _, cl := range calls {
		if cl.req != nil {
			closes := cl.req.Flags&wire.FlagCloses != 0
			cl.req.SetReply(replies[next])
			next++
			if cl.finish(nil) {
				c.abandoned.Add(-1)
			}
			if closes {
				cause = &brokenCause{kind: wire.ErrClosed, msg: "connection ended by END"}
			}
			continue
		}
		for len(cl.metas) < cl.want && next < taken {
			cl.keep(replies[next])
			next++
		}
		if len(cl.metas) == cl.want && cl.finish(nil) {
			c.abandoned.Add(-1)
		}
	}
	clear(calls)
	c.completed = calls[:0]
	if taken < len(replies) && cause == nil {
		cause = &brokenCause{kind: wire.ErrProtocol, msg: "reply received with no request pending; connection closed"}
	}
	return cause
}

// probe reports whether the connection is usable, peeking at an idle plain socket for a
// close that nobody has read yet; a connection found closed is shut down.
func (c *Conn) probe() bool {
	c.mu.Lock()
	if c.closedWhileIdle() != nil {
		return false
	}
	ok := c.broken == nil && !c.ending
	c.mu.Unlock()
	return ok
}

// closedWhileIdle peeks at the socket if the connection is idle (nobody reading, not
// broken) and can be peeked. It is called with c.mu held, so nothing can be queued or read
// meanwhile; when the socket turns out closed it shuts the connection down, releasing c.mu,
// and returns why.
func (c *Conn) closedWhileIdle() *brokenCause {
	if c.reading || c.broken != nil || c.peek == nil {
		return nil
	}
	cause := c.peekIdle()
	if cause != nil {
		c.failIdle(cause)
	}
	return cause
}

// peekIdle peeks at an idle socket, without blocking, and returns why it is unusable, if it
// is. It is called with c.mu held and nobody reading.
func (c *Conn) peekIdle() *brokenCause {
	err := c.peek()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// A reader's deadline left behind (see boundRead) stops the peek: clear it, peek
		// again.
		c.setReadDeadline(time.Time{})
		err = c.peek()
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errUnexpectedBytes):
		return &brokenCause{kind: wire.ErrProtocol, msg: "bytes received with no request pending; connection closed"}
	case errors.Is(err, io.EOF):
		return &brokenCause{kind: wire.ErrClosed, msg: "connection closed by the server while idle", err: err}
	}
	return &brokenCause{kind: wire.ErrClosed, msg: "connection failed while idle", err: err}
}

// failIdle shuts down an idle connection that peekIdle found unusable. It is called with
// c.mu held and releases it.
func (c *Conn) failIdle(cause *brokenCause) {
	c.markBroken(cause)
	c.reading = true // nobody reads after this but shutdown
	c.mu.Unlock()
	c.shutdown(nil, false)
}

var errUnexpectedBytes = errors.New("unexpected bytes")

func readCause(err error) *brokenCause {
	if errors.Is(err, io.EOF) {
		return &brokenCause{kind: wire.ErrClosed, msg: "connection closed by the server before the reply arrived", err: err}
	}
	if errors.Is(err, net.ErrClosed) {
		return &brokenCause{kind: wire.ErrClosed, msg: "connection closed", err: err}
	}
	return &brokenCause{kind: wire.ErrClosed, msg: "reading the reply failed", err: err}
}

// shutdown closes the connection for good and fails every queued call; it runs once, by the
// holder of the read role (or by fail when nobody holds it). headStarted reports that bytes
// of the first queued call's reply had arrived.
func (c *Conn) shutdown(cause *brokenCause, headStarted bool) {
	c.mu.Lock()
	if c.shut {
		c.mu.Unlock()
		return
	}
	c.shut = true
	c.opts.stats.fold(c)
	if cause != nil {
		c.markBroken(cause)
	}
	cause = c.broken
	var calls []*call
	for cl := c.queue.pop(); cl != nil; cl = c.queue.pop() {
		cl.unsent = cl.seq > c.sent
		calls = append(calls, cl)
	}
	c.inflight = 0
	c.mu.Unlock()
	c.nc.Close()
	c.opts.noteBroken(c, cause)
	for i, cl := range calls {
		cl.started = i == 0 && (headStarted || cl.taken > 0)
		if cl.finish(cause.forVerb(cl.verb)) {
			c.abandoned.Add(-1)
		}
	}
	close(c.quit)
}
