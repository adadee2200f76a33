package gibsontest

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// byteTrie is the reference server's structure (docs/protocol.md §5.6): a node per key
// byte, children in first-creation order, never pruned.
type byteTrie struct {
	kids []*byteTrie
	b    byte
	key  string
	held bool
}

func (n *byteTrie) insert(key string) {
	for i := 0; i < len(key); i++ {
		var next *byteTrie
		for _, c := range n.kids {
			if c.b == key[i] {
				next = c
				break
			}
		}
		if next == nil {
			next = &byteTrie{b: key[i], key: key[:i+1]}
			n.kids = append(n.kids, next)
		}
		n = next
	}
	n.held = true
}

// walk lists the held keys under prefix in depth-first order.
func (n *byteTrie) walk(prefix string, out []string) []string {
	if len(n.key) >= len(prefix) {
		if n.key[:len(prefix)] != prefix {
			return out
		}
		if n.held {
			out = append(out, n.key)
		}
	} else if prefix[:len(n.key)] != n.key {
		return out
	}
	for _, c := range n.kids {
		out = c.walk(prefix, out)
	}
	return out
}

// The radix trie walks keys in the byte trie's order, under every prefix, whatever the
// order keys were inserted in (splits, keys that are prefixes of others, NUL bytes).
func TestTrieOrderMatchesByteTrie(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		tr, model := newTrie(), &byteTrie{}
		var keys []string
		for range 1 + rng.IntN(60) {
			k := make([]byte, rng.IntN(7))
			for i := range k {
				k[i] = "ab\x00c"[rng.IntN(4)]
			}
			keys = append(keys, string(k))
			tr.at(tr.insert(k)).rec = 1
			model.insert(string(k))
		}
		for _, p := range append(keys, "", "a", "ab", "b\x00", "zz") {
			var got []string
			tr.walk([]byte(p), func(n nodeID) bool { got = append(got, string(tr.key(n))); return true })
			if want := model.walk(p, nil); !slices.Equal(got, want) {
				t.Fatalf("round %d, keys %q, prefix %q: walk %q, want %q", round, keys, p, got, want)
			}
		}
	}
}

// A cursor resumed after inserts (which split edges, the cursor's top node included, and
// add siblings) visits every key present at its start once, in the undisturbed order, and
// nothing outside its prefix.
func TestCursorResumesAcrossRandomInserts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	randKey := func() []byte {
		k := make([]byte, 1+rng.IntN(6))
		for i := range k {
			k[i] = "abc"[rng.IntN(3)]
		}
		return k
	}
	for round := range 300 {
		tr := newTrie()
		for range 1 + rng.IntN(40) {
			tr.at(tr.insert(randKey())).rec = 1
		}
		prefix := randKey()
		prefix = prefix[:min(len(prefix), rng.IntN(3))]
		var want []string
		tr.walk(prefix, func(n nodeID) bool { want = append(want, string(tr.key(n))); return true })
		cur := tr.cursor(prefix)
		var got []string
		for !cur.done() {
			n := cur.next(1 + rng.IntN(3))
			if n != 0 {
				k := string(tr.key(n))
				if len(k) < len(prefix) || k[:len(prefix)] != string(prefix) {
					t.Fatalf("round %d: key %q visited under prefix %q", round, k, prefix)
				}
				if slices.Contains(want, k) {
					got = append(got, k)
				}
			}
			for range rng.IntN(3) {
				tr.at(tr.insert(randKey())).rec = 1
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d, prefix %q: resumed walk visited %q, want %q", round, prefix, got, want)
		}
	}
}
