package gibsontest

import (
	"sync"
	"sync/atomic"
)

// Readers may keep value bytes (store.value) after the server lock is released, to write
// a reply outside it. Records live in a shared arena whose freed space is handed out
// again, so a freed record must not be reused while a reader that could still hold its
// bytes is out: retain marks such a reader. Frees made while retains are held are queued
// with the epoch they happened in, and handed back to the arena once every retain taken
// before them is released. Large values (store.big) need none of this: they are their
// own heap slices, never written again, and kept alive by whoever holds them.
type retained struct {
	epoch uint64 // frees so far while retains were held
	pend  []pendingRec

	rmu   sync.Mutex
	held  map[uint64]int // retains outstanding, by the epoch they were taken in
	nheld atomic.Int64   // retains outstanding in all, readable without rmu
}

type pendingRec struct {
	r     recRef
	size  int
	epoch uint64
}

// retain keeps every value the store holds now from being overwritten until release is
// called (release may be called without the server lock, and more than once). It must
// be called with the server lock held.
func (st *store) retain() (release func()) {
	st.rmu.Lock()
	e := st.epoch
	if st.held == nil {
		st.held = make(map[uint64]int)
	}
	st.held[e]++
	st.nheld.Add(1)
	st.rmu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			st.rmu.Lock()
			if st.held[e]--; st.held[e] == 0 {
				delete(st.held, e)
			}
			st.nheld.Add(-1)
			st.rmu.Unlock()
		})
	}
}

// release frees the record r of size bytes: at once when no retain is held, else queued.
func (st *store) release(r recRef, size int) {
	if st.nheld.Load() == 0 && len(st.pend) == 0 {
		st.ar.release(r, size)
		return
	}
	st.pend = append(st.pend, pendingRec{r, size, st.epoch})
	st.epoch++
}

// alloc returns a record of size bytes, first handing back the queued frees that no
// retain still covers.
func (st *store) alloc(size int) recRef {
	if len(st.pend) > 0 {
		st.reclaim()
	}
	return st.ar.alloc(size)
}

// reclaim returns to the arena the queued frees made after every held retain was taken
// (all of them when none is held).
func (st *store) reclaim() {
	oldest, any := uint64(0), false
	st.rmu.Lock()
	for e := range st.held {
		if !any || e < oldest {
			oldest, any = e, true
		}
	}
	st.rmu.Unlock()
	i := 0
	for ; i < len(st.pend) && (!any || st.pend[i].epoch < oldest); i++ {
		st.ar.release(st.pend[i].r, st.pend[i].size)
	}
	st.pend = st.pend[i:]
	if len(st.pend) == 0 {
		st.pend = nil
	}
}
