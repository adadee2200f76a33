package gibsontest

import (
	"encoding/binary"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/gogibson/gogibson/internal/netx"

	"github.com/gogibson/gogibson/wire"
)

const (
	readBufMin   = 16 << 10  // a connection's read buffer to start with and to return to
	readBufKeep  = 64 << 10  // larger read buffers are dropped once empty
	outBound     = 256 << 10 // pending replies are written once past this (back-pressure)
	keepOutSize  = 1 << 20   // larger output buffers are not kept between flushes
	frameMinimum = 2         // a frame's length counts at least the opcode
	yieldEvery   = 64        // requests of one batch between two yields of the processor
)

// conn is one client connection, served by one goroutine.
type conn struct {
	nc     net.Conn
	req    request
	once   sync.Once
	closed chan struct{} // closed by close: stop waiting (reply delay) and stop long walks
	exited chan struct{} // closed when the goroutine is done
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{nc: nc, closed: make(chan struct{}), exited: make(chan struct{})}
	c.req = request{s: s, closed: c.closed}
	return c
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.closed)
		c.nc.Close()
	})
}

// serve reads frames straight from a buffer, runs every complete one, and writes the
// collected replies when no complete frame is left or when they pass outBound, so
// pipelined requests are answered in order with few writes. While a write blocks, the
// connection reads nothing more (back-pressure): a connection holds at most about one
// maximal reply plus outBound of replies, and a read buffer that grows only as request
// bytes arrive (at most twice what it holds), never to a size a header merely declares.
func (s *Server) serve(c *conn) {
	defer func() {
		c.close()
		c.req.endStream()
		c.req.written()
		s.cmu.Lock()
		delete(s.open, c)
		s.cmu.Unlock()
		s.active.Add(-1)
		s.debug("connection closed", slog.String("remote", remoteName(c.nc)), slog.Int("active", int(s.active.Load())))
		close(c.exited)
		s.wg.Done()
	}()
	buf := make([]byte, readBufMin)
	r, w, ran := 0, 0, 0
	busy := time.Now() // since when the goroutine has run without waiting for input
	for {
		for w-r >= 4 {
			n := int64(binary.LittleEndian.Uint32(buf[r:]))
			if n < frameMinimum || n > s.cfg.MaxRequestSize {
				if w-r > 4 { // like the reference, act on a bad length when more bytes come
					s.flush(c)
					return
				}
				break
			}
			need := 4 + int(n)
			if w-r < need {
				break
			}
			op := wire.Opcode(binary.LittleEndian.Uint16(buf[r+4:]))
			payload := buf[r+6 : r+need]
			r += need
			if act := s.execute(c, op, payload); act != actReply {
				s.finalFlush(c)
				return
			}
			if c.req.stream != nil && !s.writeStream(c) {
				return
			}
			if c.req.pending() >= outBound && !s.flushPending(c, true) {
				return
			}
			if ran++; ran%yieldEvery == 0 {
				busy = s.yield(busy)
			}
		}
		if !s.flush(c) {
			return
		}
		switch {
		case r == w:
			r, w = 0, 0
			if len(buf) > readBufKeep {
				buf = make([]byte, readBufMin)
			}
		case r > 0:
			w = copy(buf, buf[r:w])
			r = 0
		}
		if w == len(buf) { // one partial frame fills the buffer: double it, up to its size
			need := 4 + int(binary.LittleEndian.Uint32(buf))
			grown := make([]byte, min(need, 2*len(buf)))
			w = copy(grown, buf[:w])
			buf = grown
		}
		before := time.Now()
		nr, err := c.nc.Read(buf[w:])
		if after := time.Now(); after.Sub(before) >= parkedRead {
			busy = after
		}
		w += nr
		if err != nil && nr == 0 {
			return
		}
	}
}

// yield lets other goroutines run in a long pipelined batch. A connection whose input
// never runs dry keeps its goroutine runnable, and then the Go scheduler looks for
// network input (another client's PING) only every 10 ms; so after maxBusy without
// waiting, the goroutine sleeps a moment, which makes the scheduler poll the network.
// It returns the new start of the busy period.
func (s *Server) yield(busy time.Time) time.Time {
	now := time.Now()
	if now.Sub(busy) < maxBusy {
		runtime.Gosched()
		return busy
	}
	time.Sleep(time.Microsecond)
	return time.Now()
}

// maxBusy is how long a connection runs requests without waiting before it sleeps a
// moment; parkedRead is how long a read must take to count as waiting for input.
const (
	maxBusy    = 2 * time.Millisecond
	parkedRead = 20 * time.Microsecond
)

// writeStream writes the streamed reply of the request just run (stream.go), outside
// the server lock, in pieces of about outBound; the replies before it go with its first
// piece and its last piece stays pending with the replies after it. Until it is written
// the connection reads and runs nothing more, so a client that does not read holds one
// snapshot and at most outBound plus one piece's overshoot of copied output.
func (s *Server) writeStream(c *conn) bool {
	req := &c.req
	delay := true // the reply delay applies once per reply, not per piece
	for !req.stream.fill(req, outBound) {
		if streamPiece != nil {
			streamPiece(len(req.out), cap(req.out))
		}
		if !s.flushPending(c, delay) {
			return false
		}
		delay = false
	}
	req.endStream()
	return true
}

// streamPiece, when set (tests), runs before each piece of a streamed reply is written
// (the lock is not held), with the copied (not referenced) bytes it holds and the size
// of the buffer holding them.
var streamPiece func(copied, capacity int)

// flushPending writes replies that passed outBound in the middle of a pipelined batch;
// a write that does not complete at once means the client is not reading (back-pressure).
func (s *Server) flushPending(c *conn, delay bool) bool {
	start, n := time.Now(), c.req.pending()
	ok := s.write(c, delay)
	if waited := time.Since(start); ok && waited >= slowWrite {
		if ok, missed := s.slowWarn.allow(s.logger); ok {
			s.logger.Warn("back-pressure: a client reads its replies slowly; its connection reads no requests until they drain",
				"remote", remoteName(c.nc), "pending_bytes", n, "waited", waited, "not_logged_since_last", missed)
		}
	}
	return ok
}

// slowWrite is how long a write of pending replies may take before it is logged.
const slowWrite = 100 * time.Millisecond

func remoteName(nc net.Conn) string {
	if a := nc.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return a.String()
	}
	return "unix"
}

// execute runs one request under the server lock and appends its reply to c.req.out.
func (s *Server) execute(c *conn, op wire.Opcode, payload []byte) action {
	req := &c.req
	start := len(req.out)
	s.mu.Lock()
	s.requests++
	cmd := lookupCommand(op)
	if cmd == nil {
		s.mu.Unlock()
		return actClose // unknown opcode: no reply, connection closed
	}
	req.now, req.st = s.nowTime().Unix(), s.st
	req.refsOK = s.faults.Load() == 0
	act := actReply
	if cmd.memCheck && s.st.used() > s.cfg.MaxMemory {
		req.status(wire.CodeMem)
		if ok, missed := s.memWarn.allow(s.logger); ok {
			s.logger.Warn("max_memory reached: "+cmd.verb+" refused with REPL_ERR_MEM",
				"memory_used", s.st.used(), "max_memory", s.cfg.MaxMemory, "not_logged_since_last", missed)
		}
	} else if a, ok := splitPayload(cmd.shape, payload, int(s.cfg.MaxKeySize), int(s.cfg.MaxValueSize)); !ok {
		req.status(wire.CodeErr)
	} else {
		req.a = a
		act = cmd.fn(req)
		req.a = args{}
	}
	s.mu.Unlock()
	if req.stream != nil && s.faults.Load() != 0 { // faults cut the reply by position
		req.stream.fill(req, int(^uint(0)>>1))
		req.endStream()
	}
	if cmd.closes && act == actReply {
		act = actCloseAfter
	}
	if act != actClose && s.faults.Load() != 0 {
		act = s.injectFault(req, start, act)
	}
	return act
}

// flush writes the collected replies, after the configured reply delay. It reports
// whether the connection is still usable.
func (s *Server) flush(c *conn) bool { return s.write(c, true) }

// write writes the collected replies, after the reply delay if delay is set.
func (s *Server) write(c *conn, delay bool) bool {
	req := &c.req
	out := req.out
	if len(out) == 0 && len(req.refs) == 0 {
		return true
	}
	if d := time.Duration(s.delay.Load()); d > 0 && delay {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.closed:
			t.Stop()
			return false
		}
	}
	var err error
	if len(req.refs) == 0 {
		_, err = c.nc.Write(out)
	} else {
		bufs := make(net.Buffers, 0, 2*len(req.refs)+1)
		at := 0
		for _, rf := range req.refs {
			if rf.at > at {
				bufs = append(bufs, out[at:rf.at])
			}
			bufs = append(bufs, rf.data)
			at = rf.at
		}
		if at < len(out) {
			bufs = append(bufs, out[at:])
		}
		_, err = bufs.WriteTo(c.nc)
		clear(req.refs)
		req.refs, req.refBytes = req.refs[:0], 0
		if cap(req.refs) > 1024 {
			req.refs = nil
		}
	}
	req.written()
	if cap(out) > keepOutSize {
		req.out = nil
	} else {
		req.out = out[:0]
	}
	return err == nil
}

// finalFlush writes the last replies of a connection that closes after them (END,
// a fault, an unknown opcode) and shuts its write side at once, so that the client sees
// the end of the stream right behind the reply, as from the reference server, whose
// loop closes in the same turn; the deferred close then follows.
func (s *Server) finalFlush(c *conn) {
	req := &c.req
	if s.delay.Load() > 0 || len(req.refs) > 0 {
		if !s.flush(c) {
			return
		}
	}
	if netx.WriteAndShut(c.nc, req.out) {
		req.out = req.out[:0]
		return
	}
	if s.flush(c) {
		if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
	}
}
