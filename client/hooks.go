package client

import (
	"context"
	"log/slog"
	"net"
	"sync"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// Hook observes or changes what a Client, Conn or Pool does, as middleware: each method is
// given the next function of its chain and returns the function to run in its place, which
// normally does something, calls next, and does something with the result. Hooks are
// installed with WithHooks and run in the order given: the first one's function runs first
// and calls the second's, and so on down to the real work. A hook that has nothing to do for
// one kind of operation returns next unchanged (HookFuncs does that for fields left nil).
//
// The methods are called when an executor is created (Dial, DialConn, NewPool, each
// connection a Client or Pool opens, each Batch), not per call; the functions they return
// are called per call, from many goroutines at once, and must be safe for that.
type Hook interface {
	// ProcessHook wraps single commands: the typed methods (Get, Set, …) and Do.
	ProcessHook(next ProcessFunc) ProcessFunc
	// ProcessBatchHook wraps Batch.Exec.
	ProcessBatchHook(next ProcessBatchFunc) ProcessBatchFunc
	// DialHook wraps every connection attempt: the first connections, redials, and a Pool's
	// connections opened on demand. A Client redials on a goroutine of its own: a panic in
	// the hook there becomes the redial's error (logged), and a call the hook makes on its
	// own Client with the context it is given never waits for a redial (it might wait for
	// the hook itself): it runs on another healthy connection or fails at once with
	// ErrClosed saying why. With a context of its own it waits at most the dial timeout.
	// The new connection is not the Client's until the hook returns; to talk on it, use
	// the net.Conn next returned.
	DialHook(next DialFunc) DialFunc
}

// ProcessFunc runs one command. It returns the error of the call as the executor saw it: a
// connection or context failure, or a request refused before sending. A reply with an error
// code (NOT_FOUND, LOCKED, …) is not an error here: it is in cmd.Reply, and the typed method
// turns it into its result (false, 0, ErrNotFound, …) once the hooks have returned.
//
// A hook may call next with another context (a span's, say); it must call next at most
// once, and a hook that does not call it must return an error, which the call then returns
// (a hook that returns nil without calling next makes the call fail with ErrInvalidArgument
// saying so). A hook may replace next's error with another, but cannot turn a failed call
// into a successful one: when next failed, the call fails with next's error if the hook
// returns nil.
type ProcessFunc func(ctx context.Context, cmd *Cmd) error

// ProcessBatchFunc runs one batch; its error is Batch.Exec's (the batch as a whole could
// not run). The same rules as for ProcessFunc apply.
type ProcessBatchFunc func(ctx context.Context, b *BatchCmds) error

// HookFuncs is a Hook made of functions; a nil field passes its operations through
// unchanged.
type HookFuncs struct {
	Process      func(next ProcessFunc) ProcessFunc
	ProcessBatch func(next ProcessBatchFunc) ProcessBatchFunc
	Dial         func(next DialFunc) DialFunc
}

// ProcessHook implements Hook.
func (h HookFuncs) ProcessHook(next ProcessFunc) ProcessFunc {
	if h.Process == nil {
		return next
	}
	return h.Process(next)
}

// ProcessBatchHook implements Hook.
func (h HookFuncs) ProcessBatchHook(next ProcessBatchFunc) ProcessBatchFunc {
	if h.ProcessBatch == nil {
		return next
	}
	return h.ProcessBatch(next)
}

// DialHook implements Hook.
func (h HookFuncs) DialHook(next DialFunc) DialFunc {
	if h.Dial == nil {
		return next
	}
	return h.Dial(next)
}

// WithHooks installs hooks on DialConn, Dial and NewPool (and on every Client a caller
// builds from the same options), run in the order given; nil hooks are skipped, and a
// second WithHooks adds to the first. With no hook, nothing is added to a call: no
// allocation, no indirection. With hooks, a single command costs one more function call per
// hook and no allocation beyond what the hooks allocate (its Cmd is pooled). Hooks run for
// the typed methods, Do and Batch.Exec; Exec, the raw executor the typed methods call, runs
// without them.
func WithHooks(hooks ...Hook) Option {
	return func(o *options) {
		for _, h := range hooks {
			if h != nil {
				o.hooks = append(o.hooks, h)
			}
		}
	}
}

// observers is the part of options concerned with observability.
type observers struct {
	hooks  []Hook
	logger *slog.Logger
	stats  *counters
}

// observe completes the options once every Option has run: counters, and the dial chain.
func (o *options) observe() {
	o.stats = new(counters)
	base, st := o.dialer, o.stats
	dial := DialFunc(func(ctx context.Context, network, address string) (net.Conn, error) {
		nc, err := base(ctx, network, address)
		st.dials.Add(1)
		if err != nil {
			st.dialFailures.Add(1)
		}
		return nc, err
	})
	for i := len(o.hooks) - 1; i >= 0; i-- {
		dial = o.hooks[i].DialHook(dial)
	}
	o.dialer = dial
}

// Cmd describes one command to hooks. Its fields are set before the first hook runs; Reply
// is set once next has returned without error. A Cmd is reused after the call: a hook must
// not keep it, or anything it returns, after returning.
type Cmd struct {
	// Verb is Gibson's name of the command (GET, MSET, …); Op its opcode; Flags its flags
	// from the spec (wire.FlagReadOnly, …).
	Verb  string
	Op    wire.Opcode
	Flags wire.Flags
	// Addr is the server's address as given to Dial, DialConn or NewPool; Network ("tcp" or
	// "unix") and Address ("host:port" or the socket's path) are what it was parsed into.
	Addr, Network, Address string

	req    *wire.Request // nil once next has failed: the executor has disposed of it
	key    []byte
	hasKey bool
	reply  wire.Reply
	ran    bool
	err    error // next's error
}

var cmdPool = sync.Pool{New: func() any { return new(Cmd) }}

// Key returns the command's key or prefix argument (the first, for the commands that have
// one), or "" for commands with none (STATS, PING, END). It allocates the string; KeyBytes
// does not.
func (c *Cmd) Key() string { return string(c.key) }

// KeyBytes is Key without the allocation: the bytes are valid until the hook returns.
func (c *Cmd) KeyBytes() []byte { return c.key }

// HasKey reports whether the command has a key or prefix argument.
func (c *Cmd) HasKey() bool { return c.hasKey }

// Value returns the command's value argument (SET, MSET), or nil for commands with none.
// The bytes are the request's own, valid until the hook returns, and only while the request
// lives: Value returns nil once next has failed (the request is released by then), so a hook
// that needs the value of a failed command takes it before calling next.
func (c *Cmd) Value() []byte {
	if c.req == nil {
		return nil
	}
	return valueOf(c.Op, c.req.Frame(), c.req.Args())
}

// Reply returns the server's reply once next has returned nil, and the zero Reply before
// that or after a failure. Its Data is valid until the hook returns. A miss is a reply with
// Code wire.CodeNotFound, not an error; wire.CodeError(reply.Code) gives the kind of an
// error code.
func (c *Cmd) Reply() Reply { return c.reply }

// hookedExec runs requests through the process chain; it replaces an executor's X when
// hooks are installed.
type hookedExec struct {
	chain ProcessFunc
	ep    endpoint
}

// executor returns x itself without hooks, and x behind the hooks' process chain otherwise.
func (o *options) executor(x generated.Executor, ep endpoint) generated.Executor {
	if len(o.hooks) == 0 {
		return x
	}
	chain := ProcessFunc(func(ctx context.Context, cmd *Cmd) error {
		if cmd.ran {
			return wire.Errorf(wire.ErrInvalidArgument, cmd.Verb, "a hook called next twice; call it at most once")
		}
		cmd.ran = true
		rep, err := x.Exec(ctx, cmd.req)
		if err != nil {
			cmd.req, cmd.err = nil, err // disposed of by the executor
			return err
		}
		cmd.reply = rep
		return nil
	})
	for i := len(o.hooks) - 1; i >= 0; i-- {
		chain = o.hooks[i].ProcessHook(chain)
	}
	return &hookedExec{chain: chain, ep: ep}
}

// Exec implements generated.Executor.
func (h *hookedExec) Exec(ctx context.Context, req *wire.Request) (wire.Reply, error) {
	cmd := cmdPool.Get().(*Cmd)
	cmd.Verb, cmd.Op, cmd.Flags = req.Verb, req.Op, req.Flags
	cmd.Addr, cmd.Network, cmd.Address = h.ep.display, h.ep.network, h.ep.address
	cmd.req = req
	key, ok := keyOf(req.Op, req.Frame(), req.Args())
	cmd.key, cmd.hasKey = append(cmd.key[:0], key...), ok
	err := h.chain(ctx, cmd)
	rep, ran, nextErr, live := cmd.reply, cmd.ran, cmd.err, cmd.req
	*cmd = Cmd{key: cmd.key[:0]}
	if cap(cmd.key) <= 1<<10 {
		cmdPool.Put(cmd)
	}
	switch {
	case !ran:
		req.Release()
		if err == nil {
			err = wire.Errorf(wire.ErrInvalidArgument, req.Verb, "a hook returned without calling next and without an error; return the reason the command was not run")
		}
		return wire.Reply{}, err
	case nextErr != nil:
		if err == nil {
			err = nextErr
		}
		return wire.Reply{}, err
	case err != nil:
		live.Release()
		return wire.Reply{}, err
	}
	return rep, nil
}

// BatchCmds describes a batch to hooks: its commands, read-only, and the server it runs on.
// It is valid until the hook returns.
type BatchCmds struct {
	// Addr, Network and Address are as in Cmd: the server of the Client or Conn the batch
	// runs on.
	Addr, Network, Address string

	b   *Batch
	ran bool
}

// Len returns the number of commands the batch sends (those refused when queued are not
// counted).
func (bc *BatchCmds) Len() int { return len(bc.b.ends) }

func (bc *BatchCmds) frame(i int) []byte { return bc.b.frames[bc.b.start(i):bc.b.ends[i]] }

// Op returns the opcode of the i-th command (0 ≤ i < Len).
func (bc *BatchCmds) Op(i int) Opcode { return frameOp(bc.frame(i)) }

// Verb returns the verb of the i-th command.
func (bc *BatchCmds) Verb(i int) string {
	if cmd := generated.ByOpcode(bc.Op(i)); cmd != nil {
		return cmd.Verb
	}
	return bc.Op(i).String()
}

// Key returns the key or prefix of the i-th command, "" if it has none; it allocates the
// string.
func (bc *BatchCmds) Key(i int) string {
	k, _ := keyOf(bc.Op(i), bc.frame(i), bc.b.args[i])
	return string(k)
}

// Value returns the value argument of the i-th command (SET, MSET), nil if it has none;
// the bytes are the batch's own, valid until the hook returns.
func (bc *BatchCmds) Value(i int) []byte { return valueOf(bc.Op(i), bc.frame(i), bc.b.args[i]) }

// ReadOnly reports whether every command of the batch is read-only.
func (bc *BatchCmds) ReadOnly() bool { return bc.b.readOnly }

// hookedBatch runs batches through the batch chain.
type hookedBatch struct {
	chain ProcessBatchFunc
	ep    endpoint
}

// batchRunner returns x itself without hooks, and x behind the hooks' batch chain
// otherwise.
func (o *options) batchRunner(x batchRunner) batchRunner {
	if len(o.hooks) == 0 {
		return x
	}
	var ep endpoint
	switch v := x.(type) {
	case *Client:
		ep = v.ep
	case *Conn:
		ep = v.ep
	}
	chain := ProcessBatchFunc(func(ctx context.Context, bc *BatchCmds) error {
		if bc.ran {
			return wire.Errorf(wire.ErrInvalidArgument, "batch", "a hook called next twice; call it at most once")
		}
		bc.ran = true
		return x.runBatch(ctx, bc.b)
	})
	for i := len(o.hooks) - 1; i >= 0; i-- {
		chain = o.hooks[i].ProcessBatchHook(chain)
	}
	return &hookedBatch{chain: chain, ep: ep}
}

func (h *hookedBatch) runBatch(ctx context.Context, b *Batch) error {
	bc := &BatchCmds{Addr: h.ep.display, Network: h.ep.network, Address: h.ep.address, b: b}
	err := h.chain(ctx, bc)
	if err == nil && !bc.ran {
		err = wire.Errorf(wire.ErrInvalidArgument, "batch", "a hook returned without calling next and without an error; return the reason the batch was not run")
	}
	return err
}

// argPos says where a command's key (or prefix) and value arguments are: their indexes in
// wire order, -1 for none. Indexed by opcode, which Gibson keeps below 256.
var argPos = func() (t [256]struct{ key, value int8 }) {
	for i := range t {
		t[i].key, t[i].value = -1, -1
	}
	for _, cmd := range generated.Table {
		if cmd.Op > 255 {
			continue
		}
		p := &t[cmd.Op]
		for j, a := range cmd.Args {
			switch {
			case (a.Kind == wire.ArgKey || a.Kind == wire.ArgPrefix) && p.key < 0:
				p.key = int8(j)
			case a.Kind == wire.ArgValue:
				p.value = int8(j)
			}
		}
	}
	return t
}()

func frameOp(frame []byte) wire.Opcode {
	if len(frame) < wire.RequestHeaderSize {
		return 0
	}
	return wire.Opcode(frame[4]) | wire.Opcode(frame[5])<<8
}

// keyOf returns the key or prefix argument of a request of op, given where its arguments
// are, and whether op has one.
func keyOf(op wire.Opcode, frame []byte, args wire.Args) ([]byte, bool) {
	if op > 255 || argPos[op].key < 0 {
		return nil, false
	}
	k, _ := args.Arg(frame, int(argPos[op].key))
	return k, true
}

// valueOf returns the value argument of a request of op (SET, MSET), nil for commands with
// none.
func valueOf(op wire.Opcode, frame []byte, args wire.Args) []byte {
	if op > 255 || argPos[op].value < 0 {
		return nil
	}
	v, _ := args.Arg(frame, int(argPos[op].value))
	return v
}
