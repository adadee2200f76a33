package gibsontest

import (
	"fmt"
	"testing"
)

// TestItemRecordsReused: a deleted item's record serves the next item stored, and items
// that share a block keep their own values.
func TestItemRecordsReused(t *testing.T) {
	s := NewServer(t)
	for i := range 3 * blockLen {
		s.Set(fmt.Sprint("k", i), []byte(fmt.Sprint("v", i)), 0)
	}
	s.Flush()
	for i := range 3 * blockLen {
		s.Set(fmt.Sprint("n", i), []byte(fmt.Sprint("w", i)), 0)
	}
	s.mu.Lock()
	cut, free := len(s.st.items.cur), len(s.st.freeItems)
	s.mu.Unlock()
	if cut != blockLen || free != 0 {
		t.Errorf("after storing, flushing and storing %d items again: %d records cut from the last block, %d free; want the freed ones reused (%d, 0)",
			3*blockLen, cut, free, blockLen)
	}
	for i := range 3 * blockLen {
		if v, ok := s.Get(fmt.Sprint("n", i)); !ok || string(v) != fmt.Sprint("w", i) {
			t.Fatalf("n%d = %q, %v; want w%d", i, v, ok, i)
		}
		if _, ok := s.Get(fmt.Sprint("k", i)); ok {
			t.Fatalf("k%d still holds an item after Flush", i)
		}
	}
}
