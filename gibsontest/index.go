package gibsontest

import (
	"bytes"
	"hash/maphash"
)

// index finds a key's node. It is extendible hashing: a directory, chosen by the top
// bits of the key's hash, of segments; each segment is an open-addressing table with
// linear probing over node indices and a tag byte per slot (7 other bits of the hash), so
// a probe rarely reads a key that does not match. Five bytes a slot at a load of 40–80 %,
// where a Go map[string]*node held a string header, a pointer and a heap copy of the key
// per entry. A full segment doubles up to segMax slots and then splits in two, so growing
// rehashes at most one segment's keys (a single table doubling at 3.4 M keys held the
// server lock for 0.9 s). Entries are never removed: like the trie, the index keeps every
// key that ever held an item.
type index struct {
	seed  maphash.Seed
	dir   []*segment // 1<<depth entries, by the hash's top depth bits
	depth uint
	n     int
	slots int // in all segments, for memory_used
}

type segment struct {
	depth uint // the top bits its keys' hashes share
	slots []nodeID
	tags  []uint8 // 0: empty; else 0x80 | 7 bits of the hash
	n     int
}

// segMax is the size at which a full segment splits instead of doubling.
const segMax = 1 << 14

func newIndex() index { return index{seed: maphash.MakeSeed(), dir: []*segment{{}}} }

func (x *index) bytes() int64 { return int64(x.slots) * 5 }

func (x *index) hash(key []byte) uint64 { return maphash.Bytes(x.seed, key) }

func (x *index) segment(h uint64) *segment { return x.dir[h>>(64-x.depth)&(1<<x.depth-1)] }

func slotTag(h uint64) uint8 { return uint8(h>>32) | 0x80 }

// slot returns where key (of hash h) is in sg (found) or would go.
func (sg *segment) slot(t *trie, key []byte, h uint64) (int, bool) {
	tag, mask := slotTag(h), len(sg.slots)-1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		switch sg.tags[i] {
		case 0:
			return i, false
		case tag:
			if bytes.Equal(t.key(sg.slots[i]), key) {
				return i, true
			}
		}
	}
}

// put stores n (of hash h) in a free slot of sg.
func (sg *segment) put(n nodeID, h uint64) {
	mask := len(sg.slots) - 1
	i := int(h) & mask
	for sg.tags[i] != 0 {
		i = (i + 1) & mask
	}
	sg.slots[i], sg.tags[i] = n, slotTag(h)
	sg.n++
}

// find returns key's node, 0 when it has none.
func (x *index) find(t *trie, key []byte) nodeID {
	if x.n == 0 {
		return 0
	}
	h := x.hash(key)
	sg := x.segment(h)
	if i, ok := sg.slot(t, key, h); ok {
		return sg.slots[i]
	}
	return 0
}

// add indexes n, which spells key (not yet indexed).
func (x *index) add(t *trie, n nodeID, key []byte) {
	h := x.hash(key)
	sg := x.segment(h)
	for (sg.n+1)*5 > len(sg.slots)*4 {
		if len(sg.slots) < segMax {
			x.rebuild(t, sg, max(8, 2*len(sg.slots)))
		} else {
			x.split(t, sg)
		}
		sg = x.segment(h)
	}
	sg.put(n, h)
	x.n++
}

// replace points key's entry, if it is old's, to n.
func (x *index) replace(t *trie, key []byte, old, n nodeID) {
	if x.n == 0 {
		return
	}
	h := x.hash(key)
	sg := x.segment(h)
	if i, ok := sg.slot(t, key, h); ok && sg.slots[i] == old {
		sg.slots[i] = n
	}
}

// rebuild gives sg size slots, putting its entries back.
func (x *index) rebuild(t *trie, sg *segment, size int) {
	old, oldTags := sg.slots, sg.tags
	x.slots += size - len(old)
	sg.slots, sg.tags, sg.n = make([]nodeID, size), make([]uint8, size), 0
	for i, n := range old {
		if oldTags[i] != 0 {
			sg.put(n, x.hash(t.key(n)))
		}
	}
}

// split replaces sg by two segments of its size, by one more bit of the hash.
func (x *index) split(t *trie, sg *segment) {
	if sg.depth == x.depth { // double the directory: each entry twice
		dir := make([]*segment, 2*len(x.dir))
		for i, s := range x.dir {
			dir[2*i], dir[2*i+1] = s, s
		}
		x.dir, x.depth = dir, x.depth+1
	}
	d := sg.depth + 1
	halves := [2]*segment{}
	for b := range halves {
		halves[b] = &segment{depth: d, slots: make([]nodeID, len(sg.slots)), tags: make([]uint8, len(sg.slots))}
	}
	x.slots += len(sg.slots)
	for i, n := range sg.slots {
		if sg.tags[i] != 0 {
			h := x.hash(t.key(n))
			halves[h>>(64-d)&1].put(n, h)
		}
	}
	for i, s := range x.dir {
		if s == sg {
			x.dir[i] = halves[i>>(x.depth-d)&1]
		}
	}
}
