package client

import (
	"context"
	"net"
	"time"

	"github.com/gogibson/gogibson/wire"
)

// Defaults of the options. The size limits follow the reference server's compiled defaults
// (docs/protocol.md §8); a server run with its shipped configuration accepts more, and the
// matching options raise the client's limits to it.
const (
	// DefaultDialTimeout bounds one connection attempt when the context has no earlier
	// deadline.
	DefaultDialTimeout = 5 * time.Second
	// DefaultPoolSize is the number of pipelined connections a Client shares between its
	// callers; see WithPoolSize for the measurements behind it.
	DefaultPoolSize = 4
	// DefaultMaxKeySize is the server's compiled max_key_size (512).
	DefaultMaxKeySize = wire.DefaultMaxKeySize
	// DefaultMaxValueSize is the server's compiled max_value_size (4096).
	DefaultMaxValueSize = wire.DefaultMaxValueSize
	// DefaultMaxReplySize is the largest reply payload the client accepts (64 MiB).
	DefaultMaxReplySize = wire.DefaultMaxReplySize
	// DefaultMaxInFlightBytes caps the request bytes sent on one connection and not yet
	// answered (64 KiB).
	DefaultMaxInFlightBytes = 64 << 10
	// DefaultMaxRequestSize is the server's compiled max_request_size (4 MiB): the largest
	// frame length (opcode plus payload) it accepts.
	DefaultMaxRequestSize = 4 << 20
	// DefaultRedialMin and DefaultRedialMax bound the wait between reconnection attempts of a
	// Client's broken connection; the wait doubles after each failed attempt.
	DefaultRedialMin = 50 * time.Millisecond
	// DefaultRedialMax is the longest wait between two reconnection attempts.
	DefaultRedialMax = 2 * time.Second
	// DefaultReplyTimeout is how long a connection may stay silent while requests on it are
	// unanswered before it is closed as dead; see WithReplyTimeout.
	DefaultReplyTimeout = 10 * time.Second
	// DefaultWriteTimeout bounds one write to a server that is not reading; see
	// WithWriteTimeout.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultCloseTimeout is how long Client.Close waits for calls in progress before it
	// closes their connections under them; see WithCloseTimeout.
	DefaultCloseTimeout = time.Second
)

// DialFunc opens a connection; net.Dialer.DialContext has this signature.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Option configures DialConn, Dial and NewPool.
type Option func(*options)

type options struct {
	dialTimeout    time.Duration
	poolSize       int
	limits         wire.Limits
	maxReplySize   int
	maxInFlight    int
	maxRequestSize int
	dialer         DialFunc
	redialMin      time.Duration
	redialMax      time.Duration
	replyTimeout   time.Duration
	writeTimeout   time.Duration
	closeTimeout   time.Duration
	now            func() time.Time // the clock of log rate limits; tests replace it
	observers                       // hooks, logger and counters; see hooks.go
}

func buildOptions(opts []Option) *options {
	o := &options{
		dialTimeout:    DefaultDialTimeout,
		poolSize:       DefaultPoolSize,
		limits:         wire.Limits{MaxKeySize: DefaultMaxKeySize, MaxValueSize: DefaultMaxValueSize},
		maxReplySize:   DefaultMaxReplySize,
		maxInFlight:    DefaultMaxInFlightBytes,
		maxRequestSize: DefaultMaxRequestSize,
		redialMin:      DefaultRedialMin,
		redialMax:      DefaultRedialMax,
		replyTimeout:   DefaultReplyTimeout,
		writeTimeout:   DefaultWriteTimeout,
		closeTimeout:   DefaultCloseTimeout,
		now:            time.Now,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	if o.dialer == nil {
		var d net.Dialer
		o.dialer = d.DialContext
	}
	o.observe()
	return o
}

// WithDialTimeout bounds each connection attempt (default DefaultDialTimeout, 5 s). The
// context passed to DialConn, Dial, NewPool or a call that reconnects still applies; the
// earlier deadline wins. Zero or negative means no timeout beyond the context's.
func WithDialTimeout(d time.Duration) Option {
	return func(o *options) { o.dialTimeout = d }
}

// WithPoolSize sets how many pipelined connections a Client opens and shares between its
// callers (default DefaultPoolSize, 4; values below 1 mean 1). The reference server is
// single-threaded and serves at most one request per connection per pass of its event loop,
// so a few connections keep it busy; beyond that each connection only adds system calls and
// splits the batches that pipelining builds. With 32 goroutines on 2 cores against the
// reference server, a GET took 7.8 µs with 1 connection, 6.5 µs with 2, 5.1 µs with 4 and
// 7.5 µs with 8 (calls then went round-robin; with the least-loaded pick, 4 and 8 were
// within the noise); against the in-process embedded server (which answers a whole
// pipelined batch per pass) 1 connection was fastest. A larger pool also limits head-of-line blocking
// behind a big MGET reply. It does not affect Pool, whose size is set by PoolConfig.
func WithPoolSize(n int) Option {
	return func(o *options) { o.poolSize = max(n, 1) }
}

// WithMaxKeySize sets the server's max_key_size the client checks keys and prefixes
// against (default DefaultMaxKeySize, 512; 1024 in the server's shipped configuration).
// Keys may be at most n-1 bytes, SET's key shares the budget with its ttl. Set it to the
// server's value: a larger value lets the server silently truncate keys, a smaller one
// refuses keys the server would accept. Values below 2 mean the default.
func WithMaxKeySize(n int) Option {
	return func(o *options) {
		if n >= 2 {
			o.limits.MaxKeySize = n
		}
	}
}

// WithMaxValueSize sets the server's max_value_size the client checks values against
// (default DefaultMaxValueSize, 4096; 2 096 127 in the shipped configuration). A larger value
// than the server's lets it truncate values silently (Set then reports ErrServer); a smaller
// one refuses values it would accept. Values below 1 mean the default.
func WithMaxValueSize(n int) Option {
	return func(o *options) {
		if n >= 1 {
			o.limits.MaxValueSize = n
		}
	}
}

// WithMaxReplySize caps the payload of one reply (default DefaultMaxReplySize, 64 MiB). A
// larger declared size is treated as a malformed reply: the pending calls fail with
// ErrProtocol and the connection is closed, so a corrupt stream cannot make the client
// allocate gigabytes. Values below 1 mean the default.
func WithMaxReplySize(n int) Option {
	return func(o *options) {
		if n >= 1 {
			o.maxReplySize = n
		}
	}
}

// WithMaxInFlightBytes caps the request bytes sent on one connection and not yet answered
// (default DefaultMaxInFlightBytes, 64 KiB). Callers beyond the cap wait, respecting their
// context, until replies come back. The cap keeps the socket's send buffer from filling up,
// which would stall writers and split frames across writes; a larger cap allows deeper
// pipelines, a smaller one bounds memory and latency. A single frame larger than the cap is
// still sent, alone. Values below 1 mean the default.
func WithMaxInFlightBytes(n int) Option {
	return func(o *options) {
		if n >= 1 {
			o.maxInFlight = n
		}
	}
}

// WithMaxRequestSize sets the server's max_request_size (default DefaultMaxRequestSize,
// 4 MiB; 2 MiB in the shipped configuration). Requests whose frame length (opcode plus
// payload) exceeds it fail with ErrInvalidArgument without being sent, because the server
// would close the connection. Values below 2 mean the default.
func WithMaxRequestSize(n int) Option {
	return func(o *options) {
		if n >= 2 {
			o.maxRequestSize = n
		}
	}
}

// WithDialer replaces the function that opens connections (default a zero net.Dialer's
// DialContext). Use it for custom timeouts, keep-alive, proxies or fault injection in
// tests. It receives the network ("unix" or "tcp") and address parsed from the address
// string. A connection that is not a *net.TCPConn or *net.UnixConn (TLS, a wrapper) cannot
// be peeked for idle closes, so its Conn keeps a goroutine reading it at all times and a
// lone caller's reply is handed over by that goroutine (one goroutine wake-up per call).
func WithDialer(dial DialFunc) Option {
	return func(o *options) { o.dialer = dial }
}

// WithRedialBackoff sets how long a Client waits before reconnecting a broken connection:
// min after the first failed attempt, doubling up to max (defaults DefaultRedialMin, 50 ms,
// and DefaultRedialMax, 2 s). Calls that find no usable connection during the wait fail at
// once with an error wrapping ErrClosed instead of dialing, so a dead server is never
// hammered. Non-positive values keep the defaults; max below min is raised to min.
func WithRedialBackoff(min, max time.Duration) Option {
	lo, hi := min, max
	return func(o *options) {
		if lo > 0 {
			o.redialMin = lo
		}
		if hi > 0 {
			o.redialMax = hi
		}
		if o.redialMax < o.redialMin {
			o.redialMax = o.redialMin
		}
	}
}

// WithReplyTimeout sets how long a connection may go without receiving a byte while
// requests on it are unanswered (default DefaultReplyTimeout, 10 s). Past it the connection
// is closed as dead and replaced: its pending calls fail with an error wrapping ErrClosed
// that says how long they waited, and a Client sends later calls elsewhere. The silence is
// measured in quarters, so a call fails between d and 1.25 d after it was sent (a Client
// sends a read-only command once more on a new connection: at most 2.5 d in all, which the
// error states). Callers whose contexts end
// sooner return sooner; this bound is for the connection, whose abandoned requests would
// otherwise hold it (and every call queued behind them) for ever when a server never
// answers. Raise it for commands that legitimately take long before their first reply byte
// (an MGET over millions of keys). Non-positive values keep the default.
func WithReplyTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.replyTimeout = d
		}
	}
}

// WithWriteTimeout bounds how long writing requests to a server that does not read them may
// block (default DefaultWriteTimeout, 10 s; the deadline is set once per timeout, not per
// write, so a stuck write is found after between d and 2 d). A write that passes it, or a large frame (over
// the in-flight cap) whose caller's context ends while it is written, closes the connection:
// part of a frame may have been sent, and it cannot be taken back. Non-positive values keep
// the default.
func WithWriteTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.writeTimeout = d
		}
	}
}

// WithCloseTimeout sets how long Client.Close waits for calls in progress to finish
// (default DefaultCloseTimeout, 1 s) before it closes the connections under them, which
// fails the calls still waiting with ErrClosed. Zero closes at once; negative values keep
// the default.
func WithCloseTimeout(d time.Duration) Option {
	return func(o *options) {
		if d >= 0 {
			o.closeTimeout = d
		}
	}
}
