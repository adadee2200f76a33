package gibsontest

import "github.com/gogibson/gogibson/wire"

// TTL and lock commands on one key (docs/protocol.md §4.3, §4.7, §4.8). TTL and LOCK share the
// item's created timestamp, so each restarts the other's countdown.

// TTL <key> <seconds>
func cmdTTL(r *request) action {
	n := r.live(r.a.key) // the key is checked before the number
	if n == nil {
		return r.status(wire.CodeNotFound)
	}
	secs, ok := parseNumber(r.a.rest)
	if !ok {
		return r.status(wire.CodeNaN)
	}
	n.it.created, n.it.access = r.now, r.now
	n.it.ttl = storedTTL(secs, r.s.cfg.MaxItemTTL)
	return r.status(wire.CodeOK)
}

// LOCK <key> <seconds>
func cmdLock(r *request) action {
	n := r.live(r.a.key)
	if n == nil {
		return r.status(wire.CodeNotFound)
	}
	secs, ok := parseNumber(r.a.rest)
	if !ok {
		return r.status(wire.CodeNaN)
	}
	n.it.access = r.now
	if n.it.locked(r.now) {
		return r.status(wire.CodeLocked)
	}
	n.it.created, n.it.lock = r.now, secs
	return r.status(wire.CodeOK)
}

// UNLOCK <key>
func cmdUnlock(r *request) action {
	n := r.live(r.a.key)
	if n == nil {
		return r.status(wire.CodeNotFound)
	}
	n.it.lock, n.it.access = 0, r.now
	return r.status(wire.CodeOK)
}
