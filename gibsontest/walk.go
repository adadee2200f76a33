package gibsontest

import (
	"runtime"
	"time"
)

// Prefix walks in bounded steps. The reference server is single-threaded, so one large
// MGET or MDEL makes every other client wait for the whole walk; here a walk gives the
// server lock up every walkHold, so other connections are served in between. A command
// that walks is therefore not atomic: keys inserted or changed by other connections
// during the walk may or may not be seen, as if they had come just before or after it.

// walkHold is how long a walk keeps the server lock before letting others in.
const walkHold = time.Millisecond

// walkYielded, when set (tests), runs each time a walk has released the lock.
var walkYielded func()

// walkCheck is how many nodes without an item a walk visits between looks at the clock.
const walkCheck = 8

// cursor walks the nodes holding items under a prefix in trie order and can be resumed
// after the lock was released. Its stack holds the nodes still to visit; a node's next
// sibling and first child are read when it is visited. Nodes are never removed, new
// children are appended, and a split (trie.split) keeps the split node's slot and next
// sibling and moves its continuation below it, so pending nodes stay valid. The top node
// must be visited (the first call of next) under the lock the cursor was made under: split
// before that, it would spell less than the prefix and have children outside it.
type cursor struct {
	t     *trie
	top   nodeID // its siblings are not under the prefix
	stack []nodeID
}

func (t *trie) cursor(prefix []byte) *cursor {
	c := &cursor{t: t}
	if n := t.subtree(prefix); n != 0 {
		c.top = n
		c.stack = append(c.stack, n)
	}
	return c
}

// done reports whether the walk is over.
func (c *cursor) done() bool { return len(c.stack) == 0 }

// next visits up to budget nodes and returns the first that holds an item, or 0 when
// none of them did (the walk may be done: see done).
func (c *cursor) next(budget int) nodeID {
	for ; budget > 0 && len(c.stack) > 0; budget-- {
		n := c.stack[len(c.stack)-1]
		c.stack = c.stack[:len(c.stack)-1]
		nd := c.t.at(n)
		if nd.sib != 0 && n != c.top {
			c.stack = append(c.stack, nd.sib)
		}
		if nd.kid != 0 {
			c.stack = append(c.stack, nd.kid)
		}
		if nd.rec != 0 {
			return n
		}
	}
	return 0
}

// walkItems calls fn for every node holding an item under prefix, in trie order, until fn
// returns false; s.mu must be held, and it is released for a moment every walkHold.
// It reports false when the walk was cut short because stop closed or the store was
// replaced (Restart) while the lock was released; fn must then not be called again.
func (s *Server) walkItems(prefix []byte, stop <-chan struct{}, fn func(n nodeID) bool) bool {
	st := s.st
	if !s.takeWalkTurn(stop) {
		return false
	}
	defer func() { <-s.walkTurn }()
	if s.st != st {
		return false
	}
	cur := st.tree.cursor(prefix)
	held := time.Now()
	last, every, since := held, 1, 0
	for !cur.done() {
		n := cur.next(walkCheck)
		if n != 0 && !fn(n) {
			return true
		}
		// The clock is read every `every` items, and after walkCheck nodes without one. The
		// work per item is unbounded (a large value may be decompressed) and a clock read
		// costs as much as counting a few items, so every adapts: it doubles while the time
		// between reads stays under walkHold/8 and halves when it passes walkHold/4.
		if since++; n != 0 && since < every {
			continue
		}
		since = 0
		now := time.Now()
		switch d := now.Sub(last); {
		case d < walkHold/8 && every < maxWalkEvery:
			every *= 2
		case d > walkHold/4 && every > 1:
			every /= 2
		}
		last = now
		if now.Sub(held) >= walkHold {
			s.mu.Unlock()
			runtime.Gosched()
			if walkYielded != nil {
				walkYielded()
			}
			s.mu.Lock()
			if s.st != st || stopped(stop) {
				return false
			}
			held = time.Now()
			last = held
		}
	}
	return true
}

// takeWalkTurn waits, without the lock, until no other walk runs: walks take turns, so
// that a short request waits behind one walk's walkHold at most. With every walk waiting
// on s.mu itself, the mutex (FIFO once a waiter starves) made a PING queued behind 36
// MGETs wait for each one's hold in turn (tens of milliseconds). s.mu is held again on
// return; it reports false when stop closed first.
func (s *Server) takeWalkTurn(stop <-chan struct{}) bool {
	select {
	case s.walkTurn <- struct{}{}:
		return true
	default:
	}
	s.mu.Unlock()
	defer s.mu.Lock()
	select {
	case s.walkTurn <- struct{}{}:
		return true
	case <-stop:
		return false
	}
}

// maxWalkEvery bounds how many items a walk handles between two clock reads.
const maxWalkEvery = 256

func stopped(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
