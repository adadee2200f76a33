package gibsontest

import "github.com/gogibson/gogibson/wire"

// META <key> <field> (docs/protocol.md §4.19).

// metaFields are tried in this order; a field matches when the first
// min(len(field), len(name)) bytes agree, so "l" means left and "sizeXYZ" means size.
var metaFields = [...]struct {
	name string
	get  func(st *store, it *header, now int64) int64
}{
	{"size", func(st *store, it *header, _ int64) int64 { return st.size(it) }},
	{"encoding", func(_ *store, it *header, _ int64) int64 { return int64(it.enc) }},
	{"access", func(_ *store, it *header, _ int64) int64 { return int64(it.access) }},
	{"created", func(_ *store, it *header, _ int64) int64 { return int64(it.created) }},
	{"ttl", func(_ *store, it *header, _ int64) int64 { return int64(it.ttl) }},
	{"left", func(_ *store, it *header, now int64) int64 {
		if it.ttl <= 0 {
			return -1
		}
		return int64(it.ttl) - (now - int64(it.created))
	}},
	{"lock", func(st *store, it *header, _ int64) int64 { return st.lock(it) }},
}

func cmdMeta(r *request) action {
	_, it := r.live(r.a.key)
	if it == nil {
		return r.status(wire.CodeNotFound)
	}
	field := r.a.rest
	for _, f := range metaFields {
		l := min(len(field), len(f.name))
		if string(field[:l]) == f.name[:l] {
			v := f.get(r.st, it, r.now) // read before access is updated
			it.touch(r.now)
			return r.number(v)
		}
	}
	it.touch(r.now)
	return r.status(wire.CodeErr)
}
