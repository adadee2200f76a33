package gibsontest

// The reference server keeps keys in a byte trie whose child lists are in the order each
// branch was first created and are never pruned, and walks it depth-first for prefix
// commands (docs/protocol.md §5.6). A radix tree gives the same order with far fewer nodes:
// splitting an edge keeps the existing continuation first, which is exactly the branch
// that was created earlier. Nodes are never removed, so deleted branches keep their place.
//
// Nodes are 20-byte records in chunks, linked by 32-bit indices (first child, next
// sibling), so the collector scans none of them; an edge label is a slice of some key in
// the key arena rather than a string of its own, and keys are found by a hash index
// (index.go) instead of a map.

import "bytes"

// nodeID indexes a node; 0 is none (node 0 is never used), rootID is the root.
type nodeID uint32

const rootID nodeID = 1

type node struct {
	kid, sib nodeID // first child; next sibling, in first-creation order
	key      uint32 // key arena reference of a key that starts with what this node spells
	depth    uint32 // length of what it spells; its label is that key[parent's depth:depth]
	rec      recRef // the item stored under the key this node spells, 0 when none
}

// Node chunks hold nodeChunk nodes (40 KiB).
const (
	nodeShift = 11
	nodeChunk = 1 << nodeShift
	nodeBytes = 20 // memory_used per node
)

type trie struct {
	nodes [][]node
	count uint32 // nodes handed out, the unused node 0 and the root included
	keys  keyArena
	idx   index
}

func newTrie() *trie {
	t := &trie{idx: newIndex()}
	t.newNode() // 0: none
	t.newNode() // the root
	return t
}

// at returns the node n; the pointer stays valid, as chunks never move.
func (t *trie) at(n nodeID) *node { return &t.nodes[n>>nodeShift][n&(nodeChunk-1)] }

// newNode returns a zero node, 0 when the 32-bit indices are used up.
func (t *trie) newNode() nodeID {
	if t.count == ^uint32(0) {
		return 0
	}
	if int(t.count>>nodeShift) == len(t.nodes) {
		t.nodes = append(t.nodes, make([]node, nodeChunk))
	}
	t.count++
	return nodeID(t.count - 1)
}

// bytes is what the key index holds, as counted in memory_used.
func (t *trie) bytes() int64 {
	return int64(t.count-2)*nodeBytes + t.keys.bytes + t.idx.bytes()
}

// key returns what n spells. The bytes are the key arena's: do not modify them.
func (t *trie) key(n nodeID) []byte {
	nd := t.at(n)
	return t.keys.get(nd.key, int(nd.depth))
}

// get returns the node of key, 0 when key never held an item.
func (t *trie) get(key []byte) nodeID { return t.idx.find(t, key) }

// insert returns the node for key, creating it (and splitting an edge) when needed; 0
// when the key arena or the node indices are full.
func (t *trie) insert(key []byte) nodeID {
	if n := t.get(key); n != 0 {
		return n
	}
	n, d := rootID, 0
	for d < len(key) {
		c, last := t.child(n, key[d], d)
		if c == 0 {
			ref, ok := t.keys.add(key)
			leaf := t.newNode()
			if !ok || leaf == 0 {
				return 0
			}
			*t.at(leaf) = node{key: ref, depth: uint32(len(key))}
			if last == 0 {
				t.at(n).kid = leaf
			} else {
				t.at(last).sib = leaf
			}
			t.idx.add(t, leaf, key)
			return leaf
		}
		label := t.key(c)[d:]
		l := commonPrefix(label, key[d:])
		if l < len(label) && !t.split(c, d+l) {
			return 0
		}
		n, d = c, d+l
	}
	t.idx.add(t, n, key)
	return n
}

// split shortens c to spell depth bytes. It splits in place: c keeps its slot and its
// next sibling and becomes the new middle node, and a new node takes c's continuation
// (children, item, index entry), so a walk's pending nodes keep their siblings (walk.go).
func (t *trie) split(c nodeID, depth int) bool {
	moved := t.newNode()
	if moved == 0 {
		return false
	}
	cn := t.at(c)
	*t.at(moved) = node{kid: cn.kid, key: cn.key, depth: cn.depth, rec: cn.rec}
	t.idx.replace(t, t.key(c), c, moved) // while c still spells its key
	cn.kid, cn.rec, cn.depth = moved, 0, uint32(depth)
	return true
}

// child returns n's child whose label starts with b (n spelling d bytes), or 0 and n's
// last child.
func (t *trie) child(n nodeID, b byte, d int) (c, last nodeID) {
	for c = t.at(n).kid; c != 0; c = t.at(c).sib {
		if t.keys.byteAt(t.at(c).key, d) == b {
			return c, last
		}
		last = c
	}
	return 0, last
}

func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// subtree returns the topmost node whose keys all start with prefix, or 0.
func (t *trie) subtree(prefix []byte) nodeID {
	n, d := rootID, 0
	for d < len(prefix) {
		c, _ := t.child(n, prefix[d], d)
		if c == 0 {
			return 0
		}
		label, rest := t.key(c)[d:], prefix[d:]
		if len(rest) <= len(label) {
			if !bytes.Equal(label[:len(rest)], rest) {
				return 0
			}
			return c
		}
		if !bytes.Equal(rest[:len(label)], label) {
			return 0
		}
		n, d = c, int(t.at(c).depth)
	}
	return n
}

// walk visits every node holding an item under prefix in trie order (a key before its
// extensions, siblings in first-creation order) until fn returns false. fn may set or
// clear the node's item but must not insert keys.
func (t *trie) walk(prefix []byte, fn func(n nodeID) bool) {
	for c := t.cursor(prefix); !c.done(); {
		if n := c.next(1 << 30); n != 0 && !fn(n) {
			return
		}
	}
}
