package gibsontest

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/gogibson/gogibson/generated"
)

// Value bytes taken under a retain stay intact while other requests delete and store
// items of the same sizes (which reuse freed records once no retain covers them), and
// once released the queued records are reused rather than the arena growing.
func TestRetainedValuesSurviveChurn(t *testing.T) {
	s := NewServer(t)
	val := func(round, i int) []byte {
		return []byte(fmt.Sprintf("%03d-%05d-%s", round, i, strings.Repeat("x", i%40)))
	}
	const n = 2000
	for i := range n {
		s.Set(fmt.Sprintf("k%05d", i), val(0, i), 0)
	}
	s.Set("big", bytes.Repeat([]byte("B"), 3*maxRecord), 0)

	s.mu.Lock()
	release := s.st.retain()
	held := make([][]byte, n)
	for i := range n {
		held[i] = s.st.value(s.st.item(s.st.tree.get([]byte(fmt.Sprintf("k%05d", i)))))
	}
	bigHeld := s.st.value(s.st.item(s.st.tree.get([]byte("big"))))
	s.mu.Unlock()

	c := dial(t, s)
	for round := 1; round <= 3; round++ { // deletes and stores, over the protocol
		for i := range n {
			k := fmt.Sprintf("k%05d", i)
			c.do(generated.OpDelete, k)
			c.do(generated.OpSet, "0", k, string(val(round, i)))
		}
		c.do(generated.OpSet, "0", "big", strings.Repeat("b", 3*maxRecord))
	}
	for i := range n {
		if !bytes.Equal(held[i], val(0, i)) {
			t.Fatalf("retained value %d is %q after churn, want %q", i, held[i], val(0, i))
		}
	}
	if !bytes.Equal(bigHeld, bytes.Repeat([]byte("B"), 3*maxRecord)) {
		t.Fatalf("retained large value changed after churn")
	}

	s.mu.Lock()
	queued, end, chunks := len(s.st.pend), s.st.ar.end, len(s.st.ar.chunks)
	s.mu.Unlock()
	if queued < 3*n {
		t.Errorf("%d frees queued under the retain, want at least %d", queued, 3*n)
	}
	release()
	release()          // a second call changes nothing
	for i := range n { // as many records as were queued per round: all reused
		k := fmt.Sprintf("k%05d", i)
		c.do(generated.OpDelete, k)
		c.do(generated.OpSet, "0", k, string(val(4, i)))
	}
	s.mu.Lock()
	queued, end2, chunks2 := len(s.st.pend), s.st.ar.end, len(s.st.ar.chunks)
	s.mu.Unlock()
	if queued != 0 || end2 != end || chunks2 != chunks {
		t.Errorf("after release and a round of churn: %d queued, arena end %d in %d chunks; want 0 queued and the arena as it was (%d in %d)",
			queued, end2, chunks2, end, chunks)
	}
	for i := range n {
		if v, _ := s.Get(fmt.Sprintf("k%05d", i)); !bytes.Equal(v, val(4, i)) {
			t.Fatalf("k%05d = %q, want %q", i, v, val(4, i))
		}
	}
}

// A retain blocks only the reuse of records freed after it was taken.
func TestRetainTakenAfterFreeDoesNotBlock(t *testing.T) {
	s := NewServer(t)
	s.Set("a", []byte("value-a"), 0)
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.st.retain()
	s.st.free(s.st.tree.get([]byte("a"))) // queued: first is held
	second := s.st.retain()
	first()
	defer second()
	s.st.reclaim()
	if len(s.st.pend) != 0 {
		t.Errorf("%d frees still queued; the only retain held was taken after them", len(s.st.pend))
	}
}

// Readers retain, read outside the lock and release from their own goroutines while a
// client deletes and stores the same keys: every value read is one that was stored whole.
func TestRetainConcurrentReaders(t *testing.T) {
	s := NewServer(t)
	const keys, readers, reads = 200, 4, 500
	valueOf := func(round, i int) string { return fmt.Sprintf("%04d:%03d:%s", round, i, strings.Repeat("v", i%50)) }
	for i := range keys {
		s.Set(fmt.Sprint("k", i), []byte(valueOf(0, i)), 0)
	}
	errs := make(chan error, readers)
	for g := range readers {
		go func() {
			for j := range reads {
				i := (g*37 + j) % keys
				s.mu.Lock()
				release := s.st.retain()
				var v []byte
				if n := s.st.tree.get([]byte(fmt.Sprint("k", i))); n != 0 {
					if it := s.st.item(n); it != nil {
						v = s.st.value(it)
					}
				}
				s.mu.Unlock()
				want := fmt.Sprintf(":%03d:%s", i, strings.Repeat("v", i%50))
				ok := v == nil || (len(v) == 4+len(want) && string(v[4:]) == want)
				release()
				if !ok {
					errs <- fmt.Errorf("k%d read %q outside the lock", i, v)
					return
				}
				runtime.Gosched() // let the churning client's requests in
			}
			errs <- nil
		}()
	}
	c := dial(t, s)
	for round, left := 1, readers; left > 0; round++ {
		for i := range keys {
			c.do(generated.OpDelete, fmt.Sprint("k", i))
			c.do(generated.OpSet, "0", fmt.Sprint("k", i), valueOf(round, i))
		}
		for drained := false; !drained && left > 0; {
			select {
			case err := <-errs:
				if err != nil {
					t.Fatal(err)
				}
				left--
			default:
				drained = true
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.reclaim()
	if len(s.st.pend) != 0 || s.st.nheld.Load() != 0 {
		t.Errorf("%d frees queued, %d retains held after every reader released", len(s.st.pend), s.st.nheld.Load())
	}
}
