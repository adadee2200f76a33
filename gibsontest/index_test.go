package gibsontest

import (
	"fmt"
	"testing"
)

// The index finds every key after its segments have doubled and split (and the directory
// doubled), and after edge splits moved keys to new nodes.
func TestIndexSplitsSegments(t *testing.T) {
	tr := newTrie()
	const n = 5 * segMax
	nodes := make([]nodeID, n)
	for i := range n {
		nodes[i] = tr.insert([]byte(fmt.Sprintf("k%d", i)))
	}
	if tr.idx.depth < 2 || len(tr.idx.dir) != 1<<tr.idx.depth {
		t.Fatalf("directory depth %d with %d entries after %d keys; want segments split", tr.idx.depth, len(tr.idx.dir), n)
	}
	for i := range n {
		k := []byte(fmt.Sprintf("k%d", i))
		got := tr.get(k)
		if got == 0 || string(tr.key(got)) != string(k) {
			t.Fatalf("get(%q) = node %d spelling %q", k, got, tr.key(got))
		}
		// "k1" was split by "k10" and moved: its node may differ from the one first returned.
		if got != nodes[i] && tr.at(nodes[i]).depth == uint32(len(k)) {
			t.Fatalf("get(%q) = %d, want %d", k, got, nodes[i])
		}
	}
	if tr.get([]byte("k")) != 0 || tr.get([]byte(fmt.Sprintf("k%d", n))) != 0 {
		t.Error("a key never inserted is found")
	}
	var slots int
	seen := map[*segment]bool{}
	for _, sg := range tr.idx.dir {
		if !seen[sg] {
			seen[sg] = true
			slots += len(sg.slots)
		}
	}
	if slots != tr.idx.slots {
		t.Errorf("segments hold %d slots, memory_used counts %d", slots, tr.idx.slots)
	}
}
