package proxy

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync/atomic"

	"github.com/gogibson/gogibson/internal/netx"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// conn is one client connection. It reads the requests the client has pipelined (all that
// have arrived, up to MaxInFlight), runs them as one batch, writes their replies in order,
// and reads on: each server sees the client's requests in the order sent, and a client that
// does not read its replies stops being read.
type conn struct {
	p  *Proxy
	nc net.Conn
}

func newConn(p *Proxy, nc net.Conn) *conn { return &conn{p: p, nc: nc} }

// item is one request of a batch: its handle, or a reply made by the proxy (PING).
type item struct {
	h     *generated.ReplyHandle
	local []byte
}

// how a burst of requests ends.
type ending int

const (
	more     ending = iota // the connection goes on
	gone                   // the client left, or a read failed
	silently               // a bad frame: close with no reply (docs/protocol.md §6.2)
	afterEnd               // END: reply OK, then close
)

var errBadFrame = errors.New("bad frame")

func (c *conn) serve() {
	defer c.p.forget(c)
	defer c.nc.Close()
	br := bufio.NewReaderSize(c.nc, 64<<10)
	bw := bufio.NewWriterSize(c.nc, 64<<10)
	b := c.p.cfg.Batch()
	var items []item
	var args [][]byte
	var frame, out []byte
	var loneOp wire.Opcode
	for {
		b.Reset()
		items = items[:0]
		end := more
		for len(items) < c.p.cfg.MaxInFlight && end == more {
			if len(items) > 0 && !frameReady(br) {
				break // the burst is over: run it
			}
			var err error
			if frame, err = readFrame(br, frame, c.p.cfg.MaxRequestSize, &c.p.partial); err != nil {
				end = gone
				if errors.Is(err, errBadFrame) {
					end = silently
				}
				break
			}
			op := wire.Opcode(binary.LittleEndian.Uint16(frame))
			cmd := generated.ByOpcode(op)
			switch {
			case cmd == nil:
				end = silently // an unknown opcode closes without a reply
			case op == generated.OpEnd:
				end = afterEnd
			case op == generated.OpPing:
				items = append(items, item{local: c.p.ping()})
			default:
				args = wire.SplitArgs(args[:0], frame[2:], len(cmd.Args))
				items = append(items, item{h: b.Do(op, args...)})
				loneOp = op
			}
		}
		out = out[:0]
		switch {
		case len(items) == 1 && items[0].h != nil && c.p.cfg.Exec != nil:
			out = c.p.execOne(out, loneOp, args) // args still alias its frame: nothing was read since
		case len(items) > 0:
			ctx, cancel := context.WithTimeout(c.p.ctx, c.p.cfg.RequestTimeout)
			b.Exec(ctx) // each handle holds its own outcome
			cancel()
			for _, it := range items {
				out = appendReplyOf(out, it)
			}
		}
		c.p.requests.Add(int64(len(items)))
		switch end {
		case afterEnd:
			// The replies, END's OK and the end of the stream in one go, as gibson serve
			// does (bw is empty: it is flushed after every burst).
			c.p.requests.Add(1)
			out = append(out, okReply...)
			if !netx.WriteAndShut(c.nc, out) {
				bw.Write(out)
				bw.Flush()
				closeWrite(c.nc)
			}
			return
		case gone, silently:
			bw.Write(out)
			bw.Flush()
			return
		}
		bw.Write(out)
		if bw.Flush() != nil {
			return
		}
	}
}

// appendReplyOf appends what the client gets for one request: the server's reply (or the
// merged one), or ERR when there was none (a shard down; a fanned-out command some shard
// missed).
func appendReplyOf(out []byte, it item) []byte {
	if it.h == nil {
		return append(out, it.local...)
	}
	if o, err := it.h.AppendWire(out); err == nil {
		return o
	}
	return append(out, errReply...)
}

// execOne runs a request that came alone through Config.Exec and appends its reply.
func (p *Proxy) execOne(out []byte, op wire.Opcode, args [][]byte) []byte {
	cmd := generated.ByOpcode(op)
	req := wire.NewRequest(op, cmd.Verb, cmd.Flags)
	for _, a := range args {
		req.AppendBytes(a)
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.RequestTimeout)
	defer cancel()
	rep, err := p.cfg.Exec.Exec(ctx, req)
	switch {
	case err == nil:
		out = wire.AppendReply(out, rep)
		req.Release()
		return out
	case errors.Is(err, wire.ErrPartial):
		req.Release() // kept by Exec with the partial reply
	}
	return append(out, errReply...)
}

// frameReady reports whether a whole request is buffered, so that reading it cannot block.
func frameReady(br *bufio.Reader) bool {
	if br.Buffered() < 4 {
		return false
	}
	hdr, _ := br.Peek(4)
	return br.Buffered() >= 4+int(binary.LittleEndian.Uint32(hdr))
}

// readFrame reads one request into buf and returns its body (opcode and payload). A length
// below 2 or above maxLen is errBadFrame, as on the reference server. The buffer grows with the
// bytes that arrive, never to a declared length up front: a client declaring 4 MiB and
// sending nothing holds a few KiB.
func readFrame(br *bufio.Reader, buf []byte, maxLen int, partial *atomic.Int64) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(hdr[:]))
	if n < 2 || n > maxLen {
		return nil, errBadFrame
	}
	if cap(buf) > maxKeptFrame {
		buf = nil // one huge request does not stay with the connection
	}
	buf = buf[:0]
	if br.Buffered() < n {
		partial.Add(1) // the body is still on its way
		defer partial.Add(-1)
	}
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, max(2*cap(buf), 4<<10)))
			copy(grown, buf)
			buf = grown
		}
		m, err := br.Read(buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// maxKeptFrame bounds the request buffer a connection keeps between requests.
const maxKeptFrame = 64 << 10

// ping answers PING at the proxy: OK while Config.Up says so (a Ring: a shard is up).
func (p *Proxy) ping() []byte {
	if p.cfg.Up == nil || p.cfg.Up() {
		return okReply
	}
	return errReply
}

var (
	errReply = wire.AppendReply(nil, wire.Reply{Code: wire.CodeErr})
	okReply  = wire.AppendReply(nil, wire.Reply{Code: wire.CodeOK})
)

// closeWrite shuts the sending side first, so the client sees its last reply then EOF.
func closeWrite(nc net.Conn) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}
