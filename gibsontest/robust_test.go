package gibsontest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// Robustness: bounded memory per connection, prompt shutdown, walks that let others in.

// bigValueServer stores a random (incompressible) value of size bytes under "big".
func bigValueServer(t *testing.T, size int) (*Server, []byte) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.MaxValueSize, cfg.MaxRequestSize, cfg.Compression = 4<<20, 8<<20, 1<<40
	s := NewServer(t, WithConfig(cfg))
	v := make([]byte, size)
	rand.Read(v)
	s.Set("big", v, 0)
	return s, v
}

// settle waits until the server's request count stops moving and returns it.
func settle(s *Server) int64 {
	last := s.Requests()
	for deadline := time.Now().Add(hangGuard); time.Now().Before(deadline); {
		time.Sleep(quiet)
		n := s.Requests()
		if n == last {
			return n
		}
		last = n
	}
	return last
}

// A client that pipelines GETs of a large value without reading must not make the server
// build every reply first: it writes once past the bound and reads no further until the
// write drains, so only a few requests run; all replies then arrive intact and in order.
func TestPipelinedRepliesAreBounded(t *testing.T) {
	s, v := bigValueServer(t, 1<<20)
	c := dial(t, s)
	const n = 60
	var batch []byte
	for i := 0; i < n; i++ {
		batch = append(batch, frame(generated.OpGet, "big")...)
	}
	c.send(batch)
	if ran := settle(s); ran > 20 {
		t.Errorf("%d of %d pipelined GETs ran while the client read nothing; want a handful (back-pressure)", ran, n)
	}
	want := value(string(v))
	for i := 0; i < n; i++ {
		if rep := c.reply(); !bytes.Equal(rep, want) {
			t.Fatalf("reply %d: %d bytes, want the %d-byte value", i, len(rep), len(v))
		}
	}
	if got := s.Requests(); got != n {
		t.Errorf("Requests() = %d after all replies, want %d", got, n)
	}
}

// A header declaring a large frame allocates nothing up front; the buffer grows as the
// bytes arrive, and the frame then works.
func TestDeclaredSizeNotAllocated(t *testing.T) {
	s, _ := bigValueServer(t, 1)
	val := bytes.Repeat([]byte("z"), 3<<20)
	req := wire.AppendRequest(nil, generated.OpSet, []byte("0"), []byte("k"), val)
	const conns = 40
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	cs := make([]*rawConn, conns)
	for i := range cs {
		cs[i] = dial(t, s)
		cs[i].send(req[:7])
	}
	waitFor(t, func() bool { return s.ActiveConnections() == conns })
	time.Sleep(quiet) // let every connection read its header
	runtime.ReadMemStats(&ms)
	if grew := ms.TotalAlloc - before; grew > 32<<20 {
		t.Errorf("%d headers declaring 3 MiB allocated %d MiB; want the buffers to grow only with data", conns, grew>>20)
	}
	for off := 7; off < len(req); off += 100 << 10 { // arrives in pieces
		cs[0].send(req[off:min(len(req), off+100<<10)])
	}
	if rep := cs[0].reply(); !bytes.Equal(rep, value(string(val))) {
		t.Errorf("SET of a 3 MiB value sent in pieces: %d-byte reply", len(rep))
	}
}

// A connection whose client left stops working at its next write instead of running
// everything the client had pipelined.
func TestPeerThatLeftStopsWork(t *testing.T) {
	s, _ := bigValueServer(t, 256<<10)
	c := dial(t, s)
	const n = 2000
	var batch []byte
	for i := 0; i < n; i++ {
		batch = append(batch, frame(generated.OpGet, "big")...)
	}
	c.send(batch)
	c.nc.Close()
	waitFor(t, func() bool { return s.Requests() > 0 })
	waitFor(t, func() bool { return s.ActiveConnections() == 0 })
	if ran := s.Requests(); ran > 50 {
		t.Errorf("%d of %d GETs ran after the client left; want a few", ran, n)
	}
}

// Close returns promptly while connections pipeline large replies nobody reads and
// others walk a large store.
func TestCloseUnderLoad(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxResponseSize = 1 << 30
	s, err := Start(WithConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 50000; i++ {
		s.Set(fmt.Sprintf("w:%06d", i), bytes.Repeat([]byte("v"), 100), 0)
	}
	for i := 0; i < 4; i++ {
		c := dial(t, s)
		var batch []byte
		for j := 0; j < 200; j++ {
			batch = append(batch, frame(generated.OpMGet, "w:")...)
		}
		c.send(batch)
	}
	waitFor(t, func() bool { return s.Requests() >= 4 })
	done := make(chan struct{})
	start := time.Now()
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatalf("Close still running after %v under load", time.Since(start))
	}
}

// A long walk gives the lock up: another connection is served while an MGET over a large
// store is still being built, and the MGET reply is still complete.
func TestLongWalkLetsOthersIn(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxResponseSize = 1 << 30
	s := NewServer(t, WithConfig(cfg))
	const n = 100000
	for i := 0; i < n; i++ {
		s.Set(fmt.Sprintf("w:%06d", i), []byte("v"), 0)
	}
	other := dial(t, s)
	var once sync.Once
	var pinged []byte
	walkYielded = func() { once.Do(func() { pinged = other.do(generated.OpPing) }) }
	defer func() { walkYielded = nil }()
	rep := dial(t, s).do(generated.OpMGet, "w:")
	if !bytes.Equal(pinged, status(wire.CodeOK)) {
		t.Errorf("PING during the MGET walk: got %x, want OK before the MGET finished", pinged)
	}
	if got := len(kvEntries(t, rep)); got != n {
		t.Errorf("MGET returned %d pairs, want %d", got, n)
	}
}

// The cursor resumes correctly after inserts that split edges and add siblings: every key
// present at the start is visited once, in the order an undisturbed walk gives.
func TestCursorSurvivesInserts(t *testing.T) {
	tr := newTrie()
	hold := func(k string) { tr.at(tr.insert([]byte(k))).rec = 1 } // any record will do
	keys := []string{"abc", "abd", "b", "abcdef", "ab", "abx", "c", "ca", "cab"}
	for _, k := range keys {
		hold(k)
	}
	var want []string
	tr.walk(nil, func(n nodeID) bool { want = append(want, string(tr.key(n))); return true })
	extra := []string{"a", "abce", "abcd", "abz", "ac", "bb", "b0", "caa", "d", "abcdeg", "abcdez"}
	cur := tr.cursor(nil)
	var got []string
	for i := 0; !cur.done(); {
		if n := cur.next(1); n != 0 {
			if k := string(tr.key(n)); slices.Contains(keys, k) {
				got = append(got, k)
			}
			if i < len(extra) {
				hold(extra[i])
				i++
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("walk with inserts visited %q, want %q", got, want)
	}
}

// An MGET whose reply passes max_response_size closes the connection without a reply,
// builds no more than about the limit, and still purges expired matches and sets access
// times on the live ones, as the reference does before it encodes.
func TestMGetOverLimitStopsBuilding(t *testing.T) {
	s, c := newManual(t, func(c *Config) {
		c.MaxResponseSize = 1 << 20
		c.MaxValueSize = 1 << 20
		c.Compression = 1 << 40
		c.ExpiredCron = time.Hour
	})
	v := strings.Repeat("x", 64<<10)
	for i := 0; i < 400; i++ { // 25 MiB
		s.Set(fmt.Sprintf("p:%03d", i), []byte(v), 0)
	}
	c.do(generated.OpSet, "10", "p:400", "short-lived")
	s.FastForward(20 * time.Second)
	if keys := keysReply(t, c, "p:4"); !slices.Equal(keys, []string{"p:400"}) {
		t.Fatalf("KEYS before the MGET: %q, want the expired p:400 still listed", keys)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	c.send(frame(generated.OpMGet, "p:"))
	c.expectClosed()
	runtime.ReadMemStats(&ms)
	if grew := ms.TotalAlloc - before; grew > 8<<20 {
		t.Errorf("an MGET over 25 MiB with a 1 MiB limit allocated %d MiB", grew>>20)
	}
	c = dial(t, s)
	if keys := keysReply(t, c, "p:4"); keys != nil {
		t.Errorf("KEYS after the MGET: %q; the expired p:400 should have been purged", keys)
	}
	eq(t, "META access of the last match", c.do(generated.OpMeta, "p:399", "access"), number(clock0.Add(20*time.Second).Unix()))
}
