package gibsontest

import "github.com/gogibson/gogibson/wire"

// TTL and lock commands on one key (docs/protocol.md §4.3, §4.7, §4.8). TTL and LOCK share the
// item's created timestamp, so each restarts the other's countdown.

// TTL <key> <seconds>
func cmdTTL(r *request) action {
	_, it := r.live(r.a.key) // the key is checked before the number
	if it == nil {
		return r.status(wire.CodeNotFound)
	}
	secs, ok := parseNumber(r.a.rest)
	if !ok {
		return r.status(wire.CodeNaN)
	}
	it.created, it.access = uint32(r.now), uint32(r.now)
	it.ttl = storedTTL(secs, r.s.cfg.MaxItemTTL)
	return r.status(wire.CodeOK)
}

// LOCK <key> <seconds>
func cmdLock(r *request) action {
	_, it := r.live(r.a.key)
	if it == nil {
		return r.status(wire.CodeNotFound)
	}
	secs, ok := parseNumber(r.a.rest)
	if !ok {
		return r.status(wire.CodeNaN)
	}
	it.access = uint32(r.now)
	if r.st.locked(it, r.now) {
		return r.status(wire.CodeLocked)
	}
	it.created = uint32(r.now)
	r.st.setLock(it, secs)
	return r.status(wire.CodeOK)
}

// UNLOCK <key>
func cmdUnlock(r *request) action {
	_, it := r.live(r.a.key)
	if it == nil {
		return r.status(wire.CodeNotFound)
	}
	r.st.setLock(it, 0)
	it.access = uint32(r.now)
	return r.status(wire.CodeOK)
}
