package gibsontest

import (
	"strconv"

	"github.com/gogibson/gogibson/wire"
)

// Prefix commands (docs/protocol.md §4.9–§4.16, §4.20, summary in §5.7). They walk the trie in
// its first-creation order; which items they skip, purge and count differs per command.

// MSET <prefix> <value>: never creates keys; replaced items lose TTL and lock.
func cmdMSet(r *request) action {
	var n int64
	r.st.tree.walk(r.a.key, func(nd *node) bool {
		switch {
		case nd.it.locked(r.now): // skipped, not purged even if expired
		case r.purged(nd):
		default:
			r.st.put(nd, r.st.newText(r.a.rest, r.s.cfg.Compression, r.now))
			n++
		}
		return true
	})
	return r.count(n)
}

// MTTL <prefix> <seconds>: ignores locks.
func cmdMTTL(r *request) action {
	secs, ok := parseNumber(r.a.rest) // before searching
	if !ok {
		return r.status(wire.CodeNaN)
	}
	var n int64
	r.st.tree.walk(r.a.key, func(nd *node) bool {
		if !r.purged(nd) {
			nd.it.created, nd.it.access = r.now, r.now
			nd.it.ttl = storedTTL(secs, r.s.cfg.MaxItemTTL)
			n++
		}
		return true
	})
	return r.count(n)
}

// MGET <prefix> [<limit>]: expired items use up the limit before they are dropped.
func cmdMGet(r *request) action {
	var limit int64
	if r.a.hasRest {
		var ok bool
		if limit, ok = parseNumber(r.a.rest); !ok {
			return r.status(wire.CodeNaN)
		}
	}
	r.nodes = r.nodes[:0]
	r.st.tree.walk(r.a.key, func(nd *node) bool {
		r.nodes = append(r.nodes, nd)
		return limit <= 0 || int64(len(r.nodes)) < limit
	})
	live := r.nodes[:0]
	for _, nd := range r.nodes {
		if !r.purged(nd) {
			nd.it.access = r.now
			live = append(live, nd)
		}
	}
	clear(r.nodes[len(live):])
	if len(live) == 0 {
		return r.status(wire.CodeNotFound)
	}
	out, w := beginKVal(r.out)
	for _, nd := range live {
		out = w.item(out, cutAtNUL(nd.key), nd.it)
	}
	clear(r.nodes)
	return r.finishKVal(out, w)
}

// finishKVal completes a KVAL reply, or closes the connection when it is too large.
func (r *request) finishKVal(out []byte, w kvalWriter) action {
	out, ok := w.finish(out, r.s.cfg.MaxResponseSize)
	r.out = out
	if !ok {
		return actClose
	}
	return actReply
}

// MDEL <prefix>: locked items are skipped.
func cmdMDel(r *request) action {
	var n int64
	r.st.tree.walk(r.a.key, func(nd *node) bool {
		switch {
		case nd.it.locked(r.now):
		case r.purged(nd):
		default:
			r.st.free(nd)
			n++
		}
		return true
	})
	return r.count(n)
}

// MINC <prefix>
func cmdMInc(r *request) action { return mincBy(r, 1) }

// MDEC <prefix>
func cmdMDec(r *request) action { return mincBy(r, -1) }

// mincBy counts numbers and numeric text it changed, and LZF items it left alone (sic).
func mincBy(r *request, d int64) action {
	var n int64
	r.st.tree.walk(r.a.key, func(nd *node) bool {
		switch {
		case nd.it.locked(r.now):
		case r.purged(nd):
		default:
			nd.it.access = r.now
			if nd.it.enc == wire.EncLZF {
				n++
			} else if v, ok := numericValue(nd.it); ok {
				r.st.setNumber(nd, v+d)
				n++
			}
		}
		return true
	})
	return r.count(n)
}

// MLOCK <prefix> <seconds>: counts only the items it newly locked.
func cmdMLock(r *request) action {
	secs, ok := parseNumber(r.a.rest)
	if !ok {
		return r.status(wire.CodeNaN)
	}
	var n int64
	r.st.tree.walk(r.a.key, func(nd *node) bool {
		if !r.purged(nd) && !nd.it.locked(r.now) {
			nd.it.created, nd.it.access, nd.it.lock = r.now, r.now, secs
			n++
		}
		return true
	})
	return r.count(n)
}

// MUNLOCK <prefix>: counts every live match, locked or not.
func cmdMUnlock(r *request) action {
	var n int64
	r.st.tree.walk(r.a.key, func(nd *node) bool {
		if !r.purged(nd) {
			nd.it.lock, nd.it.access = 0, r.now
			n++
		}
		return true
	})
	return r.count(n)
}

// COUNT <prefix>: VAL 0 rather than NOT_FOUND.
func cmdCount(r *request) action {
	var n int64
	r.st.tree.walk(r.a.key, func(nd *node) bool {
		if !r.purged(nd) {
			nd.it.access = r.now
			n++
		}
		return true
	})
	return r.number(n)
}

// KEYS <prefix>: index → key pairs; expired-but-unpurged keys are listed too.
func cmdKeys(r *request) action {
	out, w := beginKVal(r.out)
	var idx [20]byte
	r.st.tree.walk(r.a.key, func(nd *node) bool {
		out = w.text(out, string(strconv.AppendInt(idx[:0], int64(w.count), 10)), cutAtNUL(nd.key))
		return true
	})
	if w.count == 0 {
		r.out = appendStatus(out[:w.start], wire.CodeNotFound)
		return actReply
	}
	return r.finishKVal(out, w)
}
