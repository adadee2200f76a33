package gibsontest

// Value bytes read outside the server lock. A streamed reply (stream.go) takes its
// entries under the lock and writes them after releasing it, so the value bytes it
// holds must not change in between. Every access to stored value bytes that outlives
// the lock goes through valueRef, inside a retain … release bracket.

// retain pins the value bytes that valueRef hands out until release is called: while
// retained, those bytes stay unchanged, even if their items are replaced, changed to
// numbers, freed or evicted. s.mu must be held to call retain; release may be called
// without it, once.
//
// Today every stored value is a slice of its own that is never written once stored:
// SET and MSET store a fresh copy (newText), INC/DEC/MINC/MDEC replace the slice with a
// number (setNumber), DEL, MDEL, expiry and eviction drop it (free), and item records
// are reused but their slices are not. So retain has nothing to do. A store that reuses
// value memory (arenas) must defer that reuse until every retain is released.
func (st *store) retain() (release func()) { return func() {} }

// valueRef returns it's stored bytes — plain text, or LZF as stored — without copying;
// nil for numbers. s.mu must be held; the bytes may be read after the lock is released
// only while the store is retained.
func valueRef(it *item) []byte { return it.data }
