package gibsontest

import "unsafe"

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
	free   [maxRecord/recUnit + 1]recRef
	live   int64 // bytes of records handed out and not yet reusable
}

// roundRec is the size of the record that holds n bytes.
func roundRec(n int) int { return (n + recUnit - 1) &^ (recUnit - 1) }

// alloc returns a record of size bytes (a multiple of recUnit, at most maxRecord), or 0
// when the arena has reached maxChunks. Its bytes are not cleared.
func (a *arena) alloc(size int) recRef {
	a.live += int64(size)
	if r := a.free[size/recUnit]; r != 0 {
		a.free[size/recUnit] = recRef(*(*uint32)(a.ptr(r)))
		return r
	}
	if len(a.chunks) == 0 || a.end+size > chunkBytes {
		if len(a.chunks) == maxChunks {
			a.live -= int64(size)
			return 0
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
	return r
}

// release puts the record r of size bytes on its free list.
func (a *arena) release(r recRef, size int) {
	a.live -= int64(size)
	*(*uint32)(a.ptr(r)) = uint32(a.free[size/recUnit])
	a.free[size/recUnit] = r
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
