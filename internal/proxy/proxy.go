// Package proxy is gibson proxy: one Gibson endpoint in front of a client.Ring (or any
// executor), for clients in any language. Client connections share the Ring's few
// pipelined connections per shard; each client's requests run concurrently and their
// replies go back in its request order.
package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// Defaults of Config.
const (
	// DefaultMaxInFlight is how many requests of one client connection run at once; the
	// connection is read no further until one completes (back-pressure).
	DefaultMaxInFlight = 128
	// DefaultRequestTimeout bounds each request to the shards.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultMaxRequestSize is the reference server's compiled max_request_size.
	DefaultMaxRequestSize = 524288
)

// Config configures New.
type Config struct {
	// Batch returns an empty batch that runs requests on the servers: for a Ring r,
	// func() proxy.Batcher { return r.Batch() }. Each client connection runs the requests
	// it has pipelined as one batch, so that each server sees that client's requests in the
	// order sent, as one server would. A request the batch could not answer (a shard down,
	// a fanned-out command some shard missed) is answered with ERR.
	Batch func() Batcher
	// Exec runs a request that arrived alone (the client waits for its reply before sending
	// more): the same servers as Batch, without a batch's hand-offs. For a Ring, the Ring.
	// Nil: every request goes through Batch.
	Exec generated.Executor
	// Up reports whether a PING is answered OK: for a Ring, while at least one shard is up.
	// Nil: always.
	Up func() bool
	// MaxClients caps the client connections open at once: one more is accepted and closed
	// at once, as the reference server does. 0: no cap.
	MaxClients int
	// MaxRequestSize is the largest request body accepted (default DefaultMaxRequestSize);
	// a longer or shorter than 2 bytes declared length closes the connection, as on the
	// reference server (docs/protocol.md §6.2).
	MaxRequestSize int
	// MaxInFlight (default DefaultMaxInFlight) bounds the requests of one connection run as
	// one batch; the connection is read no further until their replies are written.
	MaxInFlight int
	// RequestTimeout bounds each request's round trip to the shards (default
	// DefaultRequestTimeout); a request that outlives it gets an ERR reply.
	RequestTimeout time.Duration
	// Logger gets shard and client events (rate-limited); nil logs nothing.
	Logger *slog.Logger
}

// Batcher is the part of *client.Batch the proxy uses.
type Batcher interface {
	Do(op wire.Opcode, args ...[]byte) *generated.ReplyHandle
	Exec(ctx context.Context) error
	Reset()
}

// Proxy accepts Gibson clients and serves them through a Ring. It is safe for concurrent use.
type Proxy struct {
	cfg    Config
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	listeners map[net.Listener]bool
	conns     map[*conn]bool
	closed    bool
	wg        sync.WaitGroup

	clients  atomic.Int64 // open client connections
	refused  atomic.Int64 // connections closed at MaxClients
	requests atomic.Int64 // requests answered
	partial  atomic.Int64 // connections part-way through reading a request's body
}

// New returns a Proxy for cfg; start it with Serve.
func New(cfg Config) *Proxy {
	if cfg.MaxRequestSize <= 0 {
		cfg.MaxRequestSize = DefaultMaxRequestSize
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Proxy{cfg: cfg, log: log, listeners: map[net.Listener]bool{}, conns: map[*conn]bool{}}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p
}

// ErrClosed is returned by Serve once Close was called.
var ErrClosed = errors.New("proxy: closed")

// Serve accepts connections on l until Close, serving each on goroutines of its own. It
// returns ErrClosed after Close, or the listener's error.
func (p *Proxy) Serve(l net.Listener) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.listeners[l] = true
	p.mu.Unlock()
	var warned rateLimit
	for {
		nc, err := l.Accept()
		if err != nil {
			p.mu.Lock()
			closed := p.closed
			p.mu.Unlock()
			if closed {
				return ErrClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of descriptors, say: wait a moment for some to close, as net/http does.
			if n, ok := warned.hit(time.Now()); ok {
				p.log.Warn("gibson proxy: accepting a connection failed", "err", err, "failures", n)
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if max := p.cfg.MaxClients; max > 0 && p.clients.Load() >= int64(max) {
			nc.Close()
			if n := p.refused.Add(1); n == 1 || n%1000 == 0 {
				p.log.Warn("gibson proxy: refused a client: max_clients reached", "max_clients", max, "refused", n)
			}
			continue
		}
		c := newConn(p, nc)
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			nc.Close()
			return ErrClosed
		}
		p.conns[c] = true
		p.clients.Add(1)
		p.wg.Add(1)
		p.mu.Unlock()
		go c.serve()
	}
}

func (p *Proxy) forget(c *conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	p.clients.Add(-1)
	p.wg.Done()
}

// Clients returns the number of client connections open.
func (p *Proxy) Clients() int { return int(p.clients.Load()) }

// PartialRequests returns the number of client connections whose request has been
// announced (its length read) but not yet received whole.
func (p *Proxy) PartialRequests() int { return int(p.partial.Load()) }

// Requests returns the number of requests answered.
func (p *Proxy) Requests() int64 { return p.requests.Load() }

// Close stops accepting, closes every client connection (requests in progress are cut
// short) and waits for their goroutines. The Ring stays open.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	for l := range p.listeners {
		l.Close()
	}
	conns := make([]*conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	p.cancel()
	for _, c := range conns {
		c.nc.Close()
	}
	p.wg.Wait()
	return nil
}

// rateLimit lets a repeated event through once, then once a minute with the count since.
type rateLimit struct {
	last  time.Time
	since int
}

func (r *rateLimit) hit(now time.Time) (int, bool) {
	r.since++
	if !r.last.IsZero() && now.Sub(r.last) < time.Minute {
		return 0, false
	}
	n := r.since
	r.last, r.since = now, 0
	return n, true
}
