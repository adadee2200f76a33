package gibsontest

import (
	"time"

	"github.com/gogibson/gogibson/wire"
)

// Direct access to the data for test set-up and assertions. These methods bypass the
// protocol: they update no access times, purge nothing and count no requests.

// Flush deletes every item. Like deletions over the protocol it keeps the order in which
// key branches were first created (docs/protocol.md §5.6).
func (s *Server) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.tree.walk(nil, func(n nodeID) bool {
		s.st.free(n)
		return true
	})
}

// Keys returns the keys under prefix in the server's order, live and expired alike (as
// KEYS lists them, but uncut at 0x00); an empty prefix lists every key.
func (s *Server) Keys(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	s.st.tree.walk([]byte(prefix), func(n nodeID) bool {
		keys = append(keys, string(s.st.tree.key(n)))
		return true
	})
	return keys
}

// Get returns the value stored under key and whether a live (not expired) item exists.
// Numbers come back as decimal text, compressed values decompressed.
func (s *Server) Get(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var it *header
	if n := s.st.tree.get([]byte(key)); n != 0 {
		it = s.st.item(n)
	}
	if it == nil || it.expired(s.nowTime().Unix()) {
		return nil, false
	}
	switch it.enc {
	case wire.EncNumber:
		return []byte(itoa(it.num())), true
	case wire.EncLZF:
		return lzfDecompress(nil, s.st.value(it)), true
	}
	return append([]byte(nil), s.st.value(it)...), true
}

// Set stores value under key with a TTL of ttl rounded down to whole seconds (0 = none)
// as SET would, compression included, ignoring locks and the memory limit. Key and
// value are stored as given, without the protocol's truncation. It panics when the
// store's 32-bit references are used up (where SET would answer MEM).
func (s *Server) Set(key string, value []byte, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored := int16(-1)
	if secs := int64(ttl / time.Second); secs > 0 {
		stored = int16(min(s.cfg.MaxItemTTL, secs))
	}
	n := s.st.tree.insert([]byte(key))
	if n == 0 || !s.st.setText(n, value, s.cfg.Compression, s.nowTime().Unix(), stored) {
		panic("gibsontest: Set: the store's 32-bit references are used up")
	}
}

// Len returns the number of stored items, expired-but-unpurged ones included (STATS
// total_items).
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.st.n)
}

// MemoryUsed returns the memory figure SET and MSET compare with MaxMemory (STATS
// memory_used): the items and the key index, as Config.MaxMemory describes.
func (s *Server) MemoryUsed() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.used()
}
