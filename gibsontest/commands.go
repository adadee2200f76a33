package gibsontest

import (
	"slices"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// A handler runs one parsed request with Server.mu held and appends its reply to r.out.
type handler func(r *request) action

// action tells the connection what to do after a request.
type action uint8

const (
	actReply      action = iota // send the reply, carry on
	actClose                    // close now; nothing of this request is sent
	actCloseAfter               // send the reply, then close (END)
)

// request is the per-connection scratch space a handler works in.
type request struct {
	s      *Server
	st     *store
	a      args
	now    int64
	out    []byte
	closed <-chan struct{} // the connection's: long walks stop when it closes

	// Large stored values are not copied into out: refs says where they go, and flush
	// writes them from the item's own bytes, which are never modified once stored.
	refs     []ref
	refBytes int      // total length of refs
	refsOK   bool     // false while a fault is pending: faults cut out by position
	held     []func() // store retains to release once out and refs are written
	holding  bool     // a retain in held covers refs taken under the lock

	stream *stream // a reply to write outside the lock before the next request (stream.go)
	spare  *stream // a small stream kept for the next one
}

// ref is a stored value to be written after out[:at].
type ref struct {
	at   int
	data []byte
}

// refMin is the smallest value written by reference instead of copied.
const refMin = 8 << 10

// pending is how many reply bytes wait to be written.
func (r *request) pending() int { return len(r.out) + r.refBytes }

// plain appends bytes of a stored value: by reference when large, with the store
// retained until they are written. s.mu must be held, or b be covered by the retain of
// the stream being written.
func (r *request) plain(b []byte) {
	if len(b) >= refMin && r.refsOK {
		if r.stream == nil && !r.holding {
			r.held, r.holding = append(r.held, r.st.retain()), true
		}
		r.refs = append(r.refs, ref{len(r.out), b})
		r.refBytes += len(b)
		return
	}
	r.out = append(r.out, b...)
}

// endStream drops the stream once written; its retain is kept until the references it
// left in refs are written.
func (r *request) endStream() {
	if r.stream == nil {
		return
	}
	if len(r.refs) > 0 && r.stream.release != nil {
		r.held = append(r.held, r.stream.release)
		r.stream.release = nil
	}
	r.recycle(r.stream)
	r.stream = nil
}

// written is called once out and refs are written (or dropped): the retains go.
func (r *request) written() {
	for i, release := range r.held {
		release()
		r.held[i] = nil
	}
	r.held, r.holding = r.held[:0], false
}

// handlers maps Gibson verbs to their implementation. Opcodes, argument shapes and which
// commands check the memory limit or close the connection come from generated.Table, so
// a verb missing from commands.yaml is simply not served (its opcode then closes the
// connection, like any unknown opcode).
var handlers = map[string]handler{
	"SET": cmdSet, "GET": cmdGet, "DEL": cmdDel, "INC": cmdInc, "DEC": cmdDec,
	"TTL": cmdTTL, "LOCK": cmdLock, "UNLOCK": cmdUnlock,
	"MSET": cmdMSet, "MTTL": cmdMTTL, "MGET": cmdMGet, "MDEL": cmdMDel,
	"MINC": cmdMInc, "MDEC": cmdMDec, "MLOCK": cmdMLock, "MUNLOCK": cmdMUnlock,
	"COUNT": cmdCount, "KEYS": cmdKeys, "META": cmdMeta,
	"STATS": cmdStats, "PING": cmdPing, "END": cmdEnd,
}

// command is one served opcode.
type command struct {
	verb     string
	shape    shape
	memCheck bool // answers MEM before parsing when over max_memory
	closes   bool // the connection closes after the reply
	fn       handler
}

// commands is indexed by opcode; nil entries are not served.
var commands = buildCommands(generated.Table)

func buildCommands(table []generated.Command) []*command {
	var cmds []*command
	for _, c := range table {
		fn := handlers[c.Verb]
		sh, ok := shapeOf(c.Args)
		if fn == nil || !ok {
			continue
		}
		if int(c.Op) >= len(cmds) {
			cmds = append(cmds, make([]*command, int(c.Op)+1-len(cmds))...)
		}
		cmds[c.Op] = &command{
			verb:     c.Verb,
			shape:    sh,
			memCheck: slices.Contains(c.Errors, wire.ErrMemoryLimit),
			closes:   c.Flags&wire.FlagCloses != 0,
			fn:       fn,
		}
	}
	return cmds
}

// shapeOf derives the parse shape from the argument kinds (docs/protocol.md §2.4).
func shapeOf(as []generated.Arg) (shape, bool) {
	keyLike := func(k wire.ArgKind) bool { return k == wire.ArgKey || k == wire.ArgPrefix }
	switch {
	case len(as) == 0:
		return shapeNone, true
	case len(as) == 1 && keyLike(as[0].Kind):
		return shapeKey, true
	case len(as) == 2 && keyLike(as[0].Kind) && as[1].Optional:
		return shapeKeyOptRest, true
	case len(as) == 2 && keyLike(as[0].Kind):
		return shapeKeyRest, true
	case len(as) == 3 && as[0].Kind.Numeric() && keyLike(as[1].Kind):
		return shapeTTLKeyRest, true
	}
	return 0, false
}

func lookupCommand(op wire.Opcode) *command {
	if int(op) < len(commands) {
		return commands[op]
	}
	return nil
}

// Small helpers shared by the handlers.

func (r *request) status(c wire.Code) action {
	r.out = appendStatus(r.out, c)
	return actReply
}

func (r *request) number(v int64) action {
	r.out = appendNumber(r.out, v)
	return actReply
}

// count answers an M* command: the count, or NOT_FOUND when it is 0.
func (r *request) count(n int64) action {
	if n == 0 {
		return r.status(wire.CodeNotFound)
	}
	return r.number(n)
}

// node returns the node holding an item under key (expired or not) and the item, or
// nil.
func (r *request) node(key []byte) (nodeID, *header) {
	if n := r.st.tree.get(key); n != 0 {
		if it := r.st.item(n); it != nil {
			return n, it
		}
	}
	return 0, nil
}

// live returns the node and item of a live item under key, purging an expired one (lazy
// expiry).
func (r *request) live(key []byte) (nodeID, *header) {
	n, it := r.node(key)
	if it != nil && it.expired(r.now) {
		r.st.free(n)
		return 0, nil
	}
	return n, it
}

// purged reports whether n's item had expired, purging it if so; else it returns the item.
func (r *request) purged(n nodeID) (*header, bool) {
	it := r.st.item(n)
	if it.expired(r.now) {
		r.st.free(n)
		return nil, true
	}
	return it, false
}
