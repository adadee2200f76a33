package client

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// WithLogger makes a Client, Conn or Pool log what an operator needs to see, with the
// standard library's structured logger: a connection that broke and why (Warn; Error for a
// malformed reply; Debug for one closed by END), a redial that failed and the back-off
// before the next attempt (Warn), and a redial that succeeded (Info). Redials that keep
// failing are logged once, then at most once a minute with the number of failures since
// ("failures"); the success that ends them says how many there were. On a Ring, a shard's
// change of state is logged once (down: Warn; back: Info), and while it stays down one
// line a minute at most. Nothing is logged per request, and nothing at all by default (a
// nil logger means none). Records carry "addr" (the server address as given) and, as
// fitting, "shard", "cause" (a BreakCause name), "err", "backoff" and "failures".
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// noteBroken counts and logs a connection's shutdown; called once per connection, without
// its lock held.
func (o *options) noteBroken(c *Conn, cause *brokenCause) {
	if cause == nil {
		return
	}
	k := classify(cause)
	if k == breakClosed {
		return
	}
	o.stats.broken[k].Add(1)
	if o.logger == nil {
		return
	}
	level := slog.LevelWarn
	switch k {
	case BreakProtocol:
		level = slog.LevelError
	case BreakEnded:
		level = slog.LevelDebug
	}
	ctx := context.Background()
	if !o.logger.Enabled(ctx, level) {
		return
	}
	o.logger.LogAttrs(ctx, level, "gibson: connection broken", slog.String("addr", c.ep.display),
		slog.String("cause", k.String()), slog.String("err", cause.forVerb("").Error()))
}

// logEvery is how often a failure that goes on (a server that cannot be redialled, a Ring
// shard that stays down) is logged again after its first line, with the count since.
const logEvery = time.Minute

// outage rate-limits the log of one failure that repeats: its first occurrence is logged,
// then at most one line per logEvery with the number of occurrences since the last line.
// The zero value is ready; not safe for concurrent use on its own.
type outage struct {
	on     bool
	since  int // occurrences not logged yet
	total  int // occurrences since the outage began
	logged time.Time
}

// fail records an occurrence and reports whether to log it, with the count the line covers.
func (u *outage) fail(now time.Time) (log bool, count int) {
	u.total++
	if !u.on {
		u.on, u.since, u.logged = true, 0, now
		return true, 1
	}
	u.since++
	if now.Sub(u.logged) < logEvery {
		return false, 0
	}
	count, u.since, u.logged = u.since, 0, now
	return true, count
}

// end closes the outage and returns how many occurrences it had (0: there was none).
func (u *outage) end() int {
	n := u.total
	*u = outage{}
	return n
}

// noteRedial counts and logs the outcome of a Client's redial; closing reports that it failed
// because the Client was being closed, which cancels redials (neither counted nor logged).
// Failures in a row are logged as an outage: the first, then one line per logEvery.
func (o *options) noteRedial(u *outage, mu *sync.Mutex, addr string, err error, backoff time.Duration, closing bool) {
	if closing {
		return
	}
	o.stats.redialed(err)
	if o.logger == nil {
		return
	}
	mu.Lock()
	var log bool
	var count int
	if err != nil {
		log, count = u.fail(o.now())
	} else {
		count = u.end()
	}
	mu.Unlock()
	ctx := context.Background()
	switch {
	case err == nil && count > 0:
		o.logger.LogAttrs(ctx, slog.LevelInfo, "gibson: reconnected", slog.String("addr", addr), slog.Int("failures", count))
	case err == nil:
		o.logger.LogAttrs(ctx, slog.LevelInfo, "gibson: reconnected", slog.String("addr", addr))
	case log && count == 1:
		o.logger.LogAttrs(ctx, slog.LevelWarn, "gibson: reconnecting failed",
			slog.String("addr", addr), slog.String("err", err.Error()), slog.Duration("backoff", backoff))
	case log:
		o.logger.LogAttrs(ctx, slog.LevelWarn, "gibson: reconnecting still fails",
			slog.String("addr", addr), slog.Int("failures", count), slog.String("err", err.Error()), slog.Duration("backoff", backoff))
	}
}

// shardState is what noteShard reports of a Ring shard.
type shardState int

const (
	shardDown      shardState = iota // left the hash (or, with FailFast, went down)
	shardStillDown                   // still down: the rate-limited reminder
	shardUp                          // answers again
)

// noteShard logs a Ring shard's change of state: down (Warn) after failed heartbeats or at
// start, back (Info, with the heartbeats it failed), and while it stays down a reminder
// (Warn) at most once per logEvery with the failures since the last line. With FailFast the
// shard stays in the hash and its keys fail instead of moving.
func (o *options) noteShard(name, addr string, state shardState, err error, failFast bool, failures int) {
	if o.logger == nil {
		return
	}
	ctx := context.Background()
	attrs := []slog.Attr{slog.String("shard", name), slog.String("addr", addr)}
	switch state {
	case shardUp:
		o.logger.LogAttrs(ctx, slog.LevelInfo, "gibson: ring shard answers again", append(attrs, slog.Bool("fail_fast", failFast), slog.Int("failures", failures))...)
		return
	case shardStillDown:
		o.logger.LogAttrs(ctx, slog.LevelWarn, "gibson: ring shard still down", append(attrs, slog.Int("failures", failures), slog.Any("error", err))...)
		return
	}
	msg := "gibson: ring shard left the hash; its keys go to the other shards"
	if failFast {
		msg = "gibson: ring shard is down; its keys fail until it answers (FailFast)"
	}
	o.logger.LogAttrs(ctx, slog.LevelWarn, msg, append(attrs, slog.Any("error", err))...)
}
