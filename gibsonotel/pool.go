package gibsonotel

import (
	"context"
	"errors"
	"sync"

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
// db.client.connection.pool.name (src.Addr()), the Hook's attributes and attrs. For a Ring,
// use ObserveRing. Call Unregister on the result when src is closed.
func (h *Hook) ObservePool(src StatsSource, attrs ...attribute.KeyValue) (metric.Registration, error) {
	p := &h.pool
	if p.err != nil {
		return nil, p.err
	}
	set := h.poolAttrs(src.Addr(), attrs)
	return h.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		p.observe(o, src.PoolStats(), set)
		return nil
	}, p.instruments()...)
}

// RingSource is what ObserveRing reads: *client.Ring is one.
type RingSource interface {
	PoolStats() map[string]client.PoolStats
	Shards() []client.ShardInfo
}

// ObserveRing reports the PoolStats of every shard of a Ring, as ObservePool does for one
// Client, each shard's series carrying gibson.ring.shard (its name) and
// db.client.connection.pool.name (its address) besides the Hook's attributes and attrs.
// Shards are read at each collection, so shards added by SetShards are reported from then
// on and removed ones stop being reported. Call Unregister on the result when the Ring is
// closed.
func (h *Hook) ObserveRing(r RingSource, attrs ...attribute.KeyValue) (metric.Registration, error) {
	p := &h.pool
	if p.err != nil {
		return nil, p.err
	}
	var mu sync.Mutex
	sets := map[client.ShardInfo]*poolAttrSet{} // by name and address; health fields zeroed
	return h.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		stats := r.PoolStats()
		mu.Lock()
		defer mu.Unlock()
		for _, sh := range r.Shards() {
			st, ok := stats[sh.Name]
			if !ok {
				continue // removed between the two reads
			}
			id := client.ShardInfo{Name: sh.Name, Addr: sh.Addr}
			set := sets[id]
			if set == nil {
				set = h.poolAttrs(sh.Addr, append([]attribute.KeyValue{RingShardAttribute.String(sh.Name)}, attrs...))
				sets[id] = set
			}
			p.observe(o, st, set)
		}
		return nil
	}, p.instruments()...)
}

// RingShardAttribute names the shard of a Ring in ObserveRing's metrics.
const RingShardAttribute = attribute.Key("gibson.ring.shard")

// poolAttrSet is the attribute sets of one pool's series, built once.
type poolAttrSet struct {
	all, idle, used metric.ObserveOption
	causes          [client.NumBreakCauses]metric.ObserveOption
}

func (h *Hook) poolAttrs(addr string, attrs []attribute.KeyValue) *poolAttrSet {
	base := append([]attribute.KeyValue{attribute.String("db.system.name", "gibson"),
		attribute.String("db.client.connection.pool.name", addr)}, h.attrs...)
	base = append(base, attrs...)
	with := func(extra ...attribute.KeyValue) metric.ObserveOption {
		return metric.WithAttributeSet(attribute.NewSet(append(append([]attribute.KeyValue(nil), base...), extra...)...))
	}
	set := &poolAttrSet{all: with(), idle: with(attribute.String("db.client.connection.state", "idle")),
		used: with(attribute.String("db.client.connection.state", "used"))}
	for i := range set.causes {
		set.causes[i] = with(BreakCauseAttribute.String(client.BreakCause(i).String()))
	}
	return set
}

func (p *poolInstruments) instruments() []metric.Observable {
	return []metric.Observable{p.conns, p.waits, p.waitTime, p.redials, p.redialFailures, p.broken, p.requests, p.sent}
}

// observe reports one pool's stats.
func (p *poolInstruments) observe(o metric.Observer, st client.PoolStats, set *poolAttrSet) {
	o.ObserveInt64(p.conns, int64(st.Idle), set.idle)
	o.ObserveInt64(p.conns, int64(st.Open-st.Idle), set.used)
	o.ObserveInt64(p.waits, int64(st.Waits), set.all)
	o.ObserveFloat64(p.waitTime, st.WaitTime.Seconds(), set.all)
	o.ObserveInt64(p.redials, int64(st.Redials), set.all)
	o.ObserveInt64(p.redialFailures, int64(st.RedialFailures), set.all)
	for i, n := range st.Broken.Causes() {
		o.ObserveInt64(p.broken, int64(n), set.causes[i])
	}
	o.ObserveInt64(p.requests, int64(st.Requests), set.all)
	o.ObserveInt64(p.sent, int64(st.BytesSent), set.all)
}
