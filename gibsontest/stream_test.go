package gibsontest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// streamConfig compresses values over 1 KiB and allows multi-megabyte values and replies.
func streamConfig() Config {
	cfg := DefaultConfig()
	cfg.Compression = 1 << 10
	cfg.MaxValueSize = 4 << 20
	cfg.MaxRequestSize = 8 << 20
	cfg.MaxResponseSize = 64 << 20
	return cfg
}

// wordy returns n bytes of random text over a small alphabet: LZF compresses it with
// back-references all over, some of them crossing the pieces a streamed value is
// expanded in.
func wordy(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = "abcd"[rng.IntN(4)]
	}
	return b
}

func noise(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 9))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// builtMGet is the MGET reply for prefix built whole, the way the server built it before
// replies were streamed: every item under prefix in walk order (the test stores none
// expired), up to limit items (0: all).
func builtMGet(s *Server, prefix string, limit int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out, w := beginKVal(nil)
	s.st.tree.walk([]byte(prefix), func(n nodeID) bool {
		it := s.st.item(n)
		k := string(cutAtNUL(s.st.tree.key(n)))
		switch it.enc {
		case wire.EncNumber:
			out = w.number(out, k, it.num())
		case wire.EncLZF:
			out = w.text(out, k, string(lzfDecompress(nil, s.st.value(it))))
		default:
			out = w.text(out, k, string(s.st.value(it)))
		}
		return limit == 0 || int(w.count) < limit
	})
	out, _ = w.finish(out, 1<<31)
	return out
}

// builtKeys is the KEYS reply for prefix built whole.
func builtKeys(s *Server, prefix string) []byte {
	out, w := beginKVal(nil)
	for i, k := range s.Keys(prefix) {
		out = w.text(out, strconv.Itoa(i), string(cutAtNUL([]byte(k))))
	}
	out, _ = w.finish(out, 1<<31)
	return out
}

func encodingOf(s *Server, key string) wire.Encoding {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.item(s.st.tree.get([]byte(key))).enc
}

// Streamed MGET, KEYS and GET replies carry the very bytes of replies built whole, for
// numbers, short and long plain values (copied and referenced), LZF values expanded in
// one step and in pieces, keys cut at 0x00, and enough entries to span several snapshot
// blocks and key chunks; pipelined with other requests, every reply comes in order.
func TestStreamedRepliesAreByteIdentical(t *testing.T) {
	s := NewServer(t, WithConfig(streamConfig()))
	c := dial(t, s)
	big := wordy(300<<10, 1)
	s.Set("s:small", []byte("hi"), 0)
	s.Set("s:plain", noise(20<<10, 2), 0)
	s.Set("s:lz20", wordy(20<<10, 3), 0)
	s.Set("s:lz300", big, 0)
	s.Set("s:nul\x00cut", []byte("v"), 0)
	c.do(generated.OpInc, "s:num")
	for i := 0; i < 3000; i++ {
		s.Set(fmt.Sprintf("s:k%04d", i), []byte(strconv.Itoa(i)), 0)
	}
	for k, want := range map[string]wire.Encoding{"s:lz20": wire.EncLZF, "s:lz300": wire.EncLZF, "s:plain": wire.EncPlain, "s:num": wire.EncNumber} {
		if got := encodingOf(s, k); got != want {
			t.Fatalf("%s stored with encoding %d, want %d: the test would not cover it", k, got, want)
		}
	}
	wantAll, wantFive := builtMGet(s, "s:", 0), builtMGet(s, "s:", 5)
	var batch []byte
	for _, r := range [][]string{{"MGET", "s:"}, {"PING"}, {"GET", "s:lz300"}, {"KEYS", "s:"}, {"MGET", "s: 5"}, {"GET", "s:lz20"}} {
		op := map[string]wire.Opcode{"MGET": generated.OpMGet, "PING": generated.OpPing, "GET": generated.OpGet, "KEYS": generated.OpKeys}[r[0]]
		if len(r) == 1 {
			batch = append(batch, frame(op, "")...)
		} else {
			batch = append(batch, frame(op, r[1])...)
		}
	}
	c.send(batch)
	eq(t, "MGET s:", c.reply(), wantAll)
	eq(t, "PING", c.reply(), status(wire.CodeOK))
	eq(t, "GET s:lz300", c.reply(), value(string(big)))
	eq(t, "KEYS s:", c.reply(), builtKeys(s, "s:"))
	eq(t, "MGET s: 5", c.reply(), wantFive)
	eq(t, "GET s:lz20", c.reply(), value(string(wordy(20<<10, 3))))
}

// hookStream makes streamPiece report on the returned channel (without blocking) and
// record the most copied bytes a piece held. Call it before starting the server, so that
// its cleanup runs once the server is closed.
func hookStream(t *testing.T) (<-chan struct{}, *atomic.Int64) {
	wrote := make(chan struct{}, 1)
	most := new(atomic.Int64)
	streamPiece = func(copied, capacity int) {
		if int64(copied) > most.Load() {
			most.Store(int64(copied))
		}
		if capacity > ConnectionMemory-readBufMin {
			t.Errorf("a piece of %d bytes is in a %d-byte buffer, over ConnectionMemory less the read buffer", copied, capacity)
		}
		select {
		case wrote <- struct{}{}:
		default:
		}
	}
	t.Cleanup(func() { streamPiece = nil })
	return wrote, most
}

func waitOn(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(hangGuard):
		t.Fatalf("gave up waiting for %s", what)
	}
}

// A streamed MGET is a snapshot: while its client does not read, the server lock is
// free (another connection is served, changes values under the prefix by SET, INC, MSET
// and DEL), and the reply read afterwards still holds the values of when it was taken,
// written from the stored bytes, which those commands replace but never modify. Each
// piece holds a bounded amount of copied output.
func TestStreamedReplyIsASnapshot(t *testing.T) {
	wrote, most := hookStream(t)
	s := NewServer(t, WithConfig(streamConfig()))
	for i := 0; i < 40; i++ {
		s.Set(fmt.Sprintf("p:%02d", i), noise(256<<10, uint64(i)), 0)
	}
	s.Set("p:txt", []byte("12"), 0)
	s.Set("p:lzf", wordy(300<<10, 4), 0)
	s.Set("p:del", []byte("x"), 0)
	before := builtMGet(s, "p:", 0)
	reader, other := dial(t, s), dial(t, s)
	reader.send(frame(generated.OpMGet, "p:"))
	waitOn(t, wrote, "the first piece of the MGET reply")

	eq(t, "INC p:txt", other.do(generated.OpInc, "p:txt"), number(13))
	eq(t, "SET p:lzf", other.do(generated.OpSet, "0", "p:lzf", "new"), value("new"))
	eq(t, "DEL p:del", other.do(generated.OpDelete, "p:del"), status(wire.CodeOK))
	eq(t, "MSET p:", other.do(generated.OpMSet, "p:", "zz"), number(42))
	after := builtMGet(s, "p:", 0)
	if bytes.Equal(after, before) {
		t.Fatal("the changes did not change the data")
	}
	eq(t, "MGET p: taken before the changes", reader.reply(), before)
	eq(t, "MGET p: after them", reader.do(generated.OpMGet, "p:"), after)
	if bound := outBound + lzfPiece + 1<<10; most.Load() > int64(bound) {
		t.Errorf("a piece held %d copied bytes, over %d", most.Load(), bound)
	}
}

// A client that pipelines MGETs and does not read has one of them run and streamed; the
// others are not even parsed until it reads (no snapshot or reply is taken ahead), while
// other connections are served.
func TestUnreadPipelinedMGetsRunOneAtATime(t *testing.T) {
	wrote, _ := hookStream(t)
	s := NewServer(t, WithConfig(streamConfig()))
	for i := 0; i < 16; i++ {
		s.Set(fmt.Sprintf("m:%02d", i), noise(256<<10, uint64(i)), 0)
	}
	want := builtMGet(s, "m:", 0)
	reader, other := dial(t, s), dial(t, s)
	reader.send(bytes.Repeat(frame(generated.OpMGet, "m:"), 5))
	waitOn(t, wrote, "the first piece of the first MGET reply")
	for i := 0; i < 3; i++ {
		eq(t, "PING on another connection", other.do(generated.OpPing), status(wire.CodeOK))
	}
	if got := s.Requests(); got != 1+3 {
		t.Errorf("%d requests run while the reader reads nothing, want 4 (its first MGET and 3 PINGs)", got)
	}
	for i := 0; i < 5; i++ {
		eq(t, "MGET m: #"+strconv.Itoa(i), reader.reply(), want)
	}
}

// With a fault pending, a streamed reply is built whole first, so the fault cuts it by
// position like any other reply.
func TestFaultCutsStreamedReply(t *testing.T) {
	s := NewServer(t, WithConfig(streamConfig()))
	for i := 0; i < 8; i++ {
		s.Set(fmt.Sprintf("f:%d", i), noise(64<<10, uint64(i)), 0)
	}
	full := builtMGet(s, "f:", 0)
	c := dial(t, s)
	s.FailNextReplyMidway()
	c.send(frame(generated.OpMGet, "f:"))
	got := readAll(t, c)
	if len(got) == 0 || len(got) >= len(full) || !bytes.Equal(got, full[:len(got)]) {
		t.Errorf("after FailNextReplyMidway, MGET sent %d bytes of its %d, want a proper prefix", len(got), len(full))
	}
}

// readAll reads until the server closes the connection.
func readAll(t *testing.T, c *rawConn) []byte {
	t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(hangGuard))
	var got []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := c.nc.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			if !isClosed(err) {
				t.Fatalf("read: %v", err)
			}
			return got
		}
	}
}

// Walks take turns: while one has given the lock up, a PING on another connection is
// answered but a COUNT (another walk) waits until the first walk is over, so a short
// request never queues behind many walks' holds on the lock.
func TestWalksTakeTurns(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxResponseSize = 1 << 30
	s := NewServer(t, WithConfig(cfg))
	const n = 100000
	for i := 0; i < n; i++ {
		s.Set(fmt.Sprintf("w:%06d", i), []byte("v"), 0)
	}
	counter, pinger := dial(t, s), dial(t, s)
	var first atomic.Bool // not a sync.Once: a second walker must not wait on it
	var pinged []byte
	walkYielded = func() {
		if first.CompareAndSwap(false, true) {
			counter.send(frame(generated.OpCount, "w:"))
			pinged = pinger.do(generated.OpPing)
			counter.expectSilence()
		}
	}
	defer func() { walkYielded = nil }()
	rep := dial(t, s).do(generated.OpKeys, "w:")
	eq(t, "PING while KEYS walks", pinged, status(wire.CodeOK))
	if got := len(kvEntries(t, rep)); got != n {
		t.Errorf("KEYS returned %d pairs, want %d", got, n)
	}
	eq(t, "COUNT after its turn", counter.reply(), number(n))
}

// EntryBytes, documented as a snapshot's cost per entry, covers the entry record.
func TestEntryBytesCoversAnEntry(t *testing.T) {
	if size := unsafe.Sizeof(entry{}); size > EntryBytes {
		t.Errorf("an entry takes %d bytes, EntryBytes says %d", size, EntryBytes)
	}
}
