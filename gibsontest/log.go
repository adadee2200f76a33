package gibsontest

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// WithLogger makes the server log through l: connections opened and closed at debug
// level; memory-limit refusals and back-pressure (a write of pending replies that waits
// 100 ms or more because the client does not read) at warn level, at most one line per
// 10 s for each kind, with the number of events left out since the last one; failed
// accepts (e.g. out of file descriptors) and connections refused at max_clients at warn
// level, the first at once and then at most one line a minute for each, with the count
// since the last. Without it the server logs nothing.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// warnEvery is the least time between two warnings of one kind; acceptEvery is that of
// failed and refused accepts, which come in floods (every new client while out of file
// descriptors or at max_clients).
const (
	warnEvery   = 10 * time.Second
	acceptEvery = time.Minute
)

// logClock, when set (tests), is the clock of the rate limits.
var logClock func() time.Time

// rateLimited logs one kind of warning at most once per every (warnEvery if 0): the
// first at once, then one line per period with the count of those held back.
type rateLimited struct {
	mu     sync.Mutex
	every  time.Duration
	last   time.Time
	missed int64
}

// allow reports whether a warning of this kind may be logged now and how many were
// held back since the last one; otherwise it only counts the event. It allocates
// nothing, so hot paths (every refused SET) can call it.
func (r *rateLimited) allow(l *slog.Logger) (ok bool, missed int64) {
	if l == nil {
		return false, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if logClock != nil {
		now = logClock()
	}
	every := r.every
	if every == 0 {
		every = warnEvery
	}
	if !r.last.IsZero() && now.Sub(r.last) < every {
		r.missed++
		return false, 0
	}
	missed = r.missed
	r.last, r.missed = now, 0
	return l.Enabled(context.Background(), slog.LevelWarn), missed
}

// debug logs at debug level when a logger is set and enabled for it.
func (s *Server) debug(msg string, attrs ...slog.Attr) {
	if s.logger != nil && s.logger.Enabled(context.Background(), slog.LevelDebug) {
		s.logger.LogAttrs(context.Background(), slog.LevelDebug, msg, attrs...)
	}
}
