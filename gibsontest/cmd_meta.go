package gibsontest

import "github.com/gogibson/gogibson/wire"

// META <key> <field> (docs/protocol.md §4.19).

// metaFields are tried in this order; a field matches when the first
// min(len(field), len(name)) bytes agree, so "l" means left and "sizeXYZ" means size.
var metaFields = [...]struct {
	name string
	get  func(it *item, now int64) int64
}{
	{"size", func(it *item, _ int64) int64 { return it.size() }},
	{"encoding", func(it *item, _ int64) int64 { return int64(it.enc) }},
	{"access", func(it *item, _ int64) int64 { return it.access }},
	{"created", func(it *item, _ int64) int64 { return it.created }},
	{"ttl", func(it *item, _ int64) int64 { return int64(it.ttl) }},
	{"left", func(it *item, now int64) int64 {
		if it.ttl <= 0 {
			return -1
		}
		return int64(it.ttl) - (now - it.created)
	}},
	{"lock", func(it *item, _ int64) int64 { return it.lock }},
}

func cmdMeta(r *request) action {
	n := r.live(r.a.key)
	if n == nil {
		return r.status(wire.CodeNotFound)
	}
	field := r.a.rest
	for _, f := range metaFields {
		l := min(len(field), len(f.name))
		if string(field[:l]) == f.name[:l] {
			v := f.get(n.it, r.now) // read before access is updated
			n.it.touch(r.now)
			return r.number(v)
		}
	}
	n.it.touch(r.now)
	return r.status(wire.CodeErr)
}
