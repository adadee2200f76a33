package gibsontest

// keyArena holds every key ever stored, back to back in chunks the collector does not
// scan. Keys are never removed (the trie keeps every key, as the reference's does), so
// there is nothing to reuse. A reference is chunk<<keyShift | offset; a key longer than
// bigKey gets a chunk of its own at offset 0, so keys of any length fit.
type keyArena struct {
	chunks [][]byte
	cur    int   // the chunk keys are appended to, -1 before the first
	bytes  int64 // key bytes stored, as counted in memory_used
}

const (
	keyShift    = 20 // chunks up to 1 MiB
	keyChunkMax = 1 << keyShift
	keyChunkMin = 4 << 10              // the first chunk; each next one doubles, up to keyChunkMax
	bigKey      = keyChunkMax / 4      // a chunk's tail left unused is then under a quarter
	maxKeyRefs  = 1 << (32 - keyShift) // chunks addressable: 4 GiB of keys
)

// add stores key and returns its reference; false when the arena is full.
func (k *keyArena) add(key []byte) (uint32, bool) {
	if len(k.chunks) == 0 {
		k.cur = -1
	}
	if len(key) > bigKey {
		if len(k.chunks) == maxKeyRefs {
			return 0, false
		}
		k.chunks = append(k.chunks, append([]byte(nil), key...))
		k.bytes += int64(len(key))
		return uint32(len(k.chunks)-1) << keyShift, true
	}
	if k.cur < 0 || len(k.chunks[k.cur])+len(key) > cap(k.chunks[k.cur]) {
		if len(k.chunks) == maxKeyRefs {
			return 0, false
		}
		size := keyChunkMin
		if k.cur >= 0 {
			size = min(keyChunkMax, 2*cap(k.chunks[k.cur]))
		}
		for size < len(key) {
			size *= 2
		}
		k.chunks = append(k.chunks, make([]byte, 0, size))
		k.cur = len(k.chunks) - 1
	}
	c := k.chunks[k.cur]
	ref := uint32(k.cur)<<keyShift | uint32(len(c))
	k.chunks[k.cur] = append(c, key...)
	k.bytes += int64(len(key))
	return ref, true
}

// get returns n bytes of the key at ref.
func (k *keyArena) get(ref uint32, n int) []byte {
	if n == 0 {
		return nil // the root's, maybe before any chunk exists
	}
	c := k.chunks[ref>>keyShift]
	at := int(ref & (keyChunkMax - 1))
	return c[at : at+n : at+n]
}

// byteAt returns byte i of the key at ref.
func (k *keyArena) byteAt(ref uint32, i int) byte {
	return k.chunks[ref>>keyShift][int(ref&(keyChunkMax-1))+i]
}
