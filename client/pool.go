package client

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// Pool defaults, as aiogibson's create_pool.
const (
	// DefaultPoolMinSize is the number of connections a zero PoolConfig opens up front.
	DefaultPoolMinSize = 10
	// DefaultPoolMaxSize is the most connections a Pool opens when MaxSize is 0.
	DefaultPoolMaxSize = 10
)

// PoolConfig sizes a Pool. The zero PoolConfig means aiogibson's defaults: MinSize
// DefaultPoolMinSize and MaxSize DefaultPoolMaxSize (10 and 10).
type PoolConfig struct {
	// MinSize connections are dialled by NewPool; 0 dials none up front (unless MaxSize is
	// 0 too). Connections are not re-opened to keep MinSize: a broken one is replaced by the
	// next Acquire that needs a connection.
	MinSize int
	// MaxSize bounds the connections open at once, free or in use; 0 means
	// DefaultPoolMaxSize. It must not be below MinSize.
	MaxSize int
}

// Pool hands out connections for exclusive use, like aiogibson's pool: Acquire one, use it,
// Release it. Broken connections are discarded, never handed out, and replaced by new ones
// on demand. A Pool is safe for concurrent use.
//
// The Pool also runs the typed commands itself (p.Get(ctx, key), …): each call acquires a
// connection, runs, and releases it. A Client is the better choice for that, since its
// connections are shared by many callers at once; a Pool suits code that wants a connection
// to itself (a sequence of commands, END).
type Pool struct {
	cmds generated.Commands // the typed methods (commands_gen.go) run through Exec

	ep       endpoint
	opts     *options
	min, max int

	mu      sync.Mutex
	free    []*Conn        // idle connections, oldest first
	all     map[*Conn]bool // every open connection; true while acquired
	size    int            // open connections plus dials under way
	waiters []chan *Conn   // Acquire calls waiting, oldest first
	closed  bool
}

// NewPool creates a pool of connections to address and dials cfg.MinSize of them; if one
// fails it closes the others and returns the error. The context bounds those dials only.
func NewPool(ctx context.Context, address string, cfg PoolConfig, opts ...Option) (*Pool, error) {
	ep, err := parseEndpoint(address)
	if err != nil {
		return nil, err
	}
	if cfg == (PoolConfig{}) {
		cfg = PoolConfig{MinSize: DefaultPoolMinSize, MaxSize: DefaultPoolMaxSize}
	}
	if cfg.MaxSize == 0 {
		cfg.MaxSize = DefaultPoolMaxSize
	}
	if cfg.MinSize < 0 || cfg.MaxSize < 1 || cfg.MinSize > cfg.MaxSize {
		return nil, wire.Errorf(wire.ErrInvalidArgument, "", "pool sizes min %d, max %d: need 0 <= MinSize <= MaxSize and MaxSize >= 1", cfg.MinSize, cfg.MaxSize)
	}
	o := buildOptions(opts)
	p := &Pool{ep: ep, opts: o, min: cfg.MinSize, max: cfg.MaxSize, all: make(map[*Conn]bool)}
	p.cmds = generated.Commands{Executor: o.executor(p, ep), Limits: o.limits}
	dialled := false
	defer func() {
		if !dialled {
			p.Close() // a DialHook panicked: close what was dialled, and let the panic go on
		}
	}()
	for range cfg.MinSize {
		cn, err := ep.dial(ctx, o)
		if err != nil {
			dialled = true // closed here
			p.Close()
			return nil, err
		}
		p.all[cn] = false
		p.free = append(p.free, cn)
		p.size++
	}
	dialled = true
	return p, nil
}

// Acquire returns a connection for the caller's exclusive use until Release: an idle one
// (checked first with a non-blocking peek at its socket, so one the server has closed is
// discarded, not handed out), or a new one while fewer than MaxSize are open. Otherwise it
// waits for a Release until the context ends, and then returns an error matching the
// context's error that says the pool was exhausted. It fails with ErrClosed after Close.
func (p *Pool) Acquire(ctx context.Context) (*Conn, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, p.closedErr()
		}
		if len(p.free) > 0 {
			cn := p.free[0]
			p.free = p.free[1:]
			p.all[cn] = true
			p.mu.Unlock()
			// Checked without the pool's lock: a syscall, and a shutdown if it was closed.
			if cn.probe() {
				return cn, nil
			}
			p.mu.Lock()
			delete(p.all, cn)
			p.size--
			p.mu.Unlock()
			cn.Close()
			continue
		}
		if p.size < p.max {
			p.size++
			p.mu.Unlock()
			return p.dial(ctx)
		}
		ch := make(chan *Conn, 1)
		p.waiters = append(p.waiters, ch)
		inUse := p.size
		p.mu.Unlock()
		defer p.opts.stats.waited(time.Now())
		select {
		case cn := <-ch:
			if cn != nil {
				return cn, nil
			}
			if p.isClosed() {
				return nil, p.closedErr()
			}
			return p.dial(ctx) // a broken connection's place was passed on to us
		case <-ctx.Done():
			p.mu.Lock()
			removed := p.removeWaiter(ch)
			p.mu.Unlock()
			if !removed {
				// Handed something at the same moment: give it back.
				if cn := <-ch; cn != nil {
					p.Release(cn)
				} else if !p.isClosed() {
					p.mu.Lock()
					p.freePlace()
					p.mu.Unlock()
				}
			}
			return nil, &wire.Error{Msg: fmt.Sprintf("pool: all %d connections to %s stayed in use until the context ended", inUse, p.ep.display), Err: ctx.Err()}
		}
	}
}

// dial opens a connection for a place already counted in size. A DialHook's panic gives
// the place up before it goes on to the caller.
func (p *Pool) dial(ctx context.Context) (*Conn, error) {
	panicking := true
	defer func() {
		if panicking {
			p.mu.Lock()
			p.freePlace()
			p.mu.Unlock()
		}
	}()
	cn, err := p.ep.dial(ctx, p.opts)
	panicking = false
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.freePlace()
		return nil, err
	}
	if p.closed {
		cn.Close()
		return nil, p.closedErr()
	}
	p.all[cn] = true
	return cn, nil
}

// freePlace gives up one counted place: to the oldest waiter, which then dials, or by
// shrinking size. Called with p.mu held.
func (p *Pool) freePlace() {
	if len(p.waiters) > 0 {
		ch := p.waiters[0]
		p.waiters = p.waiters[1:]
		ch <- nil
		return
	}
	p.size--
}

func (p *Pool) removeWaiter(ch chan *Conn) bool {
	for i, w := range p.waiters {
		if w == ch {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			return true
		}
	}
	return false
}

// Release returns a connection taken with Acquire. A broken or closed connection (see
// Conn.Closed) is discarded, and its place passes to a waiting or later Acquire; so is one
// that still carries a request whose caller gave up before its reply came, since the next
// user's calls would wait behind that reply (for ever, if the server never sends it).
// Releasing a connection the pool does not own, or one already released, does nothing.
func (p *Pool) Release(cn *Conn) {
	if cn == nil {
		return
	}
	p.mu.Lock()
	if inUse, ok := p.all[cn]; !ok || !inUse {
		p.mu.Unlock()
		return
	}
	if p.closed || cn.Closed() || cn.abandoned.Load() > 0 {
		delete(p.all, cn)
		if !p.closed {
			p.freePlace()
		}
		p.mu.Unlock()
		cn.Close()
		return
	}
	if len(p.waiters) > 0 {
		ch := p.waiters[0]
		p.waiters = p.waiters[1:]
		p.mu.Unlock()
		ch <- cn // stays in use, now by the waiter
		return
	}
	p.all[cn] = false
	p.free = append(p.free, cn)
	p.mu.Unlock()
}

// Exec acquires a connection, runs req on it and releases it; it implements
// generated.Executor, so the typed commands are methods of *Pool.
func (p *Pool) Exec(ctx context.Context, req *wire.Request) (Reply, error) {
	cn, err := p.Acquire(ctx)
	if err != nil {
		req.Release()
		if e, ok := err.(*wire.Error); ok && e.Command == "" {
			e.Command = req.Verb
		}
		return wire.Reply{}, err
	}
	rep, err := cn.Exec(ctx, req) // the reply lives in req, not in the connection
	p.Release(cn)
	return rep, err
}

// Do sends a raw request like Conn.Do, on a connection acquired for the call.
func (p *Pool) Do(ctx context.Context, op Opcode, args ...[]byte) (Reply, error) {
	return do(ctx, p.cmds.Executor, op, args)
}

// Size returns the number of open connections, free and in use, counting dials under way.
func (p *Pool) Size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.size
}

// FreeSize returns the number of idle connections.
func (p *Pool) FreeSize() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free)
}

// MinSize returns the configured minimum size.
func (p *Pool) MinSize() int { return p.min }

// MaxSize returns the configured maximum size.
func (p *Pool) MaxSize() int { return p.max }

// Clear closes every idle connection, like aiogibson's clear; connections in use are not
// affected.
func (p *Pool) Clear() {
	p.mu.Lock()
	free := p.free
	p.free = nil
	for _, cn := range free {
		delete(p.all, cn)
		p.size--
	}
	p.mu.Unlock()
	closeAll(free)
}

// Close closes the pool and every connection, idle or in use (calls in progress on them
// fail with ErrClosed), and waits for their goroutines to exit. Waiting and later Acquire
// calls fail with ErrClosed; Release after Close just discards. It always returns nil.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	var conns []*Conn
	for cn := range p.all {
		conns = append(conns, cn)
	}
	clear(p.all)
	p.free, p.size = nil, 0
	waiters := p.waiters
	p.waiters = nil
	p.mu.Unlock()
	for _, ch := range waiters {
		ch <- nil
	}
	closeAll(conns)
	return nil
}

// Closed reports whether Close has been called.
func (p *Pool) Closed() bool { return p.isClosed() }

func (p *Pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *Pool) closedErr() error {
	return &wire.Error{Kind: wire.ErrClosed, Msg: "pool is closed"}
}

func closeAll(conns []*Conn) {
	for _, cn := range conns {
		cn.Close()
	}
}
