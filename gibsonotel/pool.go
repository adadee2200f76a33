package gibsonotel

import (
	"context"
	"errors"

	"github.com/gogibson/gogibson/client"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// StatsSource is what ObservePool reads: *client.Client and *client.Pool are sources.
type StatsSource interface {
	PoolStats() client.PoolStats
	Addr() string
}

// poolInstruments are the asynchronous instruments fed by PoolStats.
type poolInstruments struct {
	conns          metric.Int64ObservableUpDownCounter
	waits          metric.Int64ObservableCounter
	waitTime       metric.Float64ObservableCounter
	redials        metric.Int64ObservableCounter
	redialFailures metric.Int64ObservableCounter
	broken         metric.Int64ObservableCounter
	requests       metric.Int64ObservableCounter
	sent           metric.Int64ObservableCounter
	err            error
}

func (p *poolInstruments) init(m metric.Meter) {
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	var err error
	p.conns, err = m.Int64ObservableUpDownCounter("db.client.connection.count", metric.WithUnit("{connection}"),
		metric.WithDescription("Connections open, by state: idle or used (carrying calls)."))
	add(err)
	p.waits, err = m.Int64ObservableCounter("gibson.client.connection.waits", metric.WithUnit("{wait}"),
		metric.WithDescription("Calls that waited for a connection, a redial or in-flight budget."))
	add(err)
	p.waitTime, err = m.Float64ObservableCounter("gibson.client.connection.wait_time", metric.WithUnit("s"),
		metric.WithDescription("Total time calls waited for a connection, a redial or in-flight budget."))
	add(err)
	p.redials, err = m.Int64ObservableCounter("gibson.client.redials", metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts to replace a broken connection."))
	add(err)
	p.redialFailures, err = m.Int64ObservableCounter("gibson.client.redial.failures", metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts to replace a broken connection that failed."))
	add(err)
	p.broken, err = m.Int64ObservableCounter("gibson.client.connection.broken", metric.WithUnit("{connection}"),
		metric.WithDescription("Connections that stopped working, by gibson.break.cause."))
	add(err)
	p.requests, err = m.Int64ObservableCounter("gibson.client.requests", metric.WithUnit("{request}"),
		metric.WithDescription("Request frames sent."))
	add(err)
	p.sent, err = m.Int64ObservableCounter("gibson.client.sent", metric.WithUnit("By"),
		metric.WithDescription("Request bytes sent."))
	add(err)
	p.err = errors.Join(errs...)
	if p.err != nil {
		otel.Handle(p.err)
	}
}

// ObservePool reports src's PoolStats as metrics each time the meter provider collects:
// db.client.connection.count by db.client.connection.state (idle, used: open minus idle),
// gibson.client.connection.waits and .wait_time (seconds), gibson.client.redials and
// gibson.client.redial.failures, gibson.client.connection.broken by gibson.break.cause,
// gibson.client.requests and gibson.client.sent (bytes). Each carries db.system.name,
// db.client.connection.pool.name (src.Addr()), the Hook's attributes and attrs (for a
// Ring, a shard's name: observe each shard's Client). Call Unregister on the result when
// src is closed.
func (h *Hook) ObservePool(src StatsSource, attrs ...attribute.KeyValue) (metric.Registration, error) {
	p := &h.pool
	if p.err != nil {
		return nil, p.err
	}
	base := append([]attribute.KeyValue{attribute.String("db.system.name", "gibson"),
		attribute.String("db.client.connection.pool.name", src.Addr())}, h.attrs...)
	base = append(base, attrs...)
	with := func(extra ...attribute.KeyValue) metric.ObserveOption {
		return metric.WithAttributeSet(attribute.NewSet(append(append([]attribute.KeyValue(nil), base...), extra...)...))
	}
	all := with()
	idle := with(attribute.String("db.client.connection.state", "idle"))
	used := with(attribute.String("db.client.connection.state", "used"))
	var causes [client.NumBreakCauses]metric.ObserveOption
	for i := range causes {
		causes[i] = with(BreakCauseAttribute.String(client.BreakCause(i).String()))
	}
	return h.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := src.PoolStats()
		o.ObserveInt64(p.conns, int64(st.Idle), idle)
		o.ObserveInt64(p.conns, int64(st.Open-st.Idle), used)
		o.ObserveInt64(p.waits, int64(st.Waits), all)
		o.ObserveFloat64(p.waitTime, st.WaitTime.Seconds(), all)
		o.ObserveInt64(p.redials, int64(st.Redials), all)
		o.ObserveInt64(p.redialFailures, int64(st.RedialFailures), all)
		for i, n := range st.Broken.Causes() {
			o.ObserveInt64(p.broken, int64(n), causes[i])
		}
		o.ObserveInt64(p.requests, int64(st.Requests), all)
		o.ObserveInt64(p.sent, int64(st.BytesSent), all)
		return nil
	}, p.conns, p.waits, p.waitTime, p.redials, p.redialFailures, p.broken, p.requests, p.sent)
}
