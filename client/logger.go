package client

import (
	"context"
	"log/slog"
	"time"
)

// WithLogger makes a Client, Conn or Pool log what an operator needs to see, with the
// standard library's structured logger: a connection that broke and why (Warn; Error for a
// malformed reply; Debug for one closed by END), a redial that failed and the back-off
// before the next attempt (Warn), and a redial that succeeded (Info). Nothing is logged per
// request, and nothing at all by default (a nil logger means none). Records carry "addr"
// (the server address as given) and, as fitting, "cause" (a BreakCause name), "err" and
// "backoff".
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

// noteRedial counts and logs the outcome of a Client's redial; closing reports that it failed
// because the Client was being closed, which cancels redials (neither counted nor logged).
func (o *options) noteRedial(addr string, err error, backoff time.Duration, closing bool) {
	if closing {
		return
	}
	o.stats.redialed(err)
	if o.logger == nil {
		return
	}
	if err != nil {
		o.logger.LogAttrs(context.Background(), slog.LevelWarn, "gibson: reconnecting failed",
			slog.String("addr", addr), slog.String("err", err.Error()), slog.Duration("backoff", backoff))
		return
	}
	o.logger.LogAttrs(context.Background(), slog.LevelInfo, "gibson: reconnected", slog.String("addr", addr))
}

// noteShard logs a Ring shard that left the hash after failed heartbeats (Warn), or came
// back (Info). With FailFast the shard stays in the hash and its keys fail instead.
func (o *options) noteShard(name, addr string, up bool, err error, failFast bool) {
	if o.logger == nil {
		return
	}
	ctx := context.Background()
	if up {
		o.logger.LogAttrs(ctx, slog.LevelInfo, "gibson: ring shard answers again", slog.String("shard", name), slog.String("addr", addr), slog.Bool("fail_fast", failFast))
		return
	}
	msg := "gibson: ring shard left the hash; its keys go to the other shards"
	if failFast {
		msg = "gibson: ring shard is down; its keys fail until it answers (FailFast)"
	}
	o.logger.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("shard", name), slog.String("addr", addr), slog.Any("error", err))
}
