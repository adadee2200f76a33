package gibsontest

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// Behaviour of docs/protocol.md §4–§7 that the transcripts do not cover.

var clock0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newManual(t *testing.T, mod func(*Config)) (*Server, *rawConn) {
	cfg := DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	s := NewServer(t, WithConfig(cfg), WithClock(clock0))
	return s, dial(t, s)
}

func eq(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s: got %x, want %x", what, got, want)
	}
}

func keysReply(t *testing.T, c *rawConn, prefix string) []string {
	t.Helper()
	rep := c.do(generated.OpKeys, prefix)
	if bytes.Equal(rep, status(wire.CodeNotFound)) {
		return nil
	}
	return valuesOf(kvPairs(t, rep))
}

// §5.6: order is first creation of each branch and survives deletes.
func TestTrieOrderRemembersHistory(t *testing.T) {
	_, c := newManual(t, nil)
	for _, k := range []string{"ob", "oa", "oab", "o", "oaa"} {
		c.do(generated.OpSet, "0", k, "v")
	}
	want := []string{"o", "ob", "oa", "oab", "oaa"}
	if got := keysReply(t, c, "o"); !slices.Equal(got, want) {
		t.Fatalf("KEYS o = %q, want %q", got, want)
	}
	c.do(generated.OpDelete, "ob")
	c.do(generated.OpDelete, "oa")
	c.do(generated.OpSet, "0", "oa", "v")
	c.do(generated.OpSet, "0", "ob", "v")
	if got := keysReply(t, c, "o"); !slices.Equal(got, want) {
		t.Errorf("after delete and re-add: KEYS o = %q, want %q", got, want)
	}
	c.do(generated.OpMDelete, "o")
	for _, k := range []string{"oaa", "o", "ob"} {
		c.do(generated.OpSet, "0", k, "v")
	}
	if got := keysReply(t, c, "o"); !slices.Equal(got, []string{"o", "ob", "oaa"}) {
		t.Errorf("after MDEL and re-adding in another order: KEYS o = %q", got)
	}
	// A radix split in the middle of an edge keeps the older branch first.
	for _, k := range []string{"xyzb", "xyza", "xy"} {
		c.do(generated.OpSet, "0", k, "v")
	}
	if got := keysReply(t, c, "x"); !slices.Equal(got, []string{"xy", "xyzb", "xyza"}) {
		t.Errorf("KEYS x = %q", got)
	}
	if got := keysReply(t, c, "xyz"); !slices.Equal(got, []string{"xyzb", "xyza"}) {
		t.Errorf("KEYS xyz (prefix inside an edge) = %q", got)
	}
}

// §4.11: expired items use up MGET's limit.
func TestMGetLimitCountsExpired(t *testing.T) {
	s, c := newManual(t, func(c *Config) { c.ExpiredCron = time.Hour })
	c.do(generated.OpSet, "1", "e:1", "a")
	c.do(generated.OpSet, "1", "e:2", "b")
	c.do(generated.OpSet, "0", "e:3", "c")
	c.do(generated.OpSet, "0", "e:4", "d")
	s.FastForward(2 * time.Second)
	if got := keysReply(t, c, "e:"); len(got) != 4 {
		t.Fatalf("KEYS lists %q, want all four (expired ones too)", got)
	}
	eq(t, "MGET e: 2", c.do(generated.OpMGet, "e:", "2"), status(wire.CodeNotFound))
	if got := keysReply(t, c, "e:"); !slices.Equal(got, []string{"e:3", "e:4"}) {
		t.Errorf("MGET purged nothing: KEYS = %q", got)
	}
	if got := kvPairs(t, c.do(generated.OpMGet, "e:", "1")); len(got) != 1 || got[0] != [2]string{"e:3", "c"} {
		t.Errorf("MGET e: 1 = %q", got)
	}
}

// §5.4/§5.5: TTL and lock share the created timestamp.
func TestLockAndTTLShareTimestamp(t *testing.T) {
	s, c := newManual(t, nil)
	c.do(generated.OpSet, "3", "k", "v")
	s.FastForward(2 * time.Second)
	eq(t, "META left", c.do(generated.OpMeta, "k", "left"), number(1))
	eq(t, "LOCK", c.do(generated.OpLock, "k", "2"), status(wire.CodeOK))
	eq(t, "META left after LOCK", c.do(generated.OpMeta, "k", "left"), number(3))
	eq(t, "META created", c.do(generated.OpMeta, "k", "created"), number(clock0.Unix()+2))
	s.FastForward(time.Second)
	eq(t, "TTL 10 on locked item", c.do(generated.OpTTL, "k", "10"), status(wire.CodeOK))
	s.FastForward(time.Second)
	eq(t, "SET 1 s after TTL (lock window restarted)", c.do(generated.OpSet, "0", "k", "w"), status(wire.CodeLocked))
	s.FastForward(time.Second)
	eq(t, "SET 2 s after TTL", c.do(generated.OpSet, "0", "k", "w"), value("w"))
	// Locks do not stop expiry, and a locked expired item still blocks SET and DEL.
	c.do(generated.OpSet, "1", "l", "v")
	c.do(generated.OpLock, "l", "-1")
	s.FastForward(2 * time.Second)
	eq(t, "DEL expired locked", c.do(generated.OpDelete, "l"), status(wire.CodeLocked))
	eq(t, "SET expired locked", c.do(generated.OpSet, "0", "l", "v"), status(wire.CodeLocked))
	eq(t, "GET expired locked", c.do(generated.OpGet, "l"), status(wire.CodeNotFound))
	eq(t, "DEL after purge", c.do(generated.OpDelete, "l"), status(wire.CodeNotFound))
}

// §5.4: TTLs are int16(min(max_item_ttl, ttl)).
func TestTTLSixteenBitWrap(t *testing.T) {
	s, c := newManual(t, nil)
	for _, tc := range []struct {
		ttl  string
		want int64
	}{{"32767", 32767}, {"32768", -32768}, {"65536", 0}, {"65537", 1}, {"86400", 20864}, {"3000000", -29440}} {
		c.do(generated.OpSet, tc.ttl, "t", "v")
		eq(t, "META ttl after SET "+tc.ttl, c.do(generated.OpMeta, "t", "ttl"), number(tc.want))
	}
	c.do(generated.OpSet, "65537", "t", "v")
	s.FastForward(time.Second)
	eq(t, "65537 s TTL lasts 1 s", c.do(generated.OpGet, "t"), status(wire.CodeNotFound))
	c.do(generated.OpSet, "0", "t", "v")
	c.do(generated.OpTTL, "t", "-5")
	eq(t, "TTL -5", c.do(generated.OpMeta, "t", "ttl"), number(-29440))

	s2, c2 := newManual(t, func(c *Config) { c.MaxItemTTL = 10 })
	c2.do(generated.OpSet, "0", "t", "v")
	c2.do(generated.OpTTL, "t", "-1") // negative → max_item_ttl
	eq(t, "TTL -1 with max_item_ttl 10", c2.do(generated.OpMeta, "t", "ttl"), number(10))
	s2.FastForward(10 * time.Second)
	eq(t, "expired after max_item_ttl", c2.do(generated.OpGet, "t"), status(wire.CodeNotFound))
}

// §5.4: the periodic sweep purges expired items (total_items drops) every expired_cron.
func TestPeriodicSweep(t *testing.T) {
	s, c := newManual(t, func(c *Config) { c.ExpiredCron = 10 * time.Second })
	c.do(generated.OpSet, "1", "a", "v")
	c.do(generated.OpSet, "0", "b", "v")
	s.FastForward(5 * time.Second)
	if n := s.Len(); n != 2 {
		t.Fatalf("before the sweep: %d items, want 2 (a expired but unpurged)", n)
	}
	s.FastForward(5 * time.Second)
	if n := s.Len(); n != 1 {
		t.Errorf("after the sweep: %d items, want 1", n)
	}
	if got := keysReply(t, c, "a"); got != nil {
		t.Errorf("KEYS a after the sweep = %q", got)
	}
}

// §5.8: compression only for values strictly longer than the threshold.
func TestCompressionThreshold(t *testing.T) {
	_, c := newManual(t, func(c *Config) { c.Compression = 100; c.MaxValueSize = 100000 })
	c.do(generated.OpSet, "0", "p", strings.Repeat("b", 100))
	c.do(generated.OpSet, "0", "z", strings.Repeat("b", 101))
	eq(t, "100 bytes plain", c.do(generated.OpMeta, "p", "encoding"), number(0))
	eq(t, "101 bytes LZF", c.do(generated.OpMeta, "z", "encoding"), number(1))
	eq(t, "LZF size", c.do(generated.OpMeta, "z", "size"), number(9))
	eq(t, "GET decompresses", c.do(generated.OpGet, "z"), value(strings.Repeat("b", 101)))
	eq(t, "INC of LZF", c.do(generated.OpInc, "z"), status(wire.CodeNaN))
	c.do(generated.OpSet, "0", "n", strings.Repeat("1", 200))
	eq(t, "MINC counts LZF unchanged", c.do(generated.OpMInc, "n"), number(1))
	eq(t, "still LZF", c.do(generated.OpMeta, "n", "encoding"), number(1))
	eq(t, "MSET compresses", c.do(generated.OpMSet, "p", strings.Repeat("c", 300)), number(1))
	eq(t, "MSET result LZF", c.do(generated.OpMeta, "p", "encoding"), number(1))
	if got := kvPairs(t, c.do(generated.OpMGet, "p")); got[0][1] != strings.Repeat("c", 300) {
		t.Errorf("MGET of LZF item = %q", got[0][1])
	}
}

// §3.6: a KVAL body above max_response_size closes the connection, GET is not limited.
func TestMaxResponseSizeCloses(t *testing.T) {
	s, c := newManual(t, func(c *Config) { c.MaxResponseSize = 60 })
	c.do(generated.OpSet, "0", "r:a", strings.Repeat("y", 20))
	c.do(generated.OpSet, "0", "r:b", strings.Repeat("y", 20))
	eq(t, "GET", c.do(generated.OpGet, "r:a"), value(strings.Repeat("y", 20)))
	c.send(frame(generated.OpMGet, "r:"))
	c.expectClosed()
	c = dial(t, s)
	c.send(frame(generated.OpKeys, "r:"))
	if rep := c.reply(); wire.Code(rep[0]) != wire.CodeKVal {
		t.Errorf("KEYS reply (46-byte body) = %x", rep)
	}
	c.send(frame(generated.OpStats, ""))
	c.expectClosed()
}

// §6.2: with max_clients open, a new connection is accepted and closed at once.
func TestMaxClients(t *testing.T) {
	s, c1 := newManual(t, func(c *Config) { c.MaxClients = 2 })
	c2 := dial(t, s)
	eq(t, "c1", c1.do(generated.OpPing), status(wire.CodeOK))
	eq(t, "c2", c2.do(generated.OpPing), status(wire.CodeOK))
	c3 := dial(t, s)
	c3.expectClosed()
	c1.do(generated.OpEnd)
	c1.expectClosed()
	waitFor(t, func() bool { return s.ActiveConnections() == 1 })
	eq(t, "after one left", dial(t, s).do(generated.OpPing), status(wire.CodeOK))
}

// §5.9: MEM on SET and MSET only, checked first; the memory cron evicts idle items.
func TestMemoryLimit(t *testing.T) {
	s, c := newManual(t, func(c *Config) {
		c.MaxMemory = 300
		c.GCRatio = 10 * time.Second
		c.MaxMemCron = 5 * time.Second
		c.ExpiredCron = time.Hour
	})
	// Long keys, so that the key index alone is over the limit once the items are evicted.
	key := func(i int) string { return "m:" + itoa(int64(i)) + ":a-key-longer-than-its-value" }
	for i := 0; s.MemoryUsed() <= 300; i++ {
		eq(t, "SET under the limit", c.do(generated.OpSet, "0", key(i), "v"), value("v"))
	}
	eq(t, "SET over the limit", c.do(generated.OpSet, "0", "m:x", "v"), status(wire.CodeMem))
	eq(t, "SET NaN over the limit", c.do(generated.OpSet, "abc", "m:x", "v"), status(wire.CodeMem))
	eq(t, "MSET empty over the limit", c.do(generated.OpMSet, ""), status(wire.CodeMem))
	eq(t, "INC is not checked", c.do(generated.OpInc, "m:n"), number(1))
	c.do(generated.OpLock, key(0), "-1")
	s.FastForward(5 * time.Second)
	c.do(generated.OpGet, key(1)) // recently accessed: survives eviction
	full := s.MemoryUsed()
	s.FastForward(5 * time.Second)
	if got := s.Keys("m:"); !slices.Equal(got, []string{key(1)}) {
		t.Errorf("after eviction: %q, want only the recently read m:1 (locks do not protect)", got)
	}
	if used := s.MemoryUsed(); used >= full || used <= 300 {
		t.Errorf("memory used %d after eviction (%d before): want less, but still over the limit", used, full)
	}
	// As in the reference, the key index keeps the evicted keys, so usage stays above.
	eq(t, "SET after eviction", c.do(generated.OpSet, "0", "m:x", "v"), status(wire.CodeMem))
}

// §5.9: the key index counts: many distinct keys set and deleted reach the limit although
// no item is left, and SET is refused with MEM as the reference's trie makes it.
func TestMemoryLimitCountsKeyIndex(t *testing.T) {
	s, c := newManual(t, func(c *Config) { c.MaxMemory = 64 << 10 })
	i := 0
	for ; i < 10000; i++ {
		k := "d:" + itoa(int64(i))
		rep := c.do(generated.OpSet, "0", k, "v")
		if bytes.Equal(rep, status(wire.CodeMem)) {
			break
		}
		eq(t, "DEL", c.do(generated.OpDelete, k), status(wire.CodeOK))
	}
	if i == 10000 || s.Len() != 0 {
		t.Fatalf("%d SET/DEL pairs of distinct keys with max_memory 64K: no MEM (items left %d, memory used %d)", i, s.Len(), s.MemoryUsed())
	}
	if used := s.MemoryUsed(); used <= 64<<10 || used > 80<<10 {
		t.Errorf("memory used %d after MEM with no items; want just over 64K", used)
	}
}

// §4.1: total_requests counts unknown opcodes but not frames with a bad length.
func TestRequestCounting(t *testing.T) {
	s, c := newManual(t, nil)
	c.do(generated.OpPing)
	c.send([]byte{2, 0, 0, 0, 99, 0})
	c.expectClosed()
	c = dial(t, s)
	c.send([]byte{1, 0, 0, 0, 0x13, 0})
	c.expectClosed()
	if n := s.Requests(); n != 2 {
		t.Errorf("Requests = %d, want 2", n)
	}
	if n := s.Connections(); n != 2 {
		t.Errorf("Connections = %d, want 2", n)
	}
}

// §4.19, §5.10: META access reports the previous access time.
func TestAccessTimes(t *testing.T) {
	s, c := newManual(t, nil)
	c.do(generated.OpSet, "0", "a", "v")
	s.FastForward(3 * time.Second)
	eq(t, "META access", c.do(generated.OpMeta, "a", "access"), number(clock0.Unix()))
	eq(t, "META access again", c.do(generated.OpMeta, "a", "access"), number(clock0.Unix()+3))
	s.FastForward(3 * time.Second)
	c.do(generated.OpKeys, "a") // KEYS does not touch access
	eq(t, "after KEYS", c.do(generated.OpMeta, "a", "a"), number(clock0.Unix()+3))
	c.do(generated.OpCount, "a") // COUNT does
	eq(t, "after COUNT", c.do(generated.OpMeta, "a", "a"), number(clock0.Unix()+6))
}

// §2.4/§2.5 with compiled defaults: truncation and spill-over in shape B and D.
func TestTruncationDefaults(t *testing.T) {
	_, c := newManual(t, func(c *Config) { c.MaxKeySize = 8; c.MaxValueSize = 5 })
	// SET: ttl, space and key share K, so the key is 6 bytes, "g" is skipped as the
	// separator and the rest of the key becomes the value.
	eq(t, "SET key spill-over", c.do(generated.OpSet, "0", "abcdefghij", "v"), value("hij v"))
	eq(t, "GET truncated key", c.do(generated.OpGet, "abcdefghXYZ"), status(wire.CodeNotFound))
	eq(t, "GET 6-byte key", c.do(generated.OpGet, "abcdef"), value("hij v"))
	eq(t, "value truncated", c.do(generated.OpSet, "0", "k", "123456789"), value("12345"))
	eq(t, "TTL over-long key spills into the number", c.do(generated.OpTTL, "abcdefghX7"), status(wire.CodeNotFound))
	eq(t, "TTL whose key fills the payload (no separator)", c.do(generated.OpTTL, "abcdefg5"), status(wire.CodeErr))
	c.do(generated.OpInc, "abcdefgh")
	eq(t, "TTL key of K bytes, spill-over 7", c.do(generated.OpTTL, "abcdefghX7"), status(wire.CodeOK))
	eq(t, "META ttl", c.do(generated.OpMeta, "abcdefgh", "ttl"), number(7))
}

// §2.6 number parser quirks through INC and TTL.
func TestNumberParser(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"007", 0, true}, {"0x1F", 0, true}, {"-", 0, true}, {"-05", -5, true},
		{"12", 12, true}, {"--5", 0, false}, {"+5", 0, false}, {"5 ", 0, false}, {"", 0, false},
		{"18446744073709551617", 1, true},
	} {
		got, ok := parseNumber([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseNumber(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// Unknown opcodes close; so do opcodes of verbs the table does not serve.
func TestUnservedOpcodeCloses(t *testing.T) {
	s, c := newManual(t, nil)
	for _, op := range []uint16{0, 22, 254, 256, 0xffff} {
		c.send([]byte{2, 0, 0, 0, byte(op), byte(op >> 8)})
		c.expectClosed()
		c = dial(t, s)
	}
	cmds := buildCommands([]generated.Command{*generated.ByVerb("PING")})
	if len(cmds) != int(generated.OpPing)+1 || cmds[generated.OpPing] == nil || cmds[generated.OpGet] != nil {
		t.Errorf("a table with only PING serves %d opcodes", len(cmds))
	}
}
