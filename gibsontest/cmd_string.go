package gibsontest

import "github.com/gogibson/gogibson/wire"

// Single-key value commands: SET, GET, DEL, INC, DEC (docs/protocol.md §4.2–§4.6).

// SET <ttl> <key> <value>
func cmdSet(r *request) action {
	ttl, ok := parseNumber(r.a.ttl)
	if !ok {
		return r.status(wire.CodeNaN)
	}
	n, it := r.node(r.a.key)
	if it != nil && r.st.locked(it, r.now) { // even an expired item: the lock is checked first
		return r.status(wire.CodeLocked)
	}
	stored := int16(-1)
	if ttl > 0 {
		stored = int16(min(r.s.cfg.MaxItemTTL, ttl))
	}
	if n == 0 {
		n = r.st.tree.insert(r.a.key)
	}
	if n == 0 || !r.st.setText(n, r.a.rest, r.s.cfg.Compression, r.now, stored) {
		return r.status(wire.CodeMem) // the store's 32-bit references are used up
	}
	r.out = appendValue(r.out, r.a.rest)
	return actReply
}

// GET <key>
func cmdGet(r *request) action {
	_, it := r.live(r.a.key)
	if it == nil {
		return r.status(wire.CodeNotFound)
	}
	it.touch(r.now)
	r.item(it)
	return actReply
}

// DEL <key>
func cmdDel(r *request) action {
	n, it := r.node(r.a.key)
	switch {
	case it == nil:
		return r.status(wire.CodeNotFound)
	case r.st.locked(it, r.now): // before expiry, like SET
		return r.status(wire.CodeLocked)
	}
	if _, gone := r.purged(n); gone {
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
	n, it := r.node(r.a.key)
	if it == nil {
		if n == 0 {
			n = r.st.tree.insert(r.a.key)
		}
		if n == 0 || !r.st.setNumberNew(n, 1, r.now) {
			return r.status(wire.CodeMem) // the store's 32-bit references are used up
		}
		return r.number(1)
	}
	if _, gone := r.purged(n); gone {
		return r.status(wire.CodeNotFound)
	}
	if r.st.locked(it, r.now) {
		return r.status(wire.CodeLocked)
	}
	it.access = uint32(r.now)
	v, ok := r.st.numericValue(it)
	if !ok {
		return r.status(wire.CodeNaN)
	}
	if !r.st.setNumber(n, v+d) {
		return r.status(wire.CodeMem)
	}
	return r.number(v + d)
}

// numericValue is the number an item holds for INC/DEC/MINC/MDEC: numbers as they are,
// plain text when it parses (§2.6); LZF items never count as numbers.
func (st *store) numericValue(it *header) (int64, bool) {
	switch it.enc {
	case wire.EncNumber:
		return it.num(), true
	case wire.EncPlain:
		return parseNumber(st.value(it))
	}
	return 0, false
}
