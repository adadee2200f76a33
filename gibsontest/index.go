package gibsontest

import (
	"bytes"
	"hash/maphash"
)

// index finds a key's node: open addressing with linear probing over node indices, and a
// tag byte per slot (7 bits of the hash) so a probe rarely reads a key that does not
// match. Five bytes a slot at a load of 40–80%, where a Go map[string]*node held a
// string header, a pointer and a heap copy of the key per entry. Entries are never
// removed: like the trie, the index keeps every key that ever held an item.
type index struct {
	seed  maphash.Seed
	slots []nodeID
	tags  []uint8 // 0: empty; else 0x80 | the hash's top 7 bits
	n     int
}

func newIndex() index { return index{seed: maphash.MakeSeed()} }

func (x *index) bytes() int64 { return int64(len(x.slots)) * 5 }

// slot returns where key is (found) or would go, and key's tag.
func (x *index) slot(t *trie, key []byte) (int, uint8, bool) {
	h := maphash.Bytes(x.seed, key)
	tag := uint8(h>>57) | 0x80
	mask := len(x.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		switch x.tags[i] {
		case 0:
			return i, tag, false
		case tag:
			if bytes.Equal(t.key(x.slots[i]), key) {
				return i, tag, true
			}
		}
	}
}

// find returns key's node, 0 when it has none.
func (x *index) find(t *trie, key []byte) nodeID {
	if x.n == 0 {
		return 0
	}
	if i, _, ok := x.slot(t, key); ok {
		return x.slots[i]
	}
	return 0
}

// add indexes n, which spells key (not yet indexed).
func (x *index) add(t *trie, n nodeID, key []byte) {
	if (x.n+1)*5 > len(x.slots)*4 {
		x.grow(t)
	}
	i, tag, _ := x.slot(t, key)
	x.slots[i], x.tags[i] = n, tag
	x.n++
}

// replace points key's entry, if it is old's, to n.
func (x *index) replace(t *trie, key []byte, old, n nodeID) {
	if x.n == 0 {
		return
	}
	if i, _, ok := x.slot(t, key); ok && x.slots[i] == old {
		x.slots[i] = n
	}
}

// grow doubles the table. The old one is garbage at once: with a small GC percent it is
// collected before the heap grows much (cmd/gibson sets one, BENCHMARKS.md).
func (x *index) grow(t *trie) {
	old, oldTags := x.slots, x.tags
	size := max(8, 2*len(old))
	x.slots, x.tags = make([]nodeID, size), make([]uint8, size)
	mask := size - 1
	for j, n := range old {
		if oldTags[j] == 0 {
			continue
		}
		h := maphash.Bytes(x.seed, t.key(n))
		i := int(h) & mask
		for x.tags[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i], x.tags[i] = n, oldTags[j]
	}
}
