package gibsontest

import "github.com/gogibson/gogibson/wire"

// Prefix commands (docs/protocol.md §4.9–§4.16, §4.20, summary in §5.7). They walk the trie in
// its first-creation order; which items they skip, purge and count differs per command.

// MSET <prefix> <value>: never creates keys; replaced items lose TTL and lock.
func cmdMSet(r *request) action {
	var n int64
	full := false
	if !r.walk(func(nd nodeID) bool {
		if r.st.locked(r.st.item(nd), r.now) { // skipped, not purged even if expired
			return true
		}
		if _, gone := r.purged(nd); !gone {
			if full = !r.st.setText(nd, r.a.rest, r.s.cfg.Compression, r.now, -1); full {
				return false
			}
			n++
		}
		return true
	}) {
		return actClose
	}
	if full {
		return r.status(wire.CodeMem) // the store's 32-bit references are used up
	}
	return r.count(n)
}

// MTTL <prefix> <seconds>: ignores locks.
func cmdMTTL(r *request) action {
	secs, ok := parseNumber(r.a.rest) // before searching
	if !ok {
		return r.status(wire.CodeNaN)
	}
	var n int64
	if !r.walk(func(nd nodeID) bool {
		if it, gone := r.purged(nd); !gone {
			it.created, it.access = uint32(r.now), uint32(r.now)
			it.ttl = storedTTL(secs, r.s.cfg.MaxItemTTL)
			n++
		}
		return true
	}) {
		return actClose
	}
	return r.count(n)
}

// MGET <prefix> [<limit>]: expired items use up the limit before they are dropped. The
// reply is a snapshot taken during the walk and streamed afterwards (stream.go); it is
// dropped as soon as its body passes max_response_size, and the walk then goes on
// without it, so expired matches are still purged and live ones still get their access
// time, as in the reference.
func cmdMGet(r *request) action {
	var limit int64
	if r.a.hasRest {
		var ok bool
		if limit, ok = parseNumber(r.a.rest); !ok {
			return r.status(wire.CodeNaN)
		}
	}
	var seen int64
	live, over := false, false
	sn := r.newStream(streamItems)
	walked := r.walk(func(nd nodeID) bool {
		seen++
		if it, gone := r.purged(nd); !gone {
			it.touch(r.now)
			live = true
			if !over {
				sn.addItem(r.st, cutAtNUL(r.st.tree.key(nd)), it)
				if over = sn.body > r.s.cfg.MaxResponseSize; over {
					sn.done() // let go of the values while the walk goes on
				}
			}
		}
		return limit <= 0 || seen < limit
	})
	switch {
	case !walked || over:
		r.recycle(sn)
		return actClose
	case !live:
		r.recycle(sn)
		return r.status(wire.CodeNotFound)
	}
	r.stream = sn
	return actReply
}

// walk is Server.walkItems over the request's prefix, stopped when the connection closes.
func (r *request) walk(fn func(nd nodeID) bool) bool {
	return r.s.walkItems(r.a.key, r.closed, fn)
}

// MDEL <prefix>: locked items are skipped.
func cmdMDel(r *request) action {
	var n int64
	if !r.walk(func(nd nodeID) bool {
		if r.st.locked(r.st.item(nd), r.now) {
			return true
		}
		if _, gone := r.purged(nd); !gone {
			r.st.free(nd)
			n++
		}
		return true
	}) {
		return actClose
	}
	return r.count(n)
}

// MINC <prefix>
func cmdMInc(r *request) action { return mincBy(r, 1) }

// MDEC <prefix>
func cmdMDec(r *request) action { return mincBy(r, -1) }

// mincBy counts numbers and numeric text it changed, and LZF items it left alone (sic).
func mincBy(r *request, d int64) action {
	var n int64
	if !r.walk(func(nd nodeID) bool {
		if r.st.locked(r.st.item(nd), r.now) {
			return true
		}
		if it, gone := r.purged(nd); !gone {
			it.access = uint32(r.now)
			if it.enc == wire.EncLZF {
				n++
			} else if v, ok := r.st.numericValue(it); ok && r.st.setNumber(nd, v+d) {
				n++
			}
		}
		return true
	}) {
		return actClose
	}
	return r.count(n)
}

// MLOCK <prefix> <seconds>: counts only the items it newly locked.
func cmdMLock(r *request) action {
	secs, ok := parseNumber(r.a.rest)
	if !ok {
		return r.status(wire.CodeNaN)
	}
	var n int64
	if !r.walk(func(nd nodeID) bool {
		if it, gone := r.purged(nd); !gone && !r.st.locked(it, r.now) {
			it.created, it.access = uint32(r.now), uint32(r.now)
			r.st.setLock(it, secs)
			n++
		}
		return true
	}) {
		return actClose
	}
	return r.count(n)
}

// MUNLOCK <prefix>: counts every live match, locked or not.
func cmdMUnlock(r *request) action {
	var n int64
	if !r.walk(func(nd nodeID) bool {
		if it, gone := r.purged(nd); !gone {
			r.st.setLock(it, 0)
			it.access = uint32(r.now)
			n++
		}
		return true
	}) {
		return actClose
	}
	return r.count(n)
}

// COUNT <prefix>: VAL 0 rather than NOT_FOUND.
func cmdCount(r *request) action {
	var n int64
	if !r.walk(func(nd nodeID) bool {
		if it, gone := r.purged(nd); !gone {
			it.touch(r.now)
			n++
		}
		return true
	}) {
		return actClose
	}
	return r.number(n)
}

// KEYS <prefix>: index → key pairs; expired-but-unpurged keys are listed too. KEYS
// changes nothing, so the walk stops as soon as the body passes max_response_size.
func cmdKeys(r *request) action {
	sn := r.newStream(streamKeys)
	over := false
	if !r.walk(func(nd nodeID) bool {
		sn.addKey(cutAtNUL(r.st.tree.key(nd)))
		over = sn.body > r.s.cfg.MaxResponseSize
		return !over
	}) || over {
		r.recycle(sn)
		return actClose
	}
	if sn.n == 0 {
		r.recycle(sn)
		return r.status(wire.CodeNotFound)
	}
	r.stream = sn
	return actReply
}
