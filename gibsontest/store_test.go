package gibsontest

import (
	"fmt"
	"strings"
	"testing"
)

// TestItemRecordsReused: a deleted item's record serves the next item of the same size,
// so storing, flushing and storing as many items again does not grow the arena, and the
// items that reuse records keep their own values.
func TestItemRecordsReused(t *testing.T) {
	s := NewServer(t)
	const n = 3000
	for i := range n {
		s.Set(fmt.Sprintf("k%05d", i), []byte(fmt.Sprintf("v%05d", i)), 0)
	}
	s.mu.Lock()
	chunks, end, live := len(s.st.ar.chunks), s.st.ar.end, s.st.ar.live
	s.mu.Unlock()
	s.Flush()
	for i := range n {
		s.Set(fmt.Sprintf("n%05d", i), []byte(fmt.Sprintf("w%05d", i)), 0)
	}
	s.mu.Lock()
	chunks2, end2, live2 := len(s.st.ar.chunks), s.st.ar.end, s.st.ar.live
	s.mu.Unlock()
	if chunks2 != chunks || end2 != end || live2 != live {
		t.Errorf("after storing, flushing and storing %d items again: %d chunks, end %d, %d bytes live; want the freed records reused (%d, %d, %d)",
			n, chunks2, end2, live2, chunks, end, live)
	}
	for i := range n {
		if v, ok := s.Get(fmt.Sprintf("n%05d", i)); !ok || string(v) != fmt.Sprintf("w%05d", i) {
			t.Fatalf("n%05d = %q, %v; want w%05d", i, v, ok, i)
		}
		if _, ok := s.Get(fmt.Sprintf("k%05d", i)); ok {
			t.Fatalf("k%05d still holds an item after Flush", i)
		}
	}
}

// Keys of every length are stored and found: the empty key (the root's), keys longer
// than the first key chunks, and keys longer than a shared chunk's quarter (a chunk of
// their own), with the shorter keys around them intact.
func TestKeysOfAnyLength(t *testing.T) {
	s := NewServer(t)
	s.Set("", []byte("root"), 0)
	if v, ok := s.Get(""); !ok || string(v) != "root" {
		t.Fatalf(`Get("") = %q, %v before any other key`, v, ok)
	}
	lens := []int{1, 10 << 10, 3, 300 << 10, 5000, 2 << 20, 7}
	key := func(i, n int) string { return fmt.Sprintf("%d:%s", i, strings.Repeat("k", n)) }
	for i, n := range lens {
		s.Set(key(i, n), []byte(fmt.Sprint("v", i)), 0)
	}
	for i, n := range lens {
		if v, ok := s.Get(key(i, n)); !ok || string(v) != fmt.Sprint("v", i) {
			t.Errorf("key %d of %d bytes: %q, %v", i, n, v, ok)
		}
	}
	if v, ok := s.Get(""); !ok || string(v) != "root" {
		t.Errorf(`Get("") = %q, %v`, v, ok)
	}
	if got := len(s.Keys("")); got != len(lens)+1 {
		t.Errorf("%d keys listed, want %d", got, len(lens)+1)
	}
}

// Space freed by large values serves smaller ones: storing 1 000-byte values, deleting
// most of them (a few left in every chunk, so no chunk is wholly free) and storing
// 100-byte values in their place does not grow the arena.
func TestFreedRecordsServeSmallerValues(t *testing.T) {
	s := NewServer(t)
	const n = 2000
	for i := range n {
		s.Set(fmt.Sprintf("a%05d", i), []byte(strings.Repeat("a", 1000)), 0)
	}
	s.mu.Lock()
	chunks := len(s.st.ar.chunks)
	for i := range n {
		if i%64 != 0 {
			s.st.free(s.st.tree.get([]byte(fmt.Sprintf("a%05d", i))))
		}
	}
	spare := len(s.st.ar.spare)
	s.mu.Unlock()
	if spare != 0 {
		t.Fatalf("%d chunks wholly free; the test wants every chunk to keep a record", spare)
	}
	for i := range 5 * n {
		s.Set(fmt.Sprintf("b%05d", i), []byte(fmt.Sprintf("%05d%s", i, strings.Repeat("b", 95))), 0)
	}
	s.mu.Lock()
	chunks2 := len(s.st.ar.chunks)
	s.mu.Unlock()
	if chunks2 != chunks {
		t.Errorf("the arena grew from %d chunks to %d storing smaller values in freed space", chunks, chunks2)
	}
	for i := range 5 * n {
		want := fmt.Sprintf("%05d%s", i, strings.Repeat("b", 95))
		if v, ok := s.Get(fmt.Sprintf("b%05d", i)); !ok || string(v) != want {
			t.Fatalf("b%05d = %q, %v", i, v, ok)
		}
	}
	for i := 0; i < n; i += 64 {
		if v, ok := s.Get(fmt.Sprintf("a%05d", i)); !ok || string(v) != strings.Repeat("a", 1000) {
			t.Fatalf("a%05d = %q, %v", i, v, ok)
		}
	}
}

// A chunk whose records are all freed serves records of any size: storing 100-byte
// values, deleting them and storing 200-byte values takes about the chunks the 200-byte
// values need, not those plus the old ones.
func TestFreedChunksServeLargerValues(t *testing.T) {
	s := NewServer(t)
	const n = 20000
	for i := range n {
		s.Set(fmt.Sprintf("a%05d", i), []byte(strings.Repeat("a", 100)), 0)
	}
	s.Flush()
	for i := range n {
		s.Set(fmt.Sprintf("b%05d", i), []byte(fmt.Sprintf("%05d%s", i, strings.Repeat("b", 195))), 0)
	}
	s.mu.Lock()
	chunks := len(s.st.ar.chunks)
	s.mu.Unlock()
	if need := n*roundRec(hdrLen+200)/chunkBytes + 2; chunks > need {
		t.Errorf("%d chunks hold %d records of %d bytes; want at most %d", chunks, n, roundRec(hdrLen+200), need)
	}
	for i := range n {
		want := fmt.Sprintf("%05d%s", i, strings.Repeat("b", 195))
		if v, ok := s.Get(fmt.Sprintf("b%05d", i)); !ok || string(v) != want {
			t.Fatalf("b%05d = %q, %v", i, v, ok)
		}
	}
}
