package client

import (
	"errors"
	"io"
	"net"

	"github.com/gogibson/gogibson/wire"
)

// readLoop is the connection's only reader: it parses replies as they arrive and completes
// the calls at the head of the queue, in order. It runs until the connection fails, then
// fails every call still queued.
func (c *Conn) readLoop() {
	defer c.wg.Done()
	defer close(c.quit)
	rd := wire.Reader{MaxReplySize: c.opts.maxReplySize}
	var replies []wire.Reply
	var calls []*call
	var cause *brokenCause
	for cause == nil {
		_, rerr := rd.Fill(c.nc)
		replies = replies[:0]
		var perr error
		for {
			rep, ok, err := rd.Next()
			if err != nil {
				perr = err
				break
			}
			if !ok {
				break
			}
			replies = append(replies, rep)
		}
		if len(replies) > 0 {
			// One lock per batch of replies, not per reply.
			calls = calls[:0]
			c.mu.Lock()
			for range replies {
				cl := c.queue.pop()
				if cl == nil {
					break
				}
				c.inflight -= cl.size
				calls = append(calls, cl)
			}
			if len(c.capWait) > 0 {
				c.grant()
			}
			c.mu.Unlock()
			for i, cl := range calls {
				closes := cl.req.Flags&wire.FlagCloses != 0
				cl.req.SetReply(replies[i])
				cl.finish(nil)
				if closes {
					cause = &brokenCause{kind: wire.ErrClosed, msg: "connection ended by END"}
				}
			}
			clear(calls)
			if len(calls) < len(replies) && cause == nil {
				cause = &brokenCause{kind: wire.ErrProtocol, msg: "reply received with no request pending; connection closed"}
			}
		}
		switch {
		case cause != nil:
		case perr != nil:
			cause = protocolCause(perr)
		case rerr != nil:
			cause = readCause(rerr)
		}
	}
	c.shutdown(cause, rd.Buffered() > 0)
}

func readCause(err error) *brokenCause {
	if errors.Is(err, io.EOF) {
		return &brokenCause{kind: wire.ErrClosed, msg: "connection closed by the server before the reply arrived", err: err}
	}
	if errors.Is(err, net.ErrClosed) {
		return &brokenCause{kind: wire.ErrClosed, msg: "connection closed", err: err}
	}
	return &brokenCause{kind: wire.ErrClosed, msg: "reading the reply failed", err: err}
}

// shutdown closes the connection after the reader stopped and fails every queued call.
// headStarted reports that bytes of the first queued call's reply had arrived.
func (c *Conn) shutdown(cause *brokenCause, headStarted bool) {
	c.mu.Lock()
	c.markBroken(cause)
	cause = c.broken
	var calls []*call
	for cl := c.queue.pop(); cl != nil; cl = c.queue.pop() {
		calls = append(calls, cl)
	}
	c.inflight = 0
	c.mu.Unlock()
	c.nc.Close()
	for i, cl := range calls {
		cl.started = i == 0 && headStarted
		cl.finish(cause.forVerb(cl.req.Verb))
	}
}
