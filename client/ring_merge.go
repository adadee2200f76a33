package client

import (
	"encoding/binary"
	"strconv"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/internal/spec"
	"github.com/gogibson/gogibson/wire"
)

// routeInfo is what a Ring knows about an opcode, taken from the generated command table:
// its route and merge kind, where its key, prefix and limit arguments are, and its reply
// kind and flags. The Ring never looks at which command it is.
type routeInfo struct {
	verb     string
	route    spec.Route
	merge    spec.Merge
	reply    wire.ReplyKind
	flags    wire.Flags
	keyArg   int // wire position of the key (route key) or prefix (route all) argument; -1: none
	limitArg int // wire position of a limit argument; -1: none
}

var (
	smallRoutes [256]*routeInfo
	bigRoutes   = map[wire.Opcode]*routeInfo{}
)

func init() {
	for i := range generated.Table {
		c := &generated.Table[i]
		ri := &routeInfo{verb: c.Verb, route: c.Route, merge: c.Merge, reply: c.Reply, flags: c.Flags, keyArg: -1, limitArg: -1}
		for j, a := range c.Args {
			switch {
			case a.Kind == wire.ArgKey && c.Route == spec.RouteKey, a.Kind == wire.ArgPrefix && c.Route == spec.RouteAll:
				ri.keyArg = j
			case a.Kind == wire.ArgLimit:
				ri.limitArg = j
			}
		}
		if c.Op < 256 {
			smallRoutes[c.Op] = ri
		} else {
			bigRoutes[c.Op] = ri
		}
	}
}

func routeOf(op wire.Opcode) *routeInfo {
	if op < 256 {
		return smallRoutes[op]
	}
	return bigRoutes[op]
}

// shardReply is one shard's part of a fanned-out command: its reply, or why it has none.
type shardReply struct {
	shard string
	rep   wire.Reply
	err   error
}

// merge combines the replies of a fanned-out command (in shard-name order) into one reply,
// freshly allocated, and reports the shards that failed, including those whose reply was an
// error the merge cannot use (a LOCKED or ERR for a count, say). It reuses parts: the
// caller must not read it afterwards.
func merge(ri *routeInfo, frame []byte, args wire.Args, parts []shardReply) (wire.Reply, []ShardFailure) {
	var failed []ShardFailure
	ok := parts[:0] // the usable parts, moved to the front in order
	for _, p := range parts {
		if p.err == nil && !usable(ri.merge, p.rep) {
			p.err = wire.ReplyError(ri.verb, p.rep)
		}
		if p.err != nil {
			failed = append(failed, ShardFailure{Shard: p.shard, Err: p.err})
			continue
		}
		ok = append(ok, p)
	}
	switch ri.merge {
	case spec.MergeSum:
		return mergeSum(ok), failed
	case spec.MergeConcat:
		limit := -1
		if ri.limitArg >= 0 {
			if b, present := args.Arg(frame, ri.limitArg); present {
				if n, err := strconv.Atoi(unsafeString(b)); err == nil && n > 0 {
					limit = n
				}
			}
		}
		return mergeConcat(ok, limit, ri.reply == wire.ReplyKeyList), failed
	case spec.MergeStats:
		return mergeStats(ok), failed
	}
	return wire.Reply{Code: wire.CodeOK, Data: []byte{0}}, failed
}

// usable reports whether a shard's reply is one the merge kind combines.
func usable(m spec.Merge, r wire.Reply) bool {
	switch m {
	case spec.MergeSum:
		return r.Code == wire.CodeNotFound || r.Code == wire.CodeVal && r.Encoding == wire.EncNumber && (len(r.Data) == 8 || len(r.Data) == 4)
	case spec.MergeConcat:
		return r.Code == wire.CodeNotFound || r.Code == wire.CodeKVal
	case spec.MergeStats:
		return r.Code == wire.CodeKVal
	}
	return r.Code == wire.CodeOK
}

func numberReply(n int64) wire.Reply {
	return wire.Reply{Code: wire.CodeVal, Encoding: wire.EncNumber, Data: binary.LittleEndian.AppendUint64(nil, uint64(n))}
}

// mergeSum adds the numbers; when no shard sent one (all NOT_FOUND), NOT_FOUND stands.
func mergeSum(parts []shardReply) wire.Reply {
	var sum int64
	any := false
	for _, p := range parts {
		if p.rep.Code == wire.CodeVal {
			n, _ := wire.DecodeNumber(p.rep.Data)
			sum += n
			any = true
		}
	}
	if !any {
		return wire.Reply{Code: wire.CodeNotFound, Data: []byte{0}}
	}
	return numberReply(sum)
}

// mergeConcat concatenates KVAL entries, at most limit of them when limit >= 0, renumbering
// the keys of a key list (its keys are indexes).
func mergeConcat(parts []shardReply, limit int, renumber bool) wire.Reply {
	size, count := 4, 0
	for _, p := range parts {
		size += len(p.rep.Data)
	}
	body := make([]byte, 4, size)
	for _, p := range parts {
		it := p.rep.Entries()
		for k, enc, v, ok := it.Next(); ok && (limit < 0 || count < limit); k, enc, v, ok = it.Next() {
			if renumber {
				var idx [20]byte
				k = strconv.AppendInt(idx[:0], int64(count), 10)
			}
			body = appendEntry(body, k, enc, v)
			count++
		}
	}
	if count == 0 {
		return wire.Reply{Code: wire.CodeNotFound, Data: []byte{0}}
	}
	binary.LittleEndian.PutUint32(body, uint32(count))
	return wire.Reply{Code: wire.CodeKVal, Data: body}
}

func appendEntry(b, k []byte, enc wire.Encoding, v []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(k)))
	b = append(b, k...)
	b = append(b, byte(enc))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// mergeStats combines STATS pairs entry by entry with generated.StatMergeOf's rule, in the
// order the entries first appear; a value that is not a number keeps the first shard's.
func mergeStats(parts []shardReply) wire.Reply {
	type entry struct {
		name  string
		enc   wire.Encoding
		val   []byte
		n     int64
		isNum bool
	}
	var entries []*entry
	byName := map[string]*entry{}
	for _, p := range parts {
		it := p.rep.Entries()
		for k, enc, v, ok := it.Next(); ok; k, enc, v, ok = it.Next() {
			text, _ := wire.AppendValue(nil, enc, v)
			n, err := strconv.ParseInt(string(text), 10, 64)
			e := byName[string(k)]
			if e == nil {
				e = &entry{name: string(k), enc: enc, val: v, n: n, isNum: err == nil}
				byName[e.name] = e
				entries = append(entries, e)
				continue
			}
			if !e.isNum || err != nil {
				continue
			}
			switch generated.StatMergeOf(e.name) {
			case spec.StatSum:
				e.n += n
			case spec.StatMax:
				e.n = max(e.n, n)
			case spec.StatMin:
				e.n = min(e.n, n)
			}
		}
	}
	body := make([]byte, 4)
	for _, e := range entries {
		v := e.val
		switch {
		case !e.isNum:
		case e.enc == wire.EncNumber:
			v = binary.LittleEndian.AppendUint64(nil, uint64(e.n))
		default:
			v = strconv.AppendInt(nil, e.n, 10)
		}
		body = appendEntry(body, []byte(e.name), e.enc, v)
	}
	binary.LittleEndian.PutUint32(body, uint32(len(entries)))
	return wire.Reply{Code: wire.CodeKVal, Data: body}
}
