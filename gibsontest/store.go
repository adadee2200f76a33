package gibsontest

import (
	"slices"
	"unsafe"

	"github.com/gogibson/gogibson/wire"
)

// header starts every item record (arena.go) with the reference server's metadata
// (docs/protocol.md §5.1). Times are unix seconds in 32 bits (1970–2106). The payload
// follows at hdrLen: a number's int64; an LZF value's decompressed length (uint32) and
// then its bytes; a plain value's bytes. A value whose record would pass maxRecord lives
// in store.big instead (flags fBig), n then being its index there.
type header struct {
	ttl     int16 // stored TTL; <= 0 never expires (-1 = created without TTL)
	enc     wire.Encoding
	flags   uint8
	created uint32 // base timestamp for TTL and lock
	access  uint32
	n       uint32 // the stored value's length (in the record), or its index in store.big
}

const (
	hdrLen = ItemOverhead
	fBig   = 1 // the value is store.big[n]
	fLock  = 2 // the lock argument is in store.locks; without it the lock is 0
	// lockEntryBytes is what one entry of store.locks holds, as counted in memory_used.
	lockEntryBytes = 48
)

func (it *header) expired(now int64) bool {
	return it.ttl > 0 && now-int64(it.created) >= int64(it.ttl)
}

// touch sets the access time as reads do. It writes only when the time changes (once a
// second at most): a read that dirties every line it walks makes the next walk on another
// core fetch each of them from this core's cache, and a walk is bound by memory.
func (it *header) touch(now int64) {
	if it.access != uint32(now) {
		it.access = uint32(now)
	}
}

func (it *header) payload() unsafe.Pointer { return unsafe.Add(unsafe.Pointer(it), hdrLen) }

// num is a number item's value.
func (it *header) num() int64 { return *(*int64)(it.payload()) }

// rawLen is an LZF item's decompressed length.
func (it *header) rawLen() int { return int(*(*uint32)(it.payload())) }

// recSize is the size of it's record.
func (it *header) recSize() int {
	switch {
	case it.enc == wire.EncNumber:
		return hdrLen + 8
	case it.flags&fBig != 0 && it.enc == wire.EncLZF:
		return hdrLen + 8
	case it.flags&fBig != 0:
		return hdrLen
	case it.enc == wire.EncLZF:
		return roundRec(hdrLen + 4 + int(it.n))
	}
	return roundRec(hdrLen + int(it.n))
}

// store is the data the server holds, guarded by Server.mu.
type store struct {
	tree     *trie
	ar       arena
	big      [][]byte // values too large for a record, by header.n; nil when free
	freeBig  []uint32
	bigBytes int64
	locks    map[*header]int64 // nonzero lock arguments (flag fLock)
	n        int64             // items stored, expired-but-unpurged included
	ncmp     int64             // items stored compressed
	peak     int64             // highest used()

	firstSeen, lastSeen int64
	comprAvg            float64
	pool                itemPool
	lzf                 lzfTable
	lzfOut              []byte
	retained            // retain.go
}

func newStore() *store {
	return &store{tree: newTrie(), ar: newArena(), locks: make(map[*header]int64)}
}

// used is the memory figure compared with max_memory and reported as memory_used: the
// item records and large values, and the key index (nodes, keys, hash index), which, as
// in the reference server, keeps every key ever stored.
func (st *store) used() int64 {
	return st.ar.live + st.bigBytes + st.tree.bytes() + int64(len(st.locks))*lockEntryBytes
}

// item returns n's item record, nil when n holds none. The pointer is valid until the
// item is freed or replaced.
func (st *store) item(n nodeID) *header {
	r := st.tree.at(n).rec
	if r == 0 {
		return nil
	}
	return (*header)(st.ar.ptr(r))
}

// value returns the stored bytes of a text item (plain, or LZF-compressed): they are not
// modified while the item lives, nor after it is freed while a retain taken before is
// held (retain.go). Numbers have none.
func (st *store) value(it *header) []byte {
	switch {
	case it.enc == wire.EncNumber:
		return nil
	case it.flags&fBig != 0:
		return st.big[it.n]
	case it.enc == wire.EncLZF:
		return unsafe.Slice((*byte)(unsafe.Add(it.payload(), 4)), it.n)
	}
	return unsafe.Slice((*byte)(it.payload()), it.n)
}

// size is what META size reports: 8 for numbers, the stored (maybe compressed) length.
func (st *store) size(it *header) int64 {
	if it.enc == wire.EncNumber {
		return 8
	}
	return int64(len(st.value(it)))
}

// lock is the raw lock argument: 0 none, -1 forever, else seconds from created.
func (st *store) lock(it *header) int64 {
	if it.flags&fLock == 0 {
		return 0
	}
	return st.locks[it]
}

func (st *store) setLock(it *header, v int64) {
	switch {
	case v != 0:
		st.locks[it] = v
		it.flags |= fLock
	case it.flags&fLock != 0:
		delete(st.locks, it)
		it.flags &^= fLock
	}
}

func (st *store) locked(it *header, now int64) bool {
	if it.flags&fLock == 0 {
		return false
	}
	l := st.locks[it]
	return l == -1 || (l > 0 && now-int64(it.created) < l)
}

// newRecord allocates a record for a value of encoding enc holding data (rawLen: LZF's
// decompressed length), or returns nil when the arena is full.
func (st *store) newRecord(enc wire.Encoding, data []byte, rawLen int) (recRef, *header) {
	head := hdrLen
	if enc == wire.EncLZF {
		head += 4
	}
	var r recRef
	var it *header
	if size := roundRec(head + len(data)); size <= maxRecord {
		if r = st.alloc(size); r == 0 {
			return 0, nil
		}
		it = (*header)(st.ar.ptr(r))
		it.flags, it.n = 0, uint32(len(data))
		copy(st.ar.bytes(r, head, len(data)), data)
	} else {
		if r = st.alloc(roundRec(head)); r == 0 {
			return 0, nil
		}
		it = (*header)(st.ar.ptr(r))
		it.flags, it.n = fBig, st.newBig(append([]byte(nil), data...))
	}
	it.enc = enc
	if enc == wire.EncLZF {
		*(*uint32)(it.payload()) = uint32(rawLen)
	}
	return r, it
}

func (st *store) newBig(b []byte) uint32 {
	st.bigBytes += allocSize(len(b)) + 24
	if n := len(st.freeBig); n > 0 {
		i := st.freeBig[n-1]
		st.freeBig = st.freeBig[:n-1]
		st.big[i] = b
		return i
	}
	st.big = append(st.big, b)
	return uint32(len(st.big) - 1)
}

// drop frees the item record r (no longer any node's) and its large value, which goes at
// once: a reader holding it keeps it alive, and it is never written again.
func (st *store) drop(r recRef) {
	it := (*header)(st.ar.ptr(r))
	if it.flags&fLock != 0 {
		delete(st.locks, it)
	}
	if it.flags&fBig != 0 {
		st.bigBytes -= allocSize(len(st.big[it.n])) + 24
		st.big[it.n] = nil
		st.freeBig = append(st.freeBig, it.n)
	}
	if it.enc == wire.EncLZF {
		st.ncmp--
	}
	st.release(r, it.recSize())
}

// attach makes r (holding it) n's item, freeing any old one.
func (st *store) attach(n nodeID, r recRef, it *header) {
	if old := st.tree.at(n).rec; old != 0 {
		st.free(n)
	}
	st.tree.at(n).rec = r
	st.n++
	if it.enc == wire.EncLZF {
		st.ncmp++
	}
	st.peak = max(st.peak, st.used())
	if st.firstSeen == 0 {
		st.firstSeen = int64(it.created)
	}
	st.lastSeen = int64(it.created)
	st.pool.alloc()
}

// free removes the item of n, keeping the node (the trie is never pruned).
func (st *store) free(n nodeID) {
	nd := st.tree.at(n)
	r := nd.rec
	nd.rec = 0
	st.n--
	st.drop(r)
	st.pool.release()
}

// setNumber turns n's item into a number item holding v, keeping its metadata; false
// when the arena is full.
func (st *store) setNumber(n nodeID, v int64) bool {
	it := st.item(n)
	if it.enc == wire.EncNumber {
		*(*int64)(it.payload()) = v
		return true
	}
	r := st.alloc(hdrLen + 8)
	if r == 0 {
		return false
	}
	nit := (*header)(st.ar.ptr(r))
	*nit = header{ttl: it.ttl, enc: wire.EncNumber, created: it.created, access: it.access}
	*(*int64)(nit.payload()) = v
	st.setLock(nit, st.lock(it))
	old := st.tree.at(n).rec
	st.tree.at(n).rec = r
	st.drop(old)
	st.peak = max(st.peak, st.used())
	return true
}

// setNumberNew stores a new number item v under n (INC/DEC of a missing key).
func (st *store) setNumberNew(n nodeID, v, now int64) bool {
	r := st.alloc(hdrLen + 8)
	if r == 0 {
		return false
	}
	it := (*header)(st.ar.ptr(r))
	*it = header{ttl: -1, enc: wire.EncNumber, created: uint32(now), access: uint32(now)}
	*(*int64)(it.payload()) = v
	st.attach(n, r, it)
	return true
}

// setText stores value under n as SET and MSET do, with TTL ttl: LZF when value is
// longer than threshold and compressing saves at least 4 bytes. False when the arena is
// full.
func (st *store) setText(n nodeID, value []byte, threshold, now int64, ttl int16) bool {
	data, enc := value, wire.EncPlain
	if int64(len(value)) > threshold && len(value) > 4 {
		limit := len(value) - 4
		if cap(st.lzfOut) < limit+8 {
			st.lzfOut = make([]byte, limit+8)
		}
		if k := st.lzf.compress(value, st.lzfOut[:limit+8], limit); k > 0 {
			rate := 100 - float64(k)*100/float64(len(value))
			if st.comprAvg == 0 {
				st.comprAvg = rate
			} else {
				st.comprAvg = (st.comprAvg + rate) / 2
			}
			data, enc = st.lzfOut[:k], wire.EncLZF
		}
	}
	r, it := st.newRecord(enc, data, len(value))
	if cap(st.lzfOut) > 1<<20 {
		st.lzfOut = nil // do not pin a huge buffer
	}
	if r == 0 {
		return false
	}
	it.ttl, it.created, it.access = ttl, uint32(now), uint32(now)
	st.attach(n, r, it)
	return true
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

// allocSize is the size of the heap block Go allocates for n bytes: its size classes up
// to 32 KiB, whole 8 KiB pages above.
func allocSize(n int) int64 {
	if n == 0 {
		return 0
	}
	if n > 32768 {
		return int64((n + 8191) &^ 8191)
	}
	i, _ := slices.BinarySearch(sizeClasses[:], uint16(n))
	return int64(sizeClasses[i])
}

var sizeClasses = [...]uint16{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224,
	240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152,
	1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528,
	6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072,
	20480, 21760, 24576, 27264, 28672, 32768}
