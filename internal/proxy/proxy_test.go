package proxy_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/internal/proxy"
	"github.com/gogibson/gogibson/wire"
)

// fixture is a proxy on a unix socket in front of a Ring (Segment ":") of three embedded
// servers.
type fixture struct {
	p      *proxy.Proxy
	addr   string
	ring   *client.Ring
	shards map[string]*gibsontest.Server
}

func newFixture(t testing.TB, cfg proxy.Config) *fixture {
	t.Helper()
	f := &fixture{shards: map[string]*gibsontest.Server{}}
	m := map[string]string{}
	for _, n := range []string{"a", "b", "c"} {
		f.shards[n] = gibsontest.NewServer(t, gibsontest.WithTCP())
		m[n] = f.shards[n].Addr()
	}
	r, err := client.NewRing(context.Background(), client.RingConfig{Shards: m, Segment: ":", HeartbeatInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	f.ring = r
	cfg.Batch = func() proxy.Batcher { return r.Batch() }
	cfg.Exec = r
	f.p, f.addr = startProxy(t, cfg)
	return f
}

// startProxy serves cfg on a unix socket until the test ends and returns it and the path.
func startProxy(t testing.TB, cfg proxy.Config) (*proxy.Proxy, string) {
	t.Helper()
	p := proxy.New(cfg)
	path := filepath.Join(t.TempDir(), "proxy.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go p.Serve(l)
	t.Cleanup(func() { p.Close() })
	return p, path
}

func (f *fixture) dial(t testing.TB) net.Conn {
	t.Helper()
	nc, err := net.Dial("unix", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// exchange writes frames in one write and reads as many replies, returning their bytes.
func exchange(t testing.TB, nc net.Conn, frames [][]byte) [][]byte {
	t.Helper()
	var all []byte
	for _, fr := range frames {
		all = append(all, fr...)
	}
	if _, err := nc.Write(all); err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, 0, len(frames))
	for range frames {
		out = append(out, readReply(t, nc))
	}
	return out
}

func readReply(t testing.TB, nc net.Conn) []byte {
	t.Helper()
	hdr := make([]byte, 7)
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(nc, hdr); err != nil {
		t.Fatalf("reading a reply: %v", err)
	}
	body := make([]byte, binary.LittleEndian.Uint32(hdr[3:]))
	if _, err := io.ReadFull(nc, body); err != nil {
		t.Fatalf("reading a reply body: %v", err)
	}
	return append(hdr, body...)
}

func frame(op wire.Opcode, args ...string) []byte {
	var bs [][]byte
	for _, a := range args {
		bs = append(bs, []byte(a))
	}
	return wire.AppendRequest(nil, op, bs...)
}

// script is a sequence of requests whose replies a single server and the proxy must give
// byte for byte alike; its prefixes hold a segment, so each lives on one shard.
var script = [][]byte{
	frame(1, "0", "user:1", "alice"), frame(1, "0", "user:2", "bob"), frame(1, "0", "user:3", "carol"),
	frame(1, "0", "cart:1", "x"), frame(1, "0", "n:1", "41"),
	frame(3, "user:1"), frame(3, "missing:1"), frame(5, "n:1"), frame(6, "n:1"), frame(5, "user:1"),
	frame(11, "user:"), frame(11, "user:", "2"), frame(21, "user:"), frame(17, "user:"), frame(17, "nothing:"),
	frame(7, "user:2", "10"), frame(1, "0", "user:2", "again"), frame(8, "user:2"),
	frame(2, "cart:1", "100"), frame(20, "cart:1", "ttl"), frame(20, "user:1", "size"), frame(20, "user:1", "bogus"),
	frame(9, "user:", "same"), frame(11, "user:"), frame(13, "n:"), frame(14, "n:"), frame(15, "cart:", "5"), frame(16, "cart:"),
	frame(12, "user:"), frame(11, "user:"), frame(4, "cart:1"), frame(4, "cart:1"), frame(3, "foo bar"),
	frame(19), frame(1, "0", "k", "v with spaces"), frame(3, "k"),
}

// The proxy answers every command of the script, pipelined, exactly as one server does.
func TestProxyMatchesOneServer(t *testing.T) {
	f := newFixture(t, proxy.Config{})
	one := gibsontest.NewServer(t)
	direct, err := net.Dial("unix", strings.TrimPrefix(one.Addr(), "unix://"))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	// The clocks must agree for META ttl and access times: both stopped at the same second.
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	one.SetTime(at)
	for _, s := range f.shards {
		s.SetTime(at)
	}
	want := exchange(t, direct, script)
	got := exchange(t, f.dial(t), script)
	for i := range script {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("request %d (% x):\n proxy  % x\n server % x", i, script[i][4:min(len(script[i]), 24)], got[i], want[i])
		}
	}
}

// END is answered OK, after the replies of the requests before it, then the connection
// closes; an unknown opcode or a bad length closes it with no reply, as on the reference.
func TestProxyEndAndBadFrames(t *testing.T) {
	f := newFixture(t, proxy.Config{MaxRequestSize: 64})
	nc := f.dial(t)
	got := exchange(t, nc, [][]byte{frame(1, "0", "a:1", "v"), frame(3, "a:1"), frame(255)})
	if got[2][0] != byte(wire.CodeOK) || !bytes.Equal(got[1][7:], []byte("v")) {
		t.Fatalf("SET, GET, END: % x", got)
	}
	if n, err := nc.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after END: read %d, %v; want EOF", n, err)
	}
	for name, bad := range map[string][]byte{
		"unknown opcode": frame(99, "x"),
		"length 1":       {1, 0, 0, 0, 3},
		"too long":       frame(3, strings.Repeat("k", 100)),
	} {
		nc := f.dial(t)
		nc.Write(bad)
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, err := nc.Read(make([]byte, 8)); err != io.EOF {
			t.Errorf("%s: read %d, %v; want EOF and no reply", name, n, err)
		}
	}
}

// Many client connections share the Ring's connections: each shard sees at most the Ring's
// pool size, whatever the number of clients.
func TestProxySharesShardConnections(t *testing.T) {
	f := newFixture(t, proxy.Config{})
	var wg sync.WaitGroup
	for i := range 200 {
		nc := f.dial(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprint("k", i%7, ":x")
			got := exchange(t, nc, [][]byte{frame(1, "0", key, "v"), frame(3, key)})
			if !bytes.Equal(got[1][7:], []byte("v")) {
				t.Errorf("GET through the proxy: % x", got[1])
			}
		}()
	}
	wg.Wait()
	if f.p.Clients() != 200 {
		t.Errorf("%d clients open; want 200", f.p.Clients())
	}
	for name, s := range f.shards {
		if n := s.Connections(); n > client.DefaultPoolSize {
			t.Errorf("shard %s accepted %d connections for 200 clients; want at most the pool size %d", name, n, client.DefaultPoolSize)
		}
	}
}

// A dead shard fails only what needs it: keys on other shards answer, a fanned-out command
// that missed it is ERR (never a partial count presented as whole), PING stays OK while a
// shard is up.
func TestProxyShardDown(t *testing.T) {
	f := newFixture(t, proxy.Config{Up: func() bool { return true }})
	nc := f.dial(t)
	var onA, onB string
	for i := 0; onA == "" || onB == ""; i++ {
		k := fmt.Sprint("s", i, ":k")
		switch f.ring.ShardFor(k) {
		case "a":
			onA = k
		case "b":
			onB = k
		}
	}
	exchange(t, nc, [][]byte{frame(1, "0", onA, "va"), frame(1, "0", onB, "vb")})
	f.shards["b"].Close()
	got := exchange(t, nc, [][]byte{frame(3, onA), frame(3, onB), frame(17, "s"), frame(19)})
	if !bytes.Equal(got[0][7:], []byte("va")) {
		t.Errorf("GET of a live shard's key: % x", got[0])
	}
	if got[1][0] != byte(wire.CodeErr) || got[2][0] != byte(wire.CodeErr) {
		t.Errorf("GET of the dead shard's key % x, COUNT over all % x; want ERR both", got[1], got[2])
	}
	if got[3][0] != byte(wire.CodeOK) {
		t.Errorf("PING with a shard up: % x", got[3])
	}
	// The same one request at a time (a request alone skips the batch).
	for _, tc := range []struct {
		fr   []byte
		code wire.Code
	}{{frame(3, onA), wire.CodeVal}, {frame(3, onB), wire.CodeErr}, {frame(17, "s"), wire.CodeErr}} {
		if got := exchange(t, nc, [][]byte{tc.fr}); got[0][0] != byte(tc.code) {
			t.Errorf("alone, % x: reply % x; want code %d", tc.fr[4:], got[0], tc.code)
		}
	}
}

// Clients declaring large requests and sending nothing more cost the proxy next to nothing:
// the buffer grows with the bytes that arrive (as gibson serve's). The requests then work.
func TestProxyDeclaredSizeNotAllocated(t *testing.T) {
	f := newFixture(t, proxy.Config{MaxRequestSize: 4 << 20})
	const conns = 100
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	val := strings.Repeat("v", 3<<20)
	req := frame(1, "0", "big:1", val)
	cs := make([]net.Conn, conns)
	for i := range cs {
		cs[i] = f.dial(t)
		cs[i].Write(req[:7]) // the length, the opcode and one byte
	}
	if !waitFor(func() bool { return f.p.PartialRequests() == conns }) {
		t.Fatalf("%d clients part-way through a request; want %d", f.p.PartialRequests(), conns)
	}
	runtime.ReadMemStats(&ms)
	if grew := ms.TotalAlloc - before; grew > 32<<20 {
		t.Errorf("%d headers declaring 3 MiB allocated %d MiB; want the buffers to grow only with data", conns, grew>>20)
	}
	cs[0].Write(req[7:])
	if got := readReply(t, cs[0]); got[0] != byte(wire.CodeVal) { // the echo, cut at the shard's max_value_size
		t.Fatalf("the large SET, sent in full: reply of %d bytes, code %d", len(got), got[0])
	}
}

// waitFor polls cond, the proxy's own counters, for up to 10 s: a hang guard.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); !cond(); runtime.Gosched() {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}
