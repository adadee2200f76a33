package gibsontest

// The reference server keeps keys in a byte trie whose child lists are in the order each
// branch was first created and are never pruned, and walks it depth-first for prefix
// commands (docs/protocol.md §5.6). A radix tree gives the same order with far fewer nodes:
// splitting an edge keeps the existing continuation first, which is exactly the branch
// that was created earlier. Nodes are never removed, so deleted branches keep their place.

import "slices"

type node struct {
	kids  []*node // in first-creation order
	it    *item   // the item stored under key, nil when none
	label string  // edge label from the parent; empty only for the root
	key   string  // the full key this node spells
}

type trie struct {
	root  node
	nodes map[string]*node // every node that ever held an item, for O(1) lookups
	bytes int64            // what the nodes, their keys and the map hold (an estimate)
	// slab is the block new nodes are cut from. Nodes are never freed, so blocks need no
	// bookkeeping; and a walk then reads this server's nodes in creation order, not spread
	// over a heap shared with other servers of the same process (four in-process servers
	// filled in turn walked at about half the speed of one server with as many keys).
	slab blocks[node]
}

// blockLen is how many records a block holds (nodes: 8 KiB; items: 9 KiB).
const blockLen = 128

// blocks hands out records cut from blocks of blockLen, for a server's nodes and items.
type blocks[T any] struct{ cur []T }

// next returns a zero record from the current block, starting a new block when it is full.
func (b *blocks[T]) next() *T {
	if len(b.cur) == cap(b.cur) {
		b.cur = make([]T, 0, blockLen)
	}
	b.cur = b.cur[:len(b.cur)+1]
	return &b.cur[len(b.cur)-1]
}

// Memory held per node, measured with the Go runtime (go1.26, amd64): the node record,
// its slot in its parent's child list (append doubles: up to two pointers) and, for nodes
// holding keys, its share of the map (entry plus load factor and doubling).
const (
	nodeBytes     = 64
	kidSlotBytes  = 16
	mapEntryBytes = 56
)

func newTrie() *trie { return &trie{nodes: make(map[string]*node)} }

// get returns the node of key, nil when key never held an item.
func (t *trie) get(key []byte) *node { return t.nodes[string(key)] }

// insert returns the node for key, creating it (and splitting an edge) when needed.
func (t *trie) insert(key []byte) *node {
	if n := t.nodes[string(key)]; n != nil {
		return n
	}
	k := string(key)
	n, rest := &t.root, k
	for rest != "" {
		i := n.child(rest[0])
		if i < 0 {
			leaf := t.slab.next()
			leaf.label, leaf.key = rest, k
			n.kids = append(n.kids, leaf)
			n = leaf
			t.bytes += nodeBytes + kidSlotBytes + allocSize(len(k))
			break
		}
		c := n.kids[i]
		l := commonPrefix(c.label, rest)
		if l < len(c.label) {
			mid := t.slab.next()
			mid.label, mid.key, mid.kids = c.label[:l], c.key[:len(c.key)-len(c.label)+l], []*node{c}
			t.bytes += nodeBytes + kidSlotBytes
			c.label = c.label[l:]
			n.kids[i] = mid
			c = mid
		}
		n, rest = c, rest[l:]
	}
	t.nodes[k] = n
	t.bytes += mapEntryBytes
	return n
}

func (n *node) child(b byte) int {
	for i, c := range n.kids {
		if c.label[0] == b {
			return i
		}
	}
	return -1
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// subtree returns the topmost node whose keys all start with prefix, or nil.
func (t *trie) subtree(prefix []byte) *node {
	n, rest := &t.root, prefix
	for len(rest) > 0 {
		i := n.child(rest[0])
		if i < 0 {
			return nil
		}
		c := n.kids[i]
		if len(rest) <= len(c.label) {
			if c.label[:len(rest)] != string(rest) {
				return nil
			}
			return c
		}
		if string(rest[:len(c.label)]) != c.label {
			return nil
		}
		n, rest = c, rest[len(c.label):]
	}
	return n
}

// walk visits every node holding an item under prefix in trie order (a key before its
// extensions, siblings in first-creation order) until fn returns false. fn may set or
// clear n.it but must not insert keys.
func (t *trie) walk(prefix []byte, fn func(n *node) bool) {
	if n := t.subtree(prefix); n != nil {
		n.walk(fn)
	}
}

func (n *node) walk(fn func(n *node) bool) bool {
	if n.it != nil && !fn(n) {
		return false
	}
	for _, c := range n.kids {
		if !c.walk(fn) {
			return false
		}
	}
	return true
}

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
