package gibsontest

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// WithLogger makes the server log through l: connections opened and closed at debug
// level; memory-limit refusals and back-pressure (a connection whose replies pile up
// because its client does not read) at warn level, at most once per warnEvery each with
// the number of events since the last line. Without it the server logs nothing.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// warnEvery is the least time between two warnings of one kind.
const warnEvery = 10 * time.Second

// rateLimited logs one kind of warning at most once per warnEvery.
type rateLimited struct {
	mu     sync.Mutex
	last   time.Time
	missed int64
}

// warn logs msg unless a line of this kind was logged less than warnEvery ago, in which
// case it only counts the event; the next line reports how many were not logged.
func (r *rateLimited) warn(l *slog.Logger, msg string, attrs ...slog.Attr) {
	if l == nil || !l.Enabled(context.Background(), slog.LevelWarn) {
		return
	}
	r.mu.Lock()
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < warnEvery {
		r.missed++
		r.mu.Unlock()
		return
	}
	missed := r.missed
	r.last, r.missed = now, 0
	r.mu.Unlock()
	attrs = append(attrs, slog.Int64("not_logged_since_last", missed))
	l.LogAttrs(context.Background(), slog.LevelWarn, msg, attrs...)
}

// debug logs at debug level when a logger is set and enabled for it.
func (s *Server) debug(msg string, attrs ...slog.Attr) {
	if s.logger != nil && s.logger.Enabled(context.Background(), slog.LevelDebug) {
		s.logger.LogAttrs(context.Background(), slog.LevelDebug, msg, attrs...)
	}
}
