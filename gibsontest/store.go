package gibsontest

import (
	"github.com/gogibson/gogibson/wire"
)

// item is one stored value with the reference server's metadata (docs/protocol.md §5.1).
//
// The fields every prefix walk reads or writes (expiry, lock, access time) come first, so
// that they share one cache line: walks are bound by memory.
type item struct {
	ttl     int16 // stored TTL; <= 0 never expires (-1 = created without TTL)
	enc     wire.Encoding
	created int64 // base timestamp for TTL and lock
	access  int64
	lock    int64 // raw lock argument: 0 none, -1 forever, else seconds from created

	data   []byte // plain text or LZF bytes; nil for numbers
	num    int64  // the value of a number item
	rawLen int    // decompressed length of an LZF item
}

// size is what META size reports: 8 for numbers, the stored (maybe compressed) length.
func (it *item) size() int64 {
	if it.enc == wire.EncNumber {
		return 8
	}
	return int64(len(it.data))
}

func (it *item) expired(now int64) bool {
	return it.ttl > 0 && now-it.created >= int64(it.ttl)
}

// touch sets the access time as reads do. It writes only when the time changes (once a
// second at most): a read that dirties every line it walks makes the next walk on another
// core fetch each of them from this core's cache, and a walk is bound by memory.
func (it *item) touch(now int64) {
	if it.access != now {
		it.access = now
	}
}

func (it *item) locked(now int64) bool {
	return it.lock == -1 || (it.lock > 0 && now-it.created < it.lock)
}

// store is the data the server holds, guarded by Server.mu.
type store struct {
	tree *trie
	n    int64 // items stored, expired-but-unpurged included
	ncmp int64 // items stored compressed
	mem  int64 // what the items hold: ItemOverhead plus the value's heap block each
	peak int64 // highest used()

	firstSeen, lastSeen int64
	comprAvg            float64
	pool                itemPool
	// Item records are cut from blocks and reused once freed (as the reference server's
	// allocator does), so that a walk reads one server's items close together, not spread
	// over a heap shared with other servers of the same process.
	items     blocks[item]
	freeItems []*item
	lzf       lzfTable
	lzfOut    []byte
}

func newStore() *store { return &store{tree: newTrie()} }

// newItem returns a zero item record: a freed one, or a new one from the blocks.
func (st *store) newItem() *item {
	if n := len(st.freeItems); n > 0 {
		it := st.freeItems[n-1]
		st.freeItems = st.freeItems[:n-1]
		return it
	}
	return st.items.next()
}

// used is the memory figure compared with max_memory and reported as memory_used: the
// items and the key index (trie nodes, keys, map), which, as in the reference server,
// keeps every key ever stored.
func (st *store) used() int64 { return st.mem + st.tree.bytes }

// footprint is what n's item holds on the heap (the key is counted with the node).
func (st *store) footprint(n *node) int64 {
	return ItemOverhead + allocSize(len(n.it.data))
}

// put stores it under n, replacing and freeing any old item.
func (st *store) put(n *node, it item) {
	if n.it != nil {
		st.free(n)
	}
	n.it = st.newItem()
	*n.it = it
	st.n++
	if it.enc == wire.EncLZF {
		st.ncmp++
	}
	st.mem += st.footprint(n)
	st.peak = max(st.peak, st.used())
	if st.firstSeen == 0 {
		st.firstSeen = it.created
	}
	st.lastSeen = it.created
	st.pool.alloc()
}

// free removes the item of n, keeping the node (the trie is never pruned).
func (st *store) free(n *node) {
	st.mem -= st.footprint(n)
	st.n--
	if n.it.enc == wire.EncLZF {
		st.ncmp--
	}
	*n.it = item{} // the value's bytes are garbage now
	st.freeItems = append(st.freeItems, n.it)
	n.it = nil
	st.pool.release()
}

// setNumber turns n's item into a number item holding v.
func (st *store) setNumber(n *node, v int64) {
	st.mem -= st.footprint(n)
	if n.it.enc == wire.EncLZF {
		st.ncmp--
	}
	n.it.data, n.it.num, n.it.enc = nil, v, wire.EncNumber
	st.mem += st.footprint(n)
	st.peak = max(st.peak, st.used())
}

// newText builds a plain or LZF item for value as SET and MSET store it: LZF when value
// is longer than threshold and compressing saves at least 4 bytes.
func (st *store) newText(value []byte, threshold int64, now int64) item {
	it := item{enc: wire.EncPlain, ttl: -1, created: now, access: now}
	if int64(len(value)) > threshold && len(value) > 4 {
		limit := len(value) - 4
		if cap(st.lzfOut) < limit+8 {
			st.lzfOut = make([]byte, limit+8)
		}
		if n := st.lzf.compress(value, st.lzfOut[:limit+8], limit); n > 0 {
			rate := 100 - float64(n)*100/float64(len(value))
			if st.comprAvg == 0 {
				st.comprAvg = rate
			} else {
				st.comprAvg = (st.comprAvg + rate) / 2
			}
			it.enc, it.rawLen = wire.EncLZF, len(value)
			it.data = append([]byte(nil), st.lzfOut[:n]...)
			if cap(st.lzfOut) > 1<<20 {
				st.lzfOut = nil // do not pin a huge buffer
			}
			return it
		}
	}
	it.data = append([]byte(nil), value...)
	return it
}

// itemPool mimics the reference server's item allocator for STATS: blocks of objects,
// a bump counter that is not decremented on free, and a free list used first.
type itemPool struct {
	used, capacity, total, freeList int64
}

func (p *itemPool) init() { *p = itemPool{capacity: 512, total: 512} }

func (p *itemPool) alloc() {
	if p.freeList > 0 {
		p.freeList--
		return
	}
	if p.used >= p.capacity {
		block := min(2*p.used, 131072)
		p.capacity, p.used = block, 0
		p.total += block
	}
	p.used++
}

func (p *itemPool) release() { p.freeList++ }
