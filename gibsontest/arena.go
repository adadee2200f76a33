package gibsontest

import (
	mathbits "math/bits"
	"unsafe"
)

// Item records live in a pointer-free arena: chunks of bytes the garbage collector never
// scans, records addressed by 32-bit references instead of pointers, freed records kept
// on one free list per size (8-byte steps) and handed out again before the arena grows.
// A Go object per item cost about 150 bytes of headers, pointers and size-class rounding
// on top of the data (BENCHMARKS.md, "Memory per item"); here a record is its 16-byte
// header plus the value rounded up to 8 bytes. A chunk whose records are all freed is
// taken off the free lists whole and cut again for records of any size.

const (
	chunkShift = 18 // record chunks of 256 KiB
	chunkBytes = 1 << chunkShift
	recUnit    = 8 // records are 8-byte aligned and sized
	// maxRecord is the largest record kept in the arena; larger values live in their own
	// heap slices (store.big), where Go's allocator reuses space of any size.
	maxRecord = 2048
	// maxChunks keeps references in 32 bits: 32 GiB of records.
	maxChunks = 1 << (32 - chunkShift + 3)
	refShift  = chunkShift - 3 // a reference's offset bits
	minFree   = 2 * recUnit    // a free block holds its links and size
)

// recRef addresses a record: chunk<<refShift | offset/8. 0 is no record (the first 8
// bytes of chunk 0 are never handed out).
type recRef uint32

// arena hands out records. Nothing in it holds a pointer, so the collector skips it.
// A chunk is tiled by records (live, or freed but still retained) and free blocks; a
// free block holds the next and previous free block of its size and its size class.
type arena struct {
	chunks [][]byte
	meta   []chunkMeta
	spare  []int // wholly free chunks, cut again before new ones are made
	cur    int   // the chunk records are cut from, -1 before the first
	end    int   // bump offset in chunks[cur]
	free   [classes]recRef
	used   [(classes + 63) / 64]uint64 // bit c: free[c] is not empty
	live   int64                       // bytes of records handed out and not yet reusable
}

type chunkMeta struct {
	live int32 // bytes of records handed out from it and not yet reusable
	end  int32 // once it is not cur: the end of its tiling
}

// classes are the record sizes, by size/recUnit.
const classes = maxRecord/recUnit + 1

func newArena() arena { return arena{cur: -1} }

// roundRec is the size of the record that holds n bytes.
func roundRec(n int) int { return (n + recUnit - 1) &^ (recUnit - 1) }

func refAt(chunk, off int) recRef { return recRef(chunk<<refShift | off/recUnit) }

func chunkStart(chunk int) int {
	if chunk == 0 {
		return recUnit // so that no record is 0
	}
	return 0
}

// alloc returns a record of size bytes (a multiple of recUnit, at most maxRecord), or 0
// when the arena has reached maxChunks. Its bytes are not cleared. A freed record of the
// same size comes first, then the front of the smallest larger one (the rest of it is
// freed), so space freed by large values serves smaller ones; then the current chunk.
func (a *arena) alloc(size int) recRef {
	c := size / recUnit
	var r recRef
	if a.free[c] != 0 {
		r = a.pop(c)
	} else if big := a.firstFree(c + minFree/recUnit); big > 0 {
		r = a.pop(big)
		a.push(r+recRef(c), big-c)
	} else if r = a.bump(size); r == 0 {
		return 0
	}
	a.live += int64(size)
	a.meta[r>>refShift].live += int32(size)
	return r
}

// bump cuts size bytes from the current chunk, moving to a spare or new one when full.
func (a *arena) bump(size int) recRef {
	if a.cur < 0 || a.end+size > chunkBytes {
		if a.cur >= 0 {
			a.retire()
		}
		switch {
		case len(a.spare) > 0:
			a.cur = a.spare[len(a.spare)-1]
			a.spare = a.spare[:len(a.spare)-1]
		case len(a.chunks) == maxChunks:
			return 0
		default:
			// Allocated as words, so records are 8-byte aligned for the header's fields.
			words := make([]uint64, chunkBytes/8)
			a.chunks = append(a.chunks, unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), chunkBytes))
			a.meta = append(a.meta, chunkMeta{})
			a.cur = len(a.chunks) - 1
		}
		a.end = chunkStart(a.cur)
	}
	r := refAt(a.cur, a.end)
	a.end += size
	return r
}

// retire ends cutting from the current chunk: its tail is freed when it can hold a free
// block, else left out of the tiling.
func (a *arena) retire() {
	k := a.cur
	a.meta[k].end = int32(a.end)
	if tail := chunkBytes - a.end; tail >= minFree {
		a.push(refAt(k, a.end), tail/recUnit)
		a.meta[k].end = chunkBytes
	}
	a.cur = -1
	if a.meta[k].live == 0 {
		a.recycle(k)
	}
}

// release frees the record r of size bytes; a chunk left with no record is recycled.
func (a *arena) release(r recRef, size int) {
	a.live -= int64(size)
	k := int(r >> refShift)
	a.meta[k].live -= int32(size)
	a.push(r, size/recUnit)
	if a.meta[k].live == 0 && k != a.cur {
		a.recycle(k)
	}
}

// recycle takes the free blocks tiling chunk k off their lists and keeps k as a spare.
func (a *arena) recycle(k int) {
	for off := chunkStart(k); off < int(a.meta[k].end); {
		r := refAt(k, off)
		c := int(a.word(r, 2))
		a.unlink(r, c)
		off += c * recUnit
	}
	a.meta[k] = chunkMeta{}
	a.spare = append(a.spare, k)
}

// wordp returns a pointer to the i-th 32-bit word of r.
func (a *arena) wordp(r recRef, i int) *uint32 { return (*uint32)(unsafe.Add(a.ptr(r), 4*i)) }

func (a *arena) word(r recRef, i int) uint32 { return *a.wordp(r, i) }

// push puts the free block r of class c at the head of its list.
func (a *arena) push(r recRef, c int) {
	head := a.free[c]
	*a.wordp(r, 0), *a.wordp(r, 1), *a.wordp(r, 2) = uint32(head), 0, uint32(c)
	if head != 0 {
		*a.wordp(head, 1) = uint32(r)
	}
	a.free[c] = r
	a.used[c/64] |= 1 << (c % 64)
}

func (a *arena) pop(c int) recRef {
	r := a.free[c]
	a.unlink(r, c)
	return r
}

// unlink takes the free block r off the list of class c.
func (a *arena) unlink(r recRef, c int) {
	next, prev := recRef(a.word(r, 0)), recRef(a.word(r, 1))
	if prev == 0 {
		a.free[c] = next
	} else {
		*a.wordp(prev, 0) = uint32(next)
	}
	if next != 0 {
		*a.wordp(next, 1) = uint32(prev)
	}
	if a.free[c] == 0 {
		a.used[c/64] &^= 1 << (c % 64)
	}
}

// firstFree returns the smallest class from c on with a free record, 0 when none.
func (a *arena) firstFree(c int) int {
	for w := c / 64; w < len(a.used) && c < classes; w++ {
		if bits := a.used[w] &^ (1<<(c%64) - 1); bits != 0 {
			return w*64 + mathbits.TrailingZeros64(bits)
		}
		c = (w + 1) * 64
	}
	return 0
}

// ptr is the address of r's first byte.
func (a *arena) ptr(r recRef) unsafe.Pointer {
	c := a.chunks[r>>refShift]
	return unsafe.Pointer(&c[int(r&(1<<refShift-1))*recUnit])
}

// bytes returns n bytes of r from offset off.
func (a *arena) bytes(r recRef, off, n int) []byte {
	c := a.chunks[r>>refShift]
	at := int(r&(1<<refShift-1))*recUnit + off
	return c[at : at+n : at+n]
}
