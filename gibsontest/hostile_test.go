package gibsontest_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/internal/addr"
	"github.com/gogibson/gogibson/wire"
)

// hostileGuard bounds every read that expects data, so a broken Hostile fails a test
// instead of hanging it; no test asserts it.
const hostileGuard = 5 * time.Second

// hostileStatus is the payload of a status reply (OK, NOT_FOUND, …): one zero byte.
const hostileStatus = "\x00"

// hostileQuiet is how long a test watches a connection to see that nothing arrives.
const hostileQuiet = 150 * time.Millisecond

var hostileTransports = []struct {
	name string
	opts []gibsontest.Option
}{
	{"unix", nil},
	{"tcp", []gibsontest.Option{gibsontest.WithTCP()}},
}

// hostileEachTransport runs f on a fresh Hostile over a unix socket and over TCP, in parallel
// with each other and with the other tests that use it.
func hostileEachTransport(t *testing.T, f func(t *testing.T, h *gibsontest.Hostile)) {
	t.Parallel()
	for _, tr := range hostileTransports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			f(t, gibsontest.NewHostile(t, tr.opts...))
		})
	}
}

// hostileConn is a raw client connection to a Hostile.
type hostileConn struct {
	t  testing.TB
	nc net.Conn
	r  wire.Reader
}

func hostileDial(t testing.TB, h *gibsontest.Hostile) *hostileConn {
	t.Helper()
	return hostileDialAddr(t, h.Addr())
}

func hostileDialAddr(t testing.TB, a string) *hostileConn {
	t.Helper()
	network, address, err := addr.Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &hostileConn{t: t, nc: nc}
}

func (c *hostileConn) send(op wire.Opcode, args ...string) {
	c.t.Helper()
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	if _, err := c.nc.Write(wire.AppendRequest(nil, op, bs...)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// reply reads one whole reply; its Data is a copy.
func (c *hostileConn) reply() wire.Reply {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(hostileGuard))
	defer c.nc.SetReadDeadline(time.Time{})
	for {
		rep, ok, err := c.r.Next()
		if err != nil {
			c.t.Fatalf("reading reply: %v", err)
		}
		if ok {
			rep.Data = bytes.Clone(rep.Data)
			return rep
		}
		if n, err := c.r.Fill(c.nc); n == 0 && err != nil {
			c.t.Fatalf("reading reply: %v", err)
		}
	}
}

func (c *hostileConn) do(op wire.Opcode, args ...string) wire.Reply {
	c.t.Helper()
	c.send(op, args...)
	return c.reply()
}

// expect checks that the next reply has code and data.
func (c *hostileConn) expect(code wire.Code, data string) {
	c.t.Helper()
	if rep := c.reply(); rep.Code != code || string(rep.Data) != data {
		c.t.Fatalf("got %s %q, want %s %q", rep.Code, rep.Data, code, data)
	}
}

// raw reads exactly n bytes.
func (c *hostileConn) raw(n int) []byte {
	c.t.Helper()
	if c.r.Buffered() > 0 {
		c.t.Fatalf("%d reply bytes already buffered", c.r.Buffered())
	}
	c.nc.SetReadDeadline(time.Now().Add(hostileGuard))
	defer c.nc.SetReadDeadline(time.Time{})
	b := make([]byte, n)
	if _, err := io.ReadFull(c.nc, b); err != nil {
		c.t.Fatalf("reading %d bytes: %v", n, err)
	}
	return b
}

// silent checks that nothing arrives for hostileQuiet and the connection stays open.
func (c *hostileConn) silent() {
	c.t.Helper()
	if n := c.r.Buffered(); n > 0 {
		c.t.Fatalf("%d unexpected bytes buffered", n)
	}
	c.nc.SetReadDeadline(time.Now().Add(hostileQuiet))
	defer c.nc.SetReadDeadline(time.Time{})
	var b [64]byte
	n, err := c.nc.Read(b[:])
	if n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		c.t.Fatalf("wanted silence on an open connection, got %q, %v", b[:n], err)
	}
}

// closed checks that the connection is closed by the peer with nothing more sent.
func (c *hostileConn) closed() {
	c.t.Helper()
	if n := c.r.Buffered(); n > 0 {
		c.t.Fatalf("%d unexpected bytes buffered", n)
	}
	c.nc.SetReadDeadline(time.Now().Add(hostileGuard))
	b, err := io.ReadAll(c.nc)
	if len(b) > 0 || err != nil {
		c.t.Fatalf("wanted the connection closed with nothing sent, got %q, %v", b, err)
	}
}

func TestHostileRelays(t *testing.T) {
	hostileEachTransport(t, func(t *testing.T, h *gibsontest.Hostile) {
		if h.Addr() == h.Server().Addr() {
			t.Fatalf("Hostile and Server share the address %s", h.Addr())
		}
		c := hostileDial(t, h)
		value := "value"
		if rep := c.do(generated.OpSet, "0", "k", value); rep.Code != wire.CodeVal || string(rep.Data) != value {
			t.Fatalf("SET: %s %q", rep.Code, rep.Data)
		}
		c.send(generated.OpGet, "k")
		c.send(generated.OpPing)
		c.send(generated.OpGet, "missing")
		c.expect(wire.CodeVal, "value")
		c.expect(wire.CodeOK, hostileStatus)
		c.expect(wire.CodeNotFound, hostileStatus)
		if got := h.Requests(); got != 4 {
			t.Errorf("Requests() = %d, want 4", got)
		}
		if got := h.Server().Requests(); got != 4 {
			t.Errorf("Server().Requests() = %d, want 4", got)
		}
		if got := h.Server().Connections(); got != 1 {
			t.Errorf("Server().Connections() = %d, want 1", got)
		}
		if got := h.Connections(); got != 1 {
			t.Errorf("Connections() = %d, want 1", got)
		}

		// A large reply is relayed exactly as the Server sends it.
		value = strings.Repeat("v", 4000)
		for i := range 40 {
			c.do(generated.OpSet, "0", fmt.Sprint("big:", i), value)
		}
		direct := hostileDialAddr(t, h.Server().Addr())
		want := direct.do(generated.OpMGet, "big:")
		if got := c.do(generated.OpMGet, "big:"); got.Code != wire.CodeKVal || len(got.Data) < 40*4000 ||
			!bytes.Equal(got.Data, want.Data) {
			t.Errorf("MGET relayed as %s of %d bytes, want %s of %d", got.Code, len(got.Data), want.Code, len(want.Data))
		}

		// Faults of the embedded Server pass through byte for byte.
		h.Server().GarbleNextReply()
		c.send(generated.OpPing)
		if got := c.raw(8); !bytes.Equal(got, []byte{0xEE, 0xEE, 0, 1, 0, 0, 0, 0}) {
			t.Errorf("garbled reply relayed as % x", got)
		}

		// END is answered, then the connection closes.
		c.do(generated.OpEnd)
		c.closed()
		// An unknown opcode closes the connection without a reply, as the Server does.
		c = hostileDial(t, h)
		c.send(0x77)
		c.closed()
		// So does a frame length below 2, once more bytes come.
		c = hostileDial(t, h)
		c.nc.Write([]byte{1, 0, 0, 0, 0x13})
		c.closed()
		if got := h.Connections(); got != 3 {
			t.Errorf("Connections() = %d, want 3", got)
		}
	})
}

func TestHostileStallAt(t *testing.T) {
	hostileEachTransport(t, func(t *testing.T, h *gibsontest.Hostile) {
		a, b := hostileDial(t, h), hostileDial(t, h)
		a.do(generated.OpPing) // before arming: not counted
		h.StallAt(2)
		a.do(generated.OpPing)                                             // request 1 after arming
		a.send(generated.OpSet, "0", "k", "v")                             // request 2: stalls a
		a.silent()                                                         // no reply
		b.do(generated.OpPing)                                             // another connection still works
		b.expectDo(generated.OpGet, "k")(wire.CodeNotFound, hostileStatus) // the stalled SET was never executed
		a.send(generated.OpPing)                                           // later requests on a get nothing either
		a.silent()
		if got := h.StalledConnections(); got != 1 {
			t.Errorf("StalledConnections() = %d, want 1", got)
		}
		if got := h.Requests(); got != 6 {
			t.Errorf("Requests() = %d, want 6 (stalled ones included)", got)
		}
		h.CloseClientConnections()
		a.closed()
		if got := h.StalledConnections(); got != 0 {
			t.Errorf("StalledConnections() after CloseClientConnections = %d, want 0", got)
		}
		hostileDial(t, h).do(generated.OpPing)
	})
}

// expectDo sends a request and returns a check of its reply.
func (c *hostileConn) expectDo(op wire.Opcode, args ...string) func(wire.Code, string) {
	c.t.Helper()
	c.send(op, args...)
	return func(code wire.Code, data string) {
		c.t.Helper()
		c.expect(code, data)
	}
}

func TestHostileDripNextReply(t *testing.T) {
	hostileEachTransport(t, func(t *testing.T, h *gibsontest.Hostile) {
		c := hostileDial(t, h)
		value := strings.Repeat("v", 20)
		c.do(generated.OpSet, "0", "k", value)
		const every = 5 * time.Millisecond
		h.DripNextReply(every)
		start := time.Now()
		c.send(generated.OpGet, "k")
		want := append([]byte{byte(wire.CodeVal), 0, 0, 20, 0, 0, 0}, value...)
		var got []byte
		reads := 0
		c.nc.SetReadDeadline(time.Now().Add(hostileGuard))
		for len(got) < len(want) {
			var b [64]byte
			n, err := c.nc.Read(b[:])
			if err != nil {
				t.Fatalf("after %d bytes: %v", len(got), err)
			}
			got = append(got, b[:n]...)
			reads++
		}
		elapsed := time.Since(start)
		c.nc.SetReadDeadline(time.Time{})
		if !bytes.Equal(got, want) {
			t.Fatalf("dripped reply % x, want % x", got, want)
		}
		if reads < 2 {
			t.Errorf("the reply arrived in %d read(s)", reads)
		}
		if min := time.Duration(len(want)-1) * every; elapsed < min {
			t.Errorf("dripped reply took %v, less than %v", elapsed, min)
		}
		c.expectDo(generated.OpGet, "k")(wire.CodeVal, value) // only the next reply drips
	})
}

func TestHostileExtraReplyAfter(t *testing.T) {
	hostileEachTransport(t, func(t *testing.T, h *gibsontest.Hostile) {
		c := hostileDial(t, h)
		const d = 50 * time.Millisecond
		h.ExtraReplyAfter(d, nil)
		start := time.Now()
		c.expectDo(generated.OpPing)(wire.CodeOK, hostileStatus)
		c.expect(wire.CodeVal, "extra") // with no request pending
		if elapsed := time.Since(start); elapsed < d {
			t.Errorf("extra reply after %v, before %v", elapsed, d)
		}
		c.expectDo(generated.OpPing)(wire.CodeOK, hostileStatus)
		c.silent() // once only

		h.ExtraReplyAfter(0, []byte{byte(wire.CodeVal), 0, 0, 2, 0, 0, 0, 'h', 'i'})
		c.expectDo(generated.OpPing)(wire.CodeOK, hostileStatus)
		c.expect(wire.CodeVal, "hi")

		// A request sent within d is answered first; the extra frame waits for d of
		// idleness after that reply.
		h.ExtraReplyAfter(200*time.Millisecond, nil)
		c.expectDo(generated.OpPing)(wire.CodeOK, hostileStatus)
		c.expectDo(generated.OpGet, "nothing")(wire.CodeNotFound, hostileStatus)
		c.expect(wire.CodeVal, "extra")
	})
}

func TestHostileSendOnAccept(t *testing.T) {
	hostileEachTransport(t, func(t *testing.T, h *gibsontest.Hostile) {
		old := hostileDial(t, h)
		old.do(generated.OpPing) // accepted before arming
		h.SendOnAccept([]byte("hello"))
		c := hostileDial(t, h)
		if got := c.raw(5); string(got) != "hello" {
			t.Fatalf("got %q before any request, want hello", got)
		}
		c.expectDo(generated.OpPing)(wire.CodeOK, hostileStatus)
		old.expectDo(generated.OpPing)(wire.CodeOK, hostileStatus)
		hostileDial(t, h).raw(5) // still armed
		h.Disarm()
		c = hostileDial(t, h)
		c.expectDo(generated.OpPing)(wire.CodeOK, hostileStatus) // a greeting would break the reply
		c.silent()
	})
}

func TestHostileStopReadingAt(t *testing.T) {
	hostileEachTransport(t, func(t *testing.T, h *gibsontest.Hostile) {
		a, b := hostileDial(t, h), hostileDial(t, h)
		h.StopReadingAt(2)
		b.do(generated.OpPing)
		a.expectDo(generated.OpPing)(wire.CodeOK, hostileStatus) // request 2: relayed, then a is no longer read
		// 16 MiB is more than the kernel buffers of both ends hold, so the write blocks.
		big := make([]byte, 16<<20)
		a.nc.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := a.nc.Write(big)
		if !errors.Is(err, os.ErrDeadlineExceeded) || n == len(big) {
			t.Fatalf("16 MiB write to a connection no longer read: wrote %d, %v", n, err)
		}
		b.expectDo(generated.OpPing)(wire.CodeOK, hostileStatus)
		a.silent()
		if got := h.StalledConnections(); got != 1 {
			t.Errorf("StalledConnections() = %d, want 1", got)
		}
	})
}

func TestHostileDeclareHugeAndStall(t *testing.T) {
	hostileEachTransport(t, func(t *testing.T, h *gibsontest.Hostile) {
		for _, size := range []uint32{1 << 30, 5} {
			c := hostileDial(t, h)
			h.DeclareHugeAndStall(size)
			c.send(generated.OpPing)
			hdr := c.raw(wire.HeaderSize)
			code, enc, got := binary.LittleEndian.Uint16(hdr), hdr[2], binary.LittleEndian.Uint32(hdr[3:])
			if wire.Code(code) != wire.CodeVal || wire.Encoding(enc) != wire.EncPlain || got != size {
				t.Fatalf("header % x, want VAL plain of %d bytes", hdr, size)
			}
			if body := c.raw(int(min(size, 16))); string(body) != strings.Repeat("x", len(body)) {
				t.Fatalf("payload %q", body)
			}
			if size == 5 {
				c.send(generated.OpPing) // later requests get nothing either
			}
			c.silent()
		}
		if got := h.StalledConnections(); got != 2 {
			t.Errorf("StalledConnections() = %d, want 2", got)
		}
		hostileDial(t, h).expectDo(generated.OpPing)(wire.CodeOK, hostileStatus)
	})
}

func TestHostileDisarm(t *testing.T) {
	hostileEachTransport(t, func(t *testing.T, h *gibsontest.Hostile) {
		h.StallAt(1)
		h.StopReadingAt(1)
		h.DripNextReply(time.Hour)
		h.ExtraReplyAfter(0, nil)
		h.DeclareHugeAndStall(100)
		h.SendOnAccept([]byte("hello"))
		h.Disarm()
		c := hostileDial(t, h)
		c.expectDo(generated.OpPing)(wire.CodeOK, hostileStatus)
		c.silent()
		c.expectDo(generated.OpPing)(wire.CodeOK, hostileStatus)
		if got := h.StalledConnections(); got != 0 {
			t.Errorf("StalledConnections() = %d, want 0", got)
		}
	})
}

func TestHostileBadN(t *testing.T) {
	h := gibsontest.NewHostile(t)
	for name, f := range map[string]func(int){"StallAt": h.StallAt, "StopReadingAt": h.StopReadingAt} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), name) {
					t.Errorf("%s(0): panic %v, want one naming %s", name, r, name)
				}
			}()
			f(0)
		}()
	}
}

// TestHostileCloseNoLeak wedges connections in every way, closes the Hostile and checks
// that Close returns promptly, every client connection is closed and no goroutine remains.
func TestHostileCloseNoLeak(t *testing.T) {
	for _, tr := range hostileTransports {
		t.Run(tr.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			h, err := gibsontest.StartHostile(tr.opts...)
			if err != nil {
				t.Fatal(err)
			}
			var conns []*hostileConn
			dial := func() *hostileConn {
				c := hostileDial(t, h)
				conns = append(conns, c)
				return c
			}
			idle := dial()
			idle.do(generated.OpPing)

			h.StallAt(1)
			dial().send(generated.OpPing)
			hostileWaitFor(t, "a stalled connection", func() bool { return h.StalledConnections() == 1 })

			h.DeclareHugeAndStall(1 << 20)
			c := dial()
			c.send(generated.OpPing)
			c.raw(wire.HeaderSize + 16)

			h.DripNextReply(time.Hour)
			c = dial()
			c.send(generated.OpPing)
			c.raw(1)

			h.StopReadingAt(1)
			c = dial()
			c.do(generated.OpPing)
			var wg sync.WaitGroup
			wg.Go(func() { c.nc.Write(make([]byte, 16<<20)) }) // blocked until Close

			h.SendOnAccept(make([]byte, 16<<20)) // more than the client's buffers: blocks
			dial()

			hostileWaitFor(t, "6 connections, 3 stalled", func() bool {
				return h.Connections() == 6 && h.StalledConnections() == 3
			})

			done := make(chan struct{})
			go func() { h.Close(); close(done) }()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				t.Fatal("Close did not return within 2 s")
			}
			h.Close() // idempotent
			wg.Wait()
			for _, c := range conns {
				c.nc.SetReadDeadline(time.Now().Add(hostileGuard))
				if _, err := io.Copy(io.Discard, c.nc); err != nil && !hostileIsReset(err) {
					t.Errorf("client connection not closed: %v", err)
				}
				c.nc.Close()
			}
			hostileWaitFor(t, "the relay's goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
			if _, err := net.Dial("tcp", h.Addr()); tr.name == "tcp" && err == nil {
				t.Error("still accepting after Close")
			}
		})
	}
}

// hostileWaitFor polls cond until it holds, failing the test after hostileGuard.
func hostileWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(hostileGuard); !cond(); time.Sleep(time.Millisecond) { // this file's one poll
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", hostileGuard, what)
		}
	}
}

// hostileIsReset reports a connection reset, which closing a socket with unread data may cause.
func hostileIsReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && strings.Contains(op.Err.Error(), "reset")
}
