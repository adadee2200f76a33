package gibsontest

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

func TestFailNextReplyMidway(t *testing.T) {
	s := NewServer(t)
	c := dial(t, s)
	c.do(generated.OpSet, "0", "k", "hello")
	s.FailNextReplyMidway()
	c.send(frame(generated.OpGet, "k"))
	c.nc.SetReadDeadline(time.Now().Add(hangGuard))
	got, err := io.ReadAll(c.nc)
	if err != nil && !isClosed(err) {
		t.Fatal(err)
	}
	full := value("hello")
	if len(got) == 0 || len(got) >= len(full) || !bytes.HasPrefix(full, got) {
		t.Errorf("got %x before the close, want a strict prefix of %x", got, full)
	}
	eq(t, "next connection is fine", dial(t, s).do(generated.OpGet, "k"), full)
}

func TestGarbleNextReply(t *testing.T) {
	s := NewServer(t)
	c := dial(t, s)
	s.GarbleNextReply()
	got := c.do(generated.OpPing)
	var r wire.Reader
	r.Feed(got)
	if _, _, err := r.Next(); err == nil {
		t.Errorf("garbled reply %x decodes without error", got)
	}
	eq(t, "connection stays open", c.do(generated.OpPing), status(wire.CodeOK))
}

func TestReplyDelay(t *testing.T) {
	s := NewServer(t)
	c := dial(t, s)
	s.SetReplyDelay(time.Hour)
	c.send(frame(generated.OpPing, ""))
	c.expectSilence()
	s.SetReplyDelay(0)
	// The pending reply still waits out its hour; a new connection is not delayed and
	// closing the old one ends its wait.
	eq(t, "undelayed", dial(t, s).do(generated.OpPing), status(wire.CodeOK))
	s.CloseClientConnections()
	c.expectClosed()
}

func TestCloseClientConnections(t *testing.T) {
	s := NewServer(t)
	c1, c2 := dial(t, s), dial(t, s)
	c1.do(generated.OpPing)
	c2.do(generated.OpSet, "0", "k", "v")
	s.CloseClientConnections()
	if n := s.ActiveConnections(); n != 0 {
		t.Errorf("ActiveConnections = %d after CloseClientConnections", n)
	}
	c1.expectClosed()
	c2.expectClosed()
	eq(t, "still listening, data kept", dial(t, s).do(generated.OpGet, "k"), value("v"))
}

func TestRestart(t *testing.T) {
	for _, opt := range []Option{WithTCP(), WithAddr("")} {
		s := NewServer(t, opt)
		addr := s.Addr()
		c := dial(t, s)
		c.do(generated.OpSet, "0", "k", "v")
		if err := s.Restart(); err != nil {
			t.Fatal(err)
		}
		c.expectClosed()
		if s.Addr() != addr {
			t.Errorf("address changed from %s to %s", addr, s.Addr())
		}
		eq(t, "data lost", dial(t, s).do(generated.OpGet, "k"), status(wire.CodeNotFound))
		if n := s.Connections(); n != 1 {
			t.Errorf("Connections after restart = %d, want 1", n)
		}
	}
}

// TestNoGoroutinesAfterClose: Close waits for the accept loop, the cron and every
// connection, including ones blocked in a reply delay or a half-sent frame.
func TestNoGoroutinesAfterClose(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, opt := range []Option{WithTCP(), WithAddr("")} {
		s, err := Start(opt)
		if err != nil {
			t.Fatal(err)
		}
		c := dial(t, s)
		c.do(generated.OpSet, "0", "k", strings.Repeat("x", 1000))
		dial(t, s).send([]byte{100, 0, 0, 0, 3, 0, 'k'}) // half a frame
		s.SetReplyDelay(time.Hour)
		c.send(frame(generated.OpGet, "k"))
		if err := s.Restart(); err != nil {
			t.Fatal(err)
		}
		dial(t, s).send(frame(generated.OpPing, ""))
		s.Close()
		s.Close()
		if err := s.Restart(); err == nil {
			t.Error("Restart after Close succeeded")
		}
	}
	// Client-side conns closed by t.Cleanup later are not goroutines; only runtime helpers
	// (e.g. the netpoller's timers) may take a moment to go.
	goroutinesBack(t, before, hangGuard)
}

// FuzzServerRequests feeds arbitrary byte streams to a connection: the server must never
// panic or hang, and must answer every complete request until it closes the connection.
func FuzzServerRequests(f *testing.F) {
	for _, seed := range [][]byte{
		frame(generated.OpSet, "0 k v"), frame(generated.OpGet, "k"), frame(generated.OpMGet, "k 2"),
		frame(generated.OpMeta, "k l"), frame(generated.OpSet, "0 k"), frame(generated.OpTTL, "k"),
		{2, 0, 0, 0, 99, 0}, {1, 0, 0, 0, 0}, []byte("GET / HTTP/1.0\r\n\r\n"),
		append(frame(generated.OpKeys, "k"), frame(generated.OpEnd, "")...),
	} {
		f.Add(seed)
	}
	s, err := Start(WithConfig(func() Config {
		c := DefaultConfig()
		c.MaxRequestSize, c.MaxKeySize, c.MaxValueSize, c.Compression = 4096, 16, 64, 8
		return c
	}()), WithClock(clock0))
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		c := dial(t, s)
		c.send(append(data, frame(generated.OpPing, "")...)) // a final PING marks the end
		c.nc.(interface{ CloseWrite() error }).CloseWrite()
		c.nc.SetReadDeadline(time.Now().Add(hangGuard))
		got, err := io.ReadAll(c.nc)
		if err != nil && !isClosed(err) {
			t.Fatalf("reading replies: %v", err)
		}
		var r wire.Reader
		r.Feed(got)
		for {
			_, ok, err := r.Next()
			if err != nil {
				t.Fatalf("malformed reply stream %x: %v", got, err)
			}
			if !ok {
				break
			}
		}
		if r.Buffered() != 0 {
			t.Fatalf("%d bytes of a partial reply", r.Buffered())
		}
		s.Flush()
	})
}

// FuzzSplitPayload checks the argument parser's invariants on its own.
func FuzzSplitPayload(f *testing.F) {
	f.Add([]byte("0 key value"), uint8(4), 8, 4)
	f.Fuzz(func(t *testing.T, p []byte, sh uint8, k, v int) {
		k, v = 1+abs(k)%64, 1+abs(v)%64
		a, ok := splitPayload(shape(sh%5), p, k, v)
		if !ok {
			return
		}
		if len(a.key) > k || bytes.IndexByte(a.key, ' ') >= 0 || len(a.rest) > v {
			t.Fatalf("key %q rest %q break the limits %d/%d", a.key, a.rest, k, v)
		}
		if shape(sh%5) != shapeNone && len(a.key) == 0 {
			t.Fatalf("empty key accepted from %q", p)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
