// Package gibsonotel traces and measures a gogibson client with OpenTelemetry. It is a module
// of its own, so programs that do not use OpenTelemetry never download it.
//
//	h := gibsonotel.NewHook(gibsonotel.WithTracerProvider(tp), gibsonotel.WithMeterProvider(mp))
//	c, err := client.Dial(ctx, addr, client.WithHooks(h))
//	reg, err := h.ObservePool(c) // connection counts, waits, redials; reg.Unregister() when done
//
// Spans follow the OpenTelemetry database client conventions: one client span per command,
// named by its verb (GET, MGET), with db.system.name "gibson", db.operation.name,
// server.address and server.port (the socket's path for a Unix socket, with
// network.transport "unix"), db.response.status_code (the reply code: OK, VAL, NOT_FOUND, …)
// and, for batches, one span named "BATCH GET" (or "BATCH" when the verbs differ) with
// db.operation.batch.size. A failure sets the span's status to Error with error.type: the
// reply code for error replies (LOCKED, NAN, MEM, ERR), or closed, protocol,
// invalid_argument, deadline_exceeded, canceled or _OTHER for calls that got no reply. A
// miss (NOT_FOUND) is a normal result, not an error. Keys are recorded (as gibson.key) only
// with WithKeys.
//
// The metric db.client.operation.duration (a histogram in seconds, with the conventional
// buckets) is recorded per command and batch, by db.operation.name, server address,
// db.response.status_code and error.type.
package gibsonotel

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/wire"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/gogibson/gogibson/gibsonotel"

// Attribute keys used beyond the conventional ones.
const (
	// KeyAttribute holds a command's key or prefix, only with WithKeys.
	KeyAttribute = attribute.Key("gibson.key")
	// BreakCauseAttribute names why connections broke, on gibson.client.connection.broken.
	BreakCauseAttribute = attribute.Key("gibson.break.cause")
)

// DurationBuckets are the histogram buckets of db.client.operation.duration, in seconds,
// as the database conventions advise.
var DurationBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}

// Option configures NewHook.
type Option func(*config)

type config struct {
	tp    trace.TracerProvider
	mp    metric.MeterProvider
	attrs []attribute.KeyValue
	keys  bool
}

// WithTracerProvider sets the tracer provider (default: otel.GetTracerProvider(), the
// global one, when NewHook runs).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider sets the meter provider (default: otel.GetMeterProvider(), the global
// one, when NewHook runs).
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// WithAttributes adds attributes to every span and measurement (a shard's name, a
// deployment); keep their values few, since each combination is a metric stream.
func WithAttributes(attrs ...attribute.KeyValue) Option {
	return func(c *config) { c.attrs = append(c.attrs, attrs...) }
}

// WithKeys records each command's key or prefix on its span as gibson.key. Keys may be
// personal data and make spans larger; they are never put on metrics.
func WithKeys() Option { return func(c *config) { c.keys = true } }

// Hook is a client.Hook that traces and measures commands and batches; install it with
// client.WithHooks. It is safe for concurrent use, and one Hook may serve many Clients.
type Hook struct {
	tracer    trace.Tracer
	meter     metric.Meter
	duration  metric.Float64Histogram
	attrs     []attribute.KeyValue
	keys      bool
	startOpts []trace.SpanStartOption

	// Measurement options by server, operation and outcome, built once each: recording
	// then allocates nothing for the attributes. Copied on write; read without a lock.
	sets   atomic.Pointer[map[setKey][]metric.RecordOption]
	setsMu sync.Mutex

	pool poolInstruments
}

type setKey struct {
	addr, op, status, errType string
}

// NewHook returns a Hook. Instruments that cannot be created are reported to
// otel.Handle and left out; the Hook still works.
func NewHook(opts ...Option) *Hook {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	h := &Hook{
		tracer:    cfg.tp.Tracer(ScopeName),
		meter:     cfg.mp.Meter(ScopeName),
		attrs:     cfg.attrs,
		keys:      cfg.keys,
		startOpts: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)},
	}
	var err error
	h.duration, err = h.meter.Float64Histogram("db.client.operation.duration",
		metric.WithDescription("Duration of database client operations."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(DurationBuckets...))
	if err != nil {
		otel.Handle(err)
	}
	h.pool.init(h.meter)
	m := map[setKey][]metric.RecordOption{}
	h.sets.Store(&m)
	return h
}

// ProcessHook implements client.Hook: one span and one duration measurement per command.
func (h *Hook) ProcessHook(next client.ProcessFunc) client.ProcessFunc {
	return func(ctx context.Context, cmd *client.Cmd) error {
		start := time.Now()
		ctx, span := h.tracer.Start(ctx, cmd.Verb, h.startOpts...)
		recording := span.IsRecording()
		if recording {
			span.SetAttributes(h.common(cmd.Verb, cmd.Network, cmd.Address)...)
			if h.keys && cmd.HasKey() {
				span.SetAttributes(KeyAttribute.String(cmd.Key()))
			}
		}
		err := next(ctx, cmd)
		status, errType := outcome(err, cmd.Reply().Code)
		if recording {
			h.finish(span, status, errType, err)
		}
		span.End()
		if h.duration != nil && h.duration.Enabled(ctx) {
			h.duration.Record(ctx, time.Since(start).Seconds(), h.recordOpts(cmd.Addr, cmd.Network, cmd.Address, cmd.Verb, status, errType)...)
		}
		return err
	}
}

// ProcessBatchHook implements client.Hook: one span and one duration measurement per
// batch.
func (h *Hook) ProcessBatchHook(next client.ProcessBatchFunc) client.ProcessBatchFunc {
	return func(ctx context.Context, b *client.BatchCmds) error {
		start := time.Now()
		name := batchName(b)
		ctx, span := h.tracer.Start(ctx, name, h.startOpts...)
		recording := span.IsRecording()
		if recording {
			span.SetAttributes(h.common(name, b.Network, b.Address)...)
			if n := b.Len(); n > 1 {
				span.SetAttributes(attribute.Int("db.operation.batch.size", n))
			}
		}
		err := next(ctx, b)
		var errType string
		if err != nil {
			_, errType = outcome(err, 0)
		}
		if recording {
			h.finish(span, "", errType, err)
		}
		span.End()
		if h.duration != nil && h.duration.Enabled(ctx) {
			h.duration.Record(ctx, time.Since(start).Seconds(), h.recordOpts(b.Addr, b.Network, b.Address, name, "", errType)...)
		}
		return err
	}
}

// DialHook implements client.Hook; dials pass through (they are counted by ObservePool).
func (h *Hook) DialHook(next client.DialFunc) client.DialFunc { return next }

// batchName is "BATCH <verb>" when every command has the same verb, else "BATCH".
func batchName(b *client.BatchCmds) string {
	n := b.Len()
	if n == 0 {
		return "BATCH"
	}
	op := b.Op(0)
	for i := 1; i < n; i++ {
		if b.Op(i) != op {
			return "BATCH"
		}
	}
	return "BATCH " + b.Verb(0)
}

// common returns the attributes every span of a command carries.
func (h *Hook) common(op, network, address string) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 5+len(h.attrs))
	attrs = append(attrs, attribute.String("db.system.name", "gibson"), attribute.String("db.operation.name", op))
	attrs = appendServer(attrs, network, address)
	return append(attrs, h.attrs...)
}

// appendServer adds server.address and server.port (a TCP server), or the socket's path as
// server.address with network.transport unix.
func appendServer(attrs []attribute.KeyValue, network, address string) []attribute.KeyValue {
	if network == "unix" {
		return append(attrs, attribute.String("server.address", address), attribute.String("network.transport", "unix"))
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return append(attrs, attribute.String("server.address", address))
	}
	attrs = append(attrs, attribute.String("server.address", host))
	if p, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, attribute.Int("server.port", p))
	}
	return attrs
}

func (h *Hook) finish(span trace.Span, status, errType string, err error) {
	if status != "" {
		span.SetAttributes(attribute.String("db.response.status_code", status))
	}
	if errType == "" {
		return
	}
	span.SetAttributes(attribute.String("error.type", errType))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	} else {
		span.SetStatus(codes.Error, "reply "+errType)
	}
}

// outcome returns the reply code's name (when a reply came) and the error type: "" for a
// success or a miss, the code for an error reply, a short name for a call without reply.
func outcome(err error, code wire.Code) (status, errType string) {
	if err == nil {
		status = code.String()
		if wire.CodeError(code) != nil && code != wire.CodeNotFound {
			errType = status
		}
		return status, errType
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "", "deadline_exceeded"
	case errors.Is(err, context.Canceled):
		return "", "canceled"
	case errors.Is(err, client.ErrClosed):
		return "", "closed"
	case errors.Is(err, client.ErrProtocol):
		return "", "protocol"
	case errors.Is(err, client.ErrInvalidArgument):
		return "", "invalid_argument"
	case errors.Is(err, client.ErrNotFound):
		return "NOT_FOUND", ""
	}
	var e *wire.Error
	if errors.As(err, &e) && e.Kind != nil {
		for _, c := range []wire.Code{wire.CodeErr, wire.CodeNaN, wire.CodeMem, wire.CodeLocked} {
			if e.Kind == wire.CodeError(c) {
				return c.String(), c.String()
			}
		}
	}
	return "", "_OTHER"
}

// recordOpts returns the measurement options for one outcome, building them once.
func (h *Hook) recordOpts(addr, network, address, op, status, errType string) []metric.RecordOption {
	k := setKey{addr: addr, op: op, status: status, errType: errType}
	if opts, ok := (*h.sets.Load())[k]; ok {
		return opts
	}
	h.setsMu.Lock()
	defer h.setsMu.Unlock()
	old := *h.sets.Load()
	if opts, ok := old[k]; ok {
		return opts
	}
	attrs := []attribute.KeyValue{attribute.String("db.system.name", "gibson"), attribute.String("db.operation.name", op)}
	attrs = appendServer(attrs, network, address)
	if status != "" {
		attrs = append(attrs, attribute.String("db.response.status_code", status))
	}
	if errType != "" {
		attrs = append(attrs, attribute.String("error.type", errType))
	}
	attrs = append(attrs, h.attrs...)
	opts := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attrs...))}
	m := make(map[setKey][]metric.RecordOption, len(old)+1)
	for kk, v := range old {
		m[kk] = v
	}
	m[k] = opts
	h.sets.Store(&m)
	return opts
}
