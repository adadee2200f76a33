package gibsontest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gogibson/gogibson/internal/addr"
	"github.com/gogibson/gogibson/wire"
)

// Hostile is a Gibson server that misbehaves on purpose, for testing how a client copes
// with a server that wedges, dribbles, talks out of turn or stops reading: it forwards each
// request frame to an embedded, well-behaved Server and relays its reply byte for byte,
// except where a fault is armed. Create one with NewHostile in tests or StartHostile
// elsewhere; all methods are safe for concurrent use.
//
// Every client connection gets its own connection to the embedded Server and is served by
// one goroutine that handles one request at a time: it reads a whole request frame,
// forwards it, reads the whole reply and writes it back. Pipelined requests therefore work
// but are answered one by one. What the embedded Server does is mirrored: a reply it cuts
// short (Server.FailNextReplyMidway) is relayed as far as it got and the client connection
// is then closed; a request it closes the connection for (an unknown opcode, END after its
// reply) closes the client connection the same way; its own faults (GarbleNextReply,
// SetReplyDelay) pass through unchanged. A request frame whose length is below 2 or above
// the embedded Server's MaxRequestSize closes the client connection, as the Server does.
// Request bytes are buffered as they arrive, never by a size a frame declares.
//
// Faults are armed with StallAt, DripNextReply, ExtraReplyAfter, SendOnAccept,
// StopReadingAt and DeclareHugeAndStall, and disarmed with Disarm. Each except SendOnAccept
// fires once. Counting for the "nth request" faults starts when the fault is armed and spans
// all connections: the nth request is the nth request frame received by any connection
// after arming (1 is the next one), including frames received and discarded by stalled
// connections. The "next reply" faults apply to the next reply relayed on any connection,
// which may be the reply to a request already in flight when the fault was armed.
//
// A stalled connection (StallAt, StopReadingAt, DeclareHugeAndStall) stays open until the
// client closes it or sends a frame with a bad length, or until CloseClientConnections or
// Close: the Hostile never gives up on it.
type Hostile struct {
	inner            *Server
	ln               net.Listener
	network, address string // where the Hostile listens
	tempDir          string // directory of the default unix socket, removed by Close
	maxFrame         int64  // largest request frame length accepted

	mu         sync.Mutex // the fields below
	conns      map[*hostileConn]struct{}
	accepted   int
	requests   int
	stalled    int
	stallAt    int // request number (of h.requests) that stalls its connection; 0: disarmed
	stopAt     int // request number after whose reply reading stops; 0: disarmed
	drip       time.Duration
	dripArmed  bool
	extra      []byte
	extraDelay time.Duration
	extraArmed bool
	huge       uint32
	hugeArmed  bool
	greeting   []byte
	closed     bool

	closeOnce sync.Once
	wg        sync.WaitGroup
}

// hostileExtra is the frame ExtraReplyAfter writes when given nil: REPL_VAL, plain
// encoding, the 5 bytes "extra".
var hostileExtra = []byte{byte(wire.CodeVal), 0, byte(wire.EncPlain), 5, 0, 0, 0, 'e', 'x', 't', 'r', 'a'}

// hostileHugeBytes is how many payload bytes DeclareHugeAndStall sends after its header.
const hostileHugeBytes = 16

// hostileSmallReadBuffer is the SO_RCVBUF asked for on a connection StopReadingAt stops
// reading, so that less of a client's write is absorbed before it blocks.
const hostileSmallReadBuffer = 4096

// NewHostile starts a Hostile for a test and closes it when the test ends; it fails the
// test if it cannot start. opts are those of NewServer and configure the embedded Server;
// see StartHostile for where the Hostile itself listens.
func NewHostile(t testing.TB, opts ...Option) *Hostile {
	t.Helper()
	h, err := StartHostile(opts...)
	if err != nil {
		t.Fatalf("gibsontest: %v", err)
	}
	t.Cleanup(h.Close)
	return h
}

// StartHostile starts a Hostile; call Close when done with it. opts are those of
// NewServer and configure the embedded Server, which listens where they say. The Hostile
// listens on a fresh address of the same kind: a unix socket in a new temporary directory
// when the Server is on a unix socket (the default), else a free TCP port on the Server's
// host (WithTCP: loopback).
func StartHostile(opts ...Option) (*Hostile, error) {
	inner, err := Start(opts...)
	if err != nil {
		return nil, err
	}
	h := &Hostile{inner: inner, maxFrame: inner.Config().MaxRequestSize,
		conns: make(map[*hostileConn]struct{})}
	network, address, err := addr.Parse(inner.Addr())
	if err == nil {
		if network == "unix" {
			h.tempDir, err = os.MkdirTemp("", "gibh")
			address = filepath.Join(h.tempDir, "h.sock")
		} else {
			var host string
			host, _, err = net.SplitHostPort(address)
			address = net.JoinHostPort(host, "0")
		}
	}
	if err == nil {
		h.ln, err = net.Listen(network, address)
	}
	if err != nil {
		inner.Close()
		if h.tempDir != "" {
			os.RemoveAll(h.tempDir)
		}
		return nil, fmt.Errorf("hostile listener: %w", err)
	}
	h.network, h.address = network, address
	if network != "unix" {
		h.address = h.ln.Addr().String()
	}
	h.wg.Add(1)
	go h.acceptLoop()
	return h, nil
}

// Addr returns the address clients dial: "unix:///path" or "host:port".
func (h *Hostile) Addr() string { return addr.String(h.network, h.address) }

// Server returns the well-behaved server behind the Hostile, to seed data, read its
// counters or arm its own faults. Its Connections count one connection per client
// connection the Hostile accepted; closing it makes every relayed request fail.
func (h *Hostile) Server() *Server { return h.inner }

// Close stops listening, closes every client connection (stalled ones included) and the
// embedded Server, waits for all of the Hostile's goroutines to finish and removes its
// socket file. Later calls do nothing; concurrent calls return once the first is done.
func (h *Hostile) Close() {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.closed = true
		conns := h.openConns()
		h.mu.Unlock()
		h.ln.Close()
		for _, c := range conns {
			c.close()
		}
		h.wg.Wait()
		h.inner.Close()
		if h.tempDir != "" {
			os.RemoveAll(h.tempDir)
		}
	})
}

// openConns lists the open client connections; h.mu must be held.
func (h *Hostile) openConns() []*hostileConn {
	list := make([]*hostileConn, 0, len(h.conns))
	for c := range h.conns {
		list = append(list, c)
	}
	return list
}

// Connections returns the number of client connections accepted so far.
func (h *Hostile) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.accepted
}

// Requests returns the number of request frames received so far on all connections,
// those discarded by stalled connections included; frames with a bad length are not
// counted.
func (h *Hostile) Requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests
}

// StalledConnections returns the number of open client connections currently wedged by
// StallAt, StopReadingAt or DeclareHugeAndStall.
func (h *Hostile) StalledConnections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stalled
}

// CloseClientConnections closes every open client connection, stalled ones included, and
// waits until they are gone; the Hostile keeps listening and armed faults stay armed.
func (h *Hostile) CloseClientConnections() {
	h.mu.Lock()
	conns := h.openConns()
	h.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	for _, c := range conns {
		<-c.exited
	}
}

// Disarm disarms every fault, SendOnAccept included. Connections already stalled stay
// stalled, an extra reply already scheduled is still written, and a reply already being
// dripped is dripped to its end.
func (h *Hostile) Disarm() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stallAt, h.stopAt = 0, 0
	h.dripArmed, h.extraArmed, h.hugeArmed = false, false, false
	h.extra, h.greeting = nil, nil
}

// StallAt makes the nth request get no reply, nor any later request on its connection:
// from then on the connection keeps being read, but its requests are discarded without
// being forwarded (the embedded Server never sees them) and it stays open and silent. This
// is a server wedged on one connection while the others work normally. n must be at
// least 1; StallAt panics otherwise.
func (h *Hostile) StallAt(n int) {
	hostileCheckN("StallAt", n)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stallAt = h.requests + n
}

// StopReadingAt makes the connection that receives the nth request stop reading: the nth
// request is forwarded and its reply relayed, and then that connection is never read again
// but stays open. Its receive buffer is shrunk (SO_RCVBUF) where the platform allows, but
// the client's own socket buffers still absorb a write of up to a few MiB before it blocks
// (on Linux loopback: about 200 KiB on a unix socket, up to about 4 MiB over TCP), so a test
// that needs a blocked write should write more than that. Bytes already buffered by the
// Hostile beyond the nth request are discarded. n must be at least 1; StopReadingAt
// panics otherwise.
func (h *Hostile) StopReadingAt(n int) {
	hostileCheckN("StopReadingAt", n)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopAt = h.requests + n
}

// DripNextReply makes the next reply be written one byte at a time, every apart (the
// whole reply takes its length minus one times every). Meanwhile that connection reads no
// request. every <= 0 writes the bytes one by one with no pause.
func (h *Hostile) DripNextReply(every time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drip, h.dripArmed = max(every, 0), true
}

// ExtraReplyAfter makes the connection that gets the next reply also receive frame, d
// after that reply was relayed, with no request pending: a server answering one time too
// many. frame is written as given (it should be a whole reply frame; a client must treat
// it as a protocol violation); nil writes a valid REPL_VAL plain reply holding "extra". If
// a request arrives within d (even partly), the extra frame waits until the connection has
// again been idle for d after a reply; it is dropped if the connection stalls or closes
// first. The frame is copied.
func (h *Hostile) ExtraReplyAfter(d time.Duration, frame []byte) {
	if frame == nil {
		frame = hostileExtra
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.extra, h.extraDelay, h.extraArmed = append([]byte(nil), frame...), max(d, 0), true
}

// SendOnAccept makes every connection accepted from now on receive b before its first
// request is read: a server that speaks first. It stays armed until Disarm or a later call
// (nil or empty disarms it); b is copied. The connection is then relayed as usual.
func (h *Hostile) SendOnAccept(b []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.greeting = append([]byte(nil), b...)
	if len(b) == 0 {
		h.greeting = nil
	}
}

// DeclareHugeAndStall replaces the next reply with a reply header declaring size payload
// bytes (code REPL_VAL, plain encoding) followed by min(size, 16) bytes 'x', and then
// nothing: the request was executed by the embedded Server, but the connection stalls as
// with StallAt, open, read and silent. It exercises a client that allocates a declared
// size before the bytes arrive, or waits for them forever.
func (h *Hostile) DeclareHugeAndStall(size uint32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.huge, h.hugeArmed = size, true
}

func hostileCheckN(name string, n int) {
	if n < 1 {
		panic(fmt.Sprintf("gibsontest: Hostile.%s(%d): n counts requests from 1 (the next one)", name, n))
	}
}

// acceptLoop accepts client connections until the listener closes.
func (h *Hostile) acceptLoop() {
	defer h.wg.Done()
	for {
		nc, err := h.ln.Accept()
		if err != nil {
			h.mu.Lock()
			closed := h.closed
			h.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(5 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			nc.Close()
			return
		}
		c := &hostileConn{h: h, nc: nc, greeting: h.greeting,
			done: make(chan struct{}), exited: make(chan struct{})}
		h.conns[c] = struct{}{}
		h.accepted++
		h.wg.Add(1)
		h.mu.Unlock()
		go c.serve()
	}
}
