package client

import (
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gogibson/gogibson/wire"
)

// PoolStats is a snapshot of a Client's or Pool's connections and of what went through
// them since it was created. Counters only grow; take two snapshots and subtract for a
// rate. The counters are kept on paths that already hold a lock or make a system call, so
// they cost nothing measurable and need no option.
type PoolStats struct {
	// Open is the number of connections that are open and usable (not broken, not closed).
	Open int `json:"open"`
	// Idle is the number of open connections with no call in progress.
	Idle int `json:"idle"`
	// Active is the number of calls in progress: on a Client, typed commands, Do calls and
	// batches that have started and not returned; on a Pool, the connections acquired and
	// not yet released.
	Active int64 `json:"active"`
	// Requests is the number of request frames queued for writing (a batch counts each of
	// its commands); BytesSent their bytes, length fields included.
	Requests  uint64 `json:"requests"`
	BytesSent uint64 `json:"bytes_sent"`
	// Dials and DialFailures count every connection attempt: the first connections,
	// redials, and a Pool's connections opened on demand.
	Dials        uint64 `json:"dials"`
	DialFailures uint64 `json:"dial_failures"`
	// Redials counts attempts to replace a broken connection (a Client's redials, a Pool's
	// dials after NewPool), RedialFailures those that failed and so started or lengthened
	// a back-off (WithRedialBackoff).
	Redials        uint64 `json:"redials"`
	RedialFailures uint64 `json:"redial_failures"`
	// Waits counts the calls that had to wait: for in-flight budget on a connection
	// (WithMaxInFlightBytes), for a redial under way, or for a Pool connection to be
	// released; WaitTime is the total time they waited.
	Waits    uint64        `json:"waits"`
	WaitTime time.Duration `json:"wait_ns"`
	// Broken counts the connections that stopped working, by cause.
	Broken BrokenStats `json:"broken"`
}

// BrokenStats counts connections that stopped working, by why. A connection closed by
// Close, Pool.Clear or after being replaced is not counted.
type BrokenStats struct {
	// ServerClosed: the server closed the connection (EOF), while calls were pending or
	// while it was idle (found by the next call).
	ServerClosed uint64 `json:"server_closed"`
	// ReadError and WriteError: the socket failed otherwise (reset, network down).
	ReadError  uint64 `json:"read_error"`
	WriteError uint64 `json:"write_error"`
	// ReplyTimeout: the server stayed silent for WithReplyTimeout while requests waited.
	ReplyTimeout uint64 `json:"reply_timeout"`
	// WriteTimeout: the server did not read requests for WithWriteTimeout.
	WriteTimeout uint64 `json:"write_timeout"`
	// Cancelled: a caller's context ended while its large request was being written.
	Cancelled uint64 `json:"cancelled"`
	// Protocol: a malformed reply, or bytes that arrived while nothing was pending.
	Protocol uint64 `json:"protocol"`
	// Ended: END was sent, and the server closed the connection as asked.
	Ended uint64 `json:"ended"`
}

// Total returns the number of broken connections, whatever the cause.
func (b BrokenStats) Total() uint64 {
	return b.ServerClosed + b.ReadError + b.WriteError + b.ReplyTimeout + b.WriteTimeout +
		b.Cancelled + b.Protocol + b.Ended
}

// Causes returns the counts by cause name ("server_closed", "read_error", "write_error",
// "reply_timeout", "write_timeout", "cancelled", "protocol", "ended"), in that order, for
// exporters; the names are those of the JSON fields and of BreakCause.String.
func (b BrokenStats) Causes() [NumBreakCauses]uint64 {
	return [NumBreakCauses]uint64{b.ServerClosed, b.ReadError, b.WriteError, b.ReplyTimeout,
		b.WriteTimeout, b.Cancelled, b.Protocol, b.Ended}
}

// BreakCause says why a connection stopped working; it indexes BrokenStats.Causes.
type BreakCause uint8

// The causes, in the order of BrokenStats.Causes.
const (
	BreakServerClosed BreakCause = iota
	BreakReadError
	BreakWriteError
	BreakReplyTimeout
	BreakWriteTimeout
	BreakCancelled
	BreakProtocol
	BreakEnded
	// NumBreakCauses is the number of causes.
	NumBreakCauses
	// breakClosed: closed on purpose (Close, Clear, replaced); not counted.
	breakClosed BreakCause = 255
)

var breakCauseNames = [NumBreakCauses]string{"server_closed", "read_error", "write_error",
	"reply_timeout", "write_timeout", "cancelled", "protocol", "ended"}

// String returns the cause's name as in the JSON fields of BrokenStats.
func (k BreakCause) String() string {
	if k < NumBreakCauses {
		return breakCauseNames[k]
	}
	return "closed"
}

// classify maps the cause a connection recorded to a BreakCause. The causes are built in
// a few places (reader.go, pipe.go, conn.go); their kinds and messages tell them apart.
func classify(b *brokenCause) BreakCause {
	switch {
	case b.kind == wire.ErrProtocol:
		return BreakProtocol
	case errors.Is(b.err, io.EOF):
		return BreakServerClosed
	case b.msg == closeMsg || b.msg == "connection closed" && b.err != nil:
		return breakClosed
	case b.msg == endMsg:
		return BreakEnded
	case isSilence(b.err):
		return BreakReplyTimeout
	case strings.Contains(b.msg, "WithWriteTimeout"):
		return BreakWriteTimeout
	case strings.HasPrefix(b.msg, "writing"):
		return BreakWriteError
	case strings.HasPrefix(b.msg, "a caller's context ended"):
		return BreakCancelled
	}
	return BreakReadError
}

// The messages of the causes that classify recognises by text.
const (
	closeMsg = "connection closed by Close"
	endMsg   = "connection ended by END"
)

// counters are the shared, growing part of PoolStats. Every connection of a Client or Pool
// shares its options and so these counters. Frames and bytes sent are counted per
// connection under the lock that queuing already holds (a shared atomic counter there cost
// ~5 % of parallel throughput on two cores) and folded in here when the connection shuts
// down.
type counters struct {
	requests, bytesSent     atomic.Uint64 // of connections that have shut down
	dials, dialFailures     atomic.Uint64
	redials, redialFailures atomic.Uint64
	waits                   atomic.Uint64
	waitNanos               atomic.Int64
	broken                  [NumBreakCauses]atomic.Uint64
}

// fold adds a connection's counts; shutdown calls it once, with c.mu held.
func (s *counters) fold(c *Conn) {
	s.requests.Add(c.frames)
	s.bytesSent.Add(c.bytes)
}

// addLive adds the counts of a connection that has not shut down yet to st.
func addLive(st *PoolStats, c *Conn) {
	c.mu.Lock()
	if !c.shut {
		st.Requests += c.frames
		st.BytesSent += c.bytes
	}
	c.mu.Unlock()
}

// waited counts one wait that began at start; call it deferred where a caller blocks.
func (s *counters) waited(start time.Time) {
	s.waits.Add(1)
	s.waitNanos.Add(int64(time.Since(start)))
}

func (s *counters) redialed(err error) {
	s.redials.Add(1)
	if err != nil {
		s.redialFailures.Add(1)
	}
}

// fill copies the counters into st.
func (s *counters) fill(st *PoolStats) {
	st.Requests += s.requests.Load()
	st.BytesSent += s.bytesSent.Load()
	st.Dials = s.dials.Load()
	st.DialFailures = s.dialFailures.Load()
	st.Redials = s.redials.Load()
	st.RedialFailures = s.redialFailures.Load()
	st.Waits = s.waits.Load()
	st.WaitTime = time.Duration(s.waitNanos.Load())
	var n [NumBreakCauses]uint64
	for i := range n {
		n[i] = s.broken[i].Load()
	}
	st.Broken = BrokenStats{ServerClosed: n[BreakServerClosed], ReadError: n[BreakReadError],
		WriteError: n[BreakWriteError], ReplyTimeout: n[BreakReplyTimeout],
		WriteTimeout: n[BreakWriteTimeout], Cancelled: n[BreakCancelled],
		Protocol: n[BreakProtocol], Ended: n[BreakEnded]}
}

// PoolStats returns a snapshot of the Client's connections and counters. It locks each
// connection briefly (as a call queuing a request does) and may be called at any time,
// including after Close (Open is then 0). A connection shutting down while the snapshot is
// taken may have its requests counted twice in it; none is ever missed.
func (c *Client) PoolStats() PoolStats {
	var st PoolStats
	// Live connections first: one that shuts down meanwhile is then counted at most twice
	// in this snapshot, never missed.
	for _, s := range c.slots {
		cn := s.conn.Load()
		addLive(&st, cn)
		if cn.Closed() || c.closed.Load() {
			continue
		}
		st.Open++
		if cn.load() == 0 {
			st.Idle++
		}
	}
	c.retiredMu.Lock()
	for _, cn := range c.retired {
		addLive(&st, cn)
	}
	c.retiredMu.Unlock()
	c.opts.stats.fill(&st)
	st.Active = c.active.Load()
	return st
}

// PoolStats returns a snapshot of the Pool's connections and counters; Active is the
// number of connections acquired and not released. Connections found broken are counted
// as open until the pool notices (at Acquire or Release).
func (p *Pool) PoolStats() PoolStats {
	var st PoolStats
	p.mu.Lock()
	for cn, inUse := range p.all {
		addLive(&st, cn)
		st.Open++
		if inUse {
			st.Active++
		}
	}
	st.Idle = len(p.free)
	p.mu.Unlock()
	p.opts.stats.fill(&st)
	return st
}

// PoolStats returns a snapshot of the connection's counters, as for a Client of one
// connection: Open and Idle are 0 or 1, Active is the calls in progress, Redials stay 0 (a
// Conn never reconnects). The counters belong to what dialled the connection: for a Conn
// from DialConn its own; for one acquired from a Pool, the Pool's.
func (c *Conn) PoolStats() PoolStats {
	var st PoolStats
	addLive(&st, c)
	c.opts.stats.fill(&st)
	st.Active = int64(c.callers.Load())
	if !c.Closed() {
		st.Open = 1
		if c.load() == 0 {
			st.Idle = 1
		}
	}
	return st
}

func isSilence(err error) bool {
	_, ok := err.(*silenceError)
	return ok
}
