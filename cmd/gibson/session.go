package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/wire"
)

// conn is what the CLI needs of a connection: client.Conn provides it.
type conn interface {
	Do(ctx context.Context, op wire.Opcode, args ...[]byte) (wire.Reply, error)
	Close() error
}

// session runs parsed commands on one connection, redialling after the connection was
// closed (by END, or by a server restart) so a REPL survives both.
type session struct {
	addr string // shown in the prompt
	dial func(ctx context.Context) (conn, error)
	lim  wire.Limits
	mode outputMode
	c    conn
	// timeout bounds each command (--timeout); 0 means none.
	timeout time.Duration
	// last holds the statistics of the connection dropped last, and why it was, for
	// :stats between a drop and the next dial.
	last    *client.PoolStats
	lastWhy string
}

// do sends req and decodes its reply, within s.timeout.
func (s *session) do(ctx context.Context, req request) result {
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	if s.c == nil {
		c, err := s.dial(ctx)
		if err != nil {
			return result{kind: resErr, err: err}
		}
		s.c = c
	}
	rep, err := s.c.Do(ctx, req.cmd.Op, req.args...)
	s.dropAfter(req, err)
	r := decodeResult(req, rep, err)
	if r.failed() {
		r.err = s.explain(req, r.err)
	}
	return r
}

// explain adds what a CLI user needs to a failure: a reply no Gibson server sends asks
// whether the address is a Gibson server; a timeout names --timeout.
func (s *session) explain(req request, err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("gibson: %s: no reply from %s within %v (--timeout); is it a Gibson server, and is it overloaded?", req.cmd.Verb, s.addr, s.timeout)
	case errors.Is(err, wire.ErrProtocol):
		return fmt.Errorf("%w%s; is %s a Gibson server?", err, replyStart(err), s.addr)
	}
	return err
}

// unknownCode matches the reader's message for a reply code outside 0-7.
var unknownCode = regexp.MustCompile(`unknown reply code (\d+)`)

// replyStart shows the first two bytes of a reply whose code no Gibson server sends, when
// they are printable (an HTTP server's "HT", an SSH banner's "SS").
func replyStart(err error) string {
	m := unknownCode.FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	n, _ := strconv.Atoi(m[1])
	b := []byte{byte(n), byte(n >> 8)}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return ""
		}
	}
	return fmt.Sprintf(" (the reply began with %q)", b)
}

// line parses and runs one line of Gibson syntax and prints the result (errors included) to
// w. It reports whether the command failed.
func (s *session) line(ctx context.Context, w io.Writer, line string) bool {
	req, err := parseLine(s.lim, line)
	var r result
	if err != nil {
		r = result{kind: resErr, err: err}
	} else {
		r = s.do(ctx, req)
	}
	_ = writeResult(w, s.mode, r)
	return r.failed()
}

// dropAfter drops the connection when req's outcome left it unusable: END closes it, and a
// closed connection, a malformed reply or a timeout leave it in an unknown state.
func (s *session) dropAfter(req request, err error) {
	switch {
	case req.cmd.Flags&wire.FlagCloses != 0:
		s.drop(req.cmd.Verb + " closed it")
	case errors.Is(err, wire.ErrClosed):
		s.drop("it was closed: " + errorText(err))
	case errors.Is(err, wire.ErrProtocol):
		s.drop("a reply was malformed")
	case errors.Is(err, context.DeadlineExceeded):
		s.drop("a command timed out (--timeout)")
	}
}

// drop closes the connection, keeping its statistics and why for :stats.
func (s *session) drop(why string) {
	if s.c != nil {
		s.last, s.lastWhy = nil, why
		if sc, ok := s.c.(interface{ PoolStats() client.PoolStats }); ok {
			st := sc.PoolStats()
			s.last = &st
		}
		_ = s.c.Close()
		s.c = nil
	}
}

// Close closes the connection, if any.
func (s *session) Close() { s.drop("gibson quit") }
