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
// header plus the value rounded up to 8 bytes.

const (
	chunkShift = 18 // record chunks of 256 KiB
	chunkBytes = 1 << chunkShift
	recUnit    = 8 // records are 8-byte aligned and sized
	// maxRecord is the largest record kept in the arena; larger values live in their own
	// heap slices (store.big), where Go's allocator reuses space of any size.
	maxRecord = 2048
	// maxChunks keeps references in 32 bits: 32 GiB of records.
	maxChunks = 1 << (32 - chunkShift + 3)
)

// recRef addresses a record: chunk<<(chunkShift-3) | offset/8. 0 is no record (the first
// 8 bytes of chunk 0 are never handed out).
type recRef uint32

// arena hands out records. Nothing in it holds a pointer, so the collector skips it.
type arena struct {
	chunks [][]byte
	end    int // bump offset in the last chunk
	free   [classes]recRef
	used   [(classes + 63) / 64]uint64 // bit c: free[c] is not empty
	live   int64                       // bytes of records handed out and not yet reusable
}

// classes are the record sizes, by size/recUnit.
const classes = maxRecord/recUnit + 1

// roundRec is the size of the record that holds n bytes.
func roundRec(n int) int { return (n + recUnit - 1) &^ (recUnit - 1) }

// alloc returns a record of size bytes (a multiple of recUnit, at most maxRecord), or 0
// when the arena has reached maxChunks. Its bytes are not cleared. A freed record of the
// same size comes first, then the front of the smallest larger one (the rest of it is
// freed), so space freed by large values serves smaller ones; then the last chunk.
func (a *arena) alloc(size int) recRef {
	c := size / recUnit
	if a.free[c] != 0 {
		a.live += int64(size)
		return a.pop(c)
	}
	if big := a.firstFree(c + 2); big > 0 { // +2: a rest of 8 bytes would serve nothing
		r := a.pop(big)
		a.push(r+recRef(c), big-c)
		a.live += int64(size)
		return r
	}
	if len(a.chunks) == 0 || a.end+size > chunkBytes {
		if len(a.chunks) == maxChunks {
			return 0
		}
		if tail := chunkBytes - a.end; len(a.chunks) > 0 && tail >= 2*recUnit {
			a.push(recRef((len(a.chunks)-1)<<(chunkShift-3)|a.end/recUnit), tail/recUnit)
		}
		// Allocated as words, so records are 8-byte aligned for the header's fields.
		words := make([]uint64, chunkBytes/8)
		a.chunks = append(a.chunks, unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), chunkBytes))
		a.end = 0
		if len(a.chunks) == 1 {
			a.end = recUnit
		}
	}
	r := recRef((len(a.chunks)-1)<<(chunkShift-3) | a.end/recUnit)
	a.end += size
	a.live += int64(size)
	return r
}

// release puts the record r of size bytes on its free list.
func (a *arena) release(r recRef, size int) {
	a.live -= int64(size)
	a.push(r, size/recUnit)
}

func (a *arena) push(r recRef, c int) {
	*(*uint32)(a.ptr(r)) = uint32(a.free[c])
	a.free[c] = r
	a.used[c/64] |= 1 << (c % 64)
}

func (a *arena) pop(c int) recRef {
	r := a.free[c]
	a.free[c] = recRef(*(*uint32)(a.ptr(r)))
	if a.free[c] == 0 {
		a.used[c/64] &^= 1 << (c % 64)
	}
	return r
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
	c := a.chunks[r>>(chunkShift-3)]
	return unsafe.Pointer(&c[int(r&(1<<(chunkShift-3)-1))*recUnit])
}

// bytes returns n bytes of r from offset off.
func (a *arena) bytes(r recRef, off, n int) []byte {
	c := a.chunks[r>>(chunkShift-3)]
	at := int(r&(1<<(chunkShift-3)-1))*recUnit + off
	return c[at : at+n : at+n]
}
