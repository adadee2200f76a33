package gibsontest

import "github.com/gogibson/gogibson/wire"

// Single-key value commands: SET, GET, DEL, INC, DEC (docs/protocol.md §4.2–§4.6).

// SET <ttl> <key> <value>
func cmdSet(r *request) action {
	ttl, ok := parseNumber(r.a.ttl)
	if !ok {
		return r.status(wire.CodeNaN)
	}
	n := r.node(r.a.key)
	if n != nil && n.it.locked(r.now) { // even an expired item: the lock is checked first
		return r.status(wire.CodeLocked)
	}
	it := r.st.newText(r.a.rest, r.s.cfg.Compression, r.now)
	if ttl > 0 {
		it.ttl = int16(min(r.s.cfg.MaxItemTTL, ttl))
	}
	if n == nil {
		n = r.st.tree.insert(r.a.key)
	}
	r.st.put(n, it)
	r.out = appendValue(r.out, r.a.rest)
	return actReply
}

// GET <key>
func cmdGet(r *request) action {
	n := r.live(r.a.key)
	if n == nil {
		return r.status(wire.CodeNotFound)
	}
	n.it.touch(r.now)
	r.item(n.it)
	return actReply
}

// DEL <key>
func cmdDel(r *request) action {
	n := r.node(r.a.key)
	switch {
	case n == nil:
		return r.status(wire.CodeNotFound)
	case n.it.locked(r.now): // before expiry, like SET
		return r.status(wire.CodeLocked)
	case r.purged(n):
		return r.status(wire.CodeNotFound)
	}
	r.st.free(n)
	return r.status(wire.CodeOK)
}

// INC <key>
func cmdInc(r *request) action { return incBy(r, 1) }

// DEC <key>
func cmdDec(r *request) action { return incBy(r, -1) }

// incBy is INC and DEC: a missing key becomes the number 1 for both (sic).
func incBy(r *request, d int64) action {
	n := r.node(r.a.key)
	if n == nil {
		n = r.st.tree.insert(r.a.key)
		r.st.put(n, item{enc: wire.EncNumber, num: 1, ttl: -1, created: r.now, access: r.now})
		return r.number(1)
	}
	if r.purged(n) {
		return r.status(wire.CodeNotFound)
	}
	if n.it.locked(r.now) {
		return r.status(wire.CodeLocked)
	}
	n.it.access = r.now
	v, ok := numericValue(n.it)
	if !ok {
		return r.status(wire.CodeNaN)
	}
	r.st.setNumber(n, v+d)
	return r.number(v + d)
}

// numericValue is the number an item holds for INC/DEC/MINC/MDEC: numbers as they are,
// plain text when it parses (§2.6); LZF items never count as numbers.
func numericValue(it *item) (int64, bool) {
	switch it.enc {
	case wire.EncNumber:
		return it.num, true
	case wire.EncPlain:
		return parseNumber(it.data)
	}
	return 0, false
}
