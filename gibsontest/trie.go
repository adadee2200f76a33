package gibsontest

// The reference server keeps keys in a byte trie whose child lists are in the order each
// branch was first created and are never pruned, and walks it depth-first for prefix
// commands (docs/protocol.md §5.6). A radix tree gives the same order with far fewer nodes:
// splitting an edge keeps the existing continuation first, which is exactly the branch
// that was created earlier. Nodes are never removed, so deleted branches keep their place.

type node struct {
	label string  // edge label from the parent; empty only for the root
	key   string  // the full key this node spells
	kids  []*node // in first-creation order
	it    *item   // the item stored under key, nil when none
}

type trie struct {
	root  node
	nodes map[string]*node // every node that ever held an item, for O(1) lookups
}

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
			leaf := &node{label: rest, key: k}
			n.kids = append(n.kids, leaf)
			n = leaf
			break
		}
		c := n.kids[i]
		l := commonPrefix(c.label, rest)
		if l < len(c.label) {
			mid := &node{label: c.label[:l], key: c.key[:len(c.key)-len(c.label)+l], kids: []*node{c}}
			c.label = c.label[l:]
			n.kids[i] = mid
			c = mid
		}
		n, rest = c, rest[l:]
	}
	t.nodes[k] = n
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
