package main

import (
	"context"
	"errors"
	"io"

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
}

// do sends req and decodes its reply.
func (s *session) do(ctx context.Context, req request) result {
	if s.c == nil {
		c, err := s.dial(ctx)
		if err != nil {
			return result{kind: resErr, err: err}
		}
		s.c = c
	}
	rep, err := s.c.Do(ctx, req.cmd.Op, req.args...)
	if req.cmd.Flags&wire.FlagCloses != 0 || errors.Is(err, wire.ErrClosed) || errors.Is(err, wire.ErrProtocol) {
		s.drop()
	}
	return decodeResult(req, rep, err)
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

func (s *session) drop() {
	if s.c != nil {
		_ = s.c.Close()
		s.c = nil
	}
}

// Close closes the connection, if any.
func (s *session) Close() { s.drop() }
