package gibsontest

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gogibson/gogibson/internal/addr"
	"github.com/gogibson/gogibson/wire"
)

// hangGuard bounds every read in tests so a broken server fails a test instead of
// hanging it; it is never what a test asserts.
const hangGuard = 10 * time.Second

// quiet is how long a test waits to see that nothing arrives.
const quiet = 150 * time.Millisecond

type rawConn struct {
	t  testing.TB
	nc net.Conn
}

func dial(t testing.TB, s *Server) *rawConn {
	t.Helper()
	network, address, err := addr.Parse(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc}
}

func (c *rawConn) send(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// reply reads one whole reply frame, header included.
func (c *rawConn) reply() []byte {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(hangGuard))
	h := make([]byte, wire.HeaderSize)
	if _, err := io.ReadFull(c.nc, h); err != nil {
		c.t.Fatalf("reading reply header: %v", err)
	}
	body := make([]byte, binary.LittleEndian.Uint32(h[3:]))
	if _, err := io.ReadFull(c.nc, body); err != nil {
		c.t.Fatalf("reading %d-byte reply body: %v", len(body), err)
	}
	return append(h, body...)
}

// do sends one request frame and returns its reply.
func (c *rawConn) do(op wire.Opcode, args ...string) []byte {
	c.t.Helper()
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	c.send(wire.AppendRequest(nil, op, bs...))
	return c.reply()
}

// expectClosed asserts the server closes the connection without sending anything.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(hangGuard))
	b := make([]byte, 64)
	n, err := c.nc.Read(b)
	if n > 0 {
		c.t.Fatalf("got %x, want the connection closed without a reply", b[:n])
	}
	if !isClosed(err) {
		c.t.Fatalf("read error %v, want EOF or connection reset", err)
	}
}

func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// expectSilence asserts nothing arrives for a while and the connection stays open.
func (c *rawConn) expectSilence() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(quiet))
	b := make([]byte, 64)
	n, err := c.nc.Read(b)
	if n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		c.t.Fatalf("got %x (%v), want nothing", b[:n], err)
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func status(c wire.Code) []byte { return appendStatus(nil, c) }

func number(v int64) []byte { return appendNumber(nil, v) }

func value(v string) []byte { return appendValue(nil, []byte(v)) }

func frame(op wire.Opcode, payload string) []byte {
	return wire.AppendRequest(nil, op, []byte(payload))
}

// kvEntry is one decoded KVAL entry; numbers are given as decimal text.
type kvEntry struct {
	key, value string
	enc        wire.Encoding
}

// kvEntries decodes a KVAL reply.
func kvEntries(t testing.TB, rep []byte) []kvEntry {
	t.Helper()
	if len(rep) < wire.HeaderSize+4 || wire.Code(binary.LittleEndian.Uint16(rep)) != wire.CodeKVal {
		t.Fatalf("not a KVAL reply: %x", rep[:min(len(rep), 16)])
	}
	b := rep[wire.HeaderSize:]
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	var es []kvEntry
	for i := uint32(0); i < n; i++ {
		kl := binary.LittleEndian.Uint32(b)
		e := kvEntry{key: string(b[4 : 4+kl])}
		b = b[4+kl:]
		e.enc = wire.Encoding(b[0])
		vl := binary.LittleEndian.Uint32(b[1:])
		v := b[5 : 5+vl]
		b = b[5+vl:]
		e.value = string(v)
		if e.enc == wire.EncNumber {
			e.value = itoa(int64(binary.LittleEndian.Uint64(v)))
		}
		es = append(es, e)
	}
	if len(b) != 0 {
		t.Fatalf("KVAL reply has %d trailing bytes", len(b))
	}
	return es
}

// kvPairs decodes a KVAL reply into key/value pairs.
func kvPairs(t testing.TB, rep []byte) [][2]string {
	t.Helper()
	var pairs [][2]string
	for _, e := range kvEntries(t, rep) {
		pairs = append(pairs, [2]string{e.key, e.value})
	}
	return pairs
}

func keysOf(pairs [][2]string) []string {
	var ks []string
	for _, p := range pairs {
		ks = append(ks, p[0])
	}
	return ks
}

func valuesOf(pairs [][2]string) []string {
	var vs []string
	for _, p := range pairs {
		vs = append(vs, p[1])
	}
	return vs
}

// poll reports whether cond holds within limit, checking every millisecond: the tests'
// one poll, for conditions no channel reports (a counter, a goroutine count).
func poll(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			return cond()
		}
	}
	return true
}

// waitFor polls cond until it holds (a connection goroutine finishing in the background,
// a counter reaching a value): a hang guard that fails the test after hangGuard, not a
// timing assertion.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	if !poll(hangGuard, cond) {
		t.Fatalf("condition not reached within %v", hangGuard)
	}
}

// goroutinesBack waits up to limit for the goroutine count to fall to before, and reports
// (with every goroutine's stack) when it does not.
func goroutinesBack(t testing.TB, before int, limit time.Duration) {
	t.Helper()
	if !poll(limit, func() bool { return runtime.NumGoroutine() <= before }) {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after Close:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	}
}
