package gibsonotel_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/gibsonotel"
	"github.com/gogibson/gogibson/gibsontest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

type setup struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	hook   *gibsonotel.Hook
}

func newSetup(t *testing.T, opts ...gibsonotel.Option) *setup {
	s := &setup{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(s.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader))
	t.Cleanup(func() { tp.Shutdown(context.Background()); mp.Shutdown(context.Background()) })
	s.hook = gibsonotel.NewHook(append([]gibsonotel.Option{gibsonotel.WithTracerProvider(tp), gibsonotel.WithMeterProvider(mp)}, opts...)...)
	return s
}

func attrs(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

func (s *setup) metrics(t *testing.T) map[string]metricdata.Metrics {
	var rm metricdata.ResourceMetrics
	if err := s.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func TestSpansForCommandsMissesAndErrors(t *testing.T) {
	srv := gibsontest.NewServer(t, gibsontest.WithTCP())
	s := newSetup(t, gibsonotel.WithAttributes(attribute.String("deployment", "test")))
	ctx := context.Background()
	c, err := client.Dial(ctx, srv.Addr(), client.WithHooks(s.hook), client.WithPoolSize(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Set(ctx, "user:1", []byte("alice"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "missing"); !errors.Is(err, client.ErrNotFound) {
		t.Fatal(err)
	}
	if ok, err := c.Lock(ctx, "user:1", time.Minute); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := c.Set(ctx, "user:1", []byte("bob"), 0); !errors.Is(err, client.ErrLocked) {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	c.Ping(cancelled)

	spans := s.spans.Ended()
	if len(spans) != 5 {
		t.Fatalf("%d spans, want 5", len(spans))
	}
	host, port := srv.Addr(), ""
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] == ':' {
			host, port = host[:i], host[i+1:]
			break
		}
	}
	for i, want := range []struct {
		name, status, errType string
		failed                bool
	}{
		{"SET", "VAL", "", false},
		{"GET", "NOT_FOUND", "", false}, // a miss is not an error
		{"LOCK", "OK", "", false},
		{"SET", "LOCKED", "LOCKED", true},
		{"PING", "", "canceled", true},
	} {
		sp := spans[i]
		a := attrs(sp.Attributes())
		if sp.Name() != want.name || sp.SpanKind() != trace.SpanKindClient {
			t.Errorf("span %d: %q kind %v, want %q client", i, sp.Name(), sp.SpanKind(), want.name)
		}
		if a["db.system.name"].AsString() != "gibson" || a["db.operation.name"].AsString() != want.name ||
			a["server.address"].AsString() != host || port == "" || a["server.port"].String() != port || a["deployment"].AsString() != "test" {
			t.Errorf("span %d attributes: %v", i, sp.Attributes())
		}
		if a["db.response.status_code"].AsString() != want.status || a["error.type"].AsString() != want.errType {
			t.Errorf("span %d: status code %q error.type %q, want %q %q", i, a["db.response.status_code"].AsString(), a["error.type"].AsString(), want.status, want.errType)
		}
		if failed := sp.Status().Code == codes.Error; failed != want.failed {
			t.Errorf("span %d: status %v, want error %v", i, sp.Status(), want.failed)
		}
		if _, ok := a[gibsonotel.KeyAttribute]; ok {
			t.Errorf("span %d records the key without WithKeys", i)
		}
	}

	m := s.metrics(t)
	hist, ok := m["db.client.operation.duration"].Data.(metricdata.Histogram[float64])
	if !ok || m["db.client.operation.duration"].Unit != "s" {
		t.Fatalf("no duration histogram in seconds: %+v", m["db.client.operation.duration"])
	}
	var total uint64
	byOutcome := map[string]uint64{}
	for _, dp := range hist.DataPoints {
		total += dp.Count
		op, _ := dp.Attributes.Value("db.operation.name")
		et, _ := dp.Attributes.Value("error.type")
		byOutcome[op.AsString()+"/"+et.AsString()] += dp.Count
		if len(dp.Bounds) != len(gibsonotel.DurationBuckets) {
			t.Errorf("buckets %v", dp.Bounds)
		}
	}
	if total != 5 || byOutcome["SET/"] != 1 || byOutcome["SET/LOCKED"] != 1 || byOutcome["GET/"] != 1 || byOutcome["PING/canceled"] != 1 {
		t.Fatalf("durations by outcome: %v", byOutcome)
	}
}

func TestKeysOnlyWhenAsked(t *testing.T) {
	srv := gibsontest.NewServer(t)
	s := newSetup(t, gibsonotel.WithKeys())
	ctx := context.Background()
	c, err := client.Dial(ctx, srv.Addr(), client.WithHooks(s.hook))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.MGet(ctx, "user:", 0)
	sp := s.spans.Ended()[0]
	a := attrs(sp.Attributes())
	if a[gibsonotel.KeyAttribute].AsString() != "user:" {
		t.Fatalf("key attribute: %v", sp.Attributes())
	}
	if a["server.address"].AsString() == "" || a["network.transport"].AsString() != "unix" {
		t.Fatalf("a Unix socket's path: %v", sp.Attributes())
	}
}

func TestBatchSpan(t *testing.T) {
	srv := gibsontest.NewServer(t)
	s := newSetup(t)
	ctx := context.Background()
	c, err := client.Dial(ctx, srv.Addr(), client.WithHooks(s.hook))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := c.Batch()
	b.Get("a")
	b.Get("b")
	b.Get("c")
	if err := b.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	b2 := c.Batch()
	b2.Get("a")
	b2.Ping()
	if err := b2.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	spans := s.spans.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want one per batch", len(spans))
	}
	a := attrs(spans[0].Attributes())
	if spans[0].Name() != "BATCH GET" || a["db.operation.batch.size"].AsInt64() != 3 || a["db.operation.name"].AsString() != "BATCH GET" || spans[0].Status().Code == codes.Error {
		t.Fatalf("batch span %q: %v %v", spans[0].Name(), spans[0].Attributes(), spans[0].Status())
	}
	if spans[1].Name() != "BATCH" {
		t.Fatalf("a batch of mixed verbs: %q", spans[1].Name())
	}
}

func TestBatchFailureIsAnErrorSpan(t *testing.T) {
	srv := gibsontest.NewServer(t)
	s := newSetup(t)
	ctx := context.Background()
	c, err := client.Dial(ctx, srv.Addr(), client.WithHooks(s.hook))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	b := c.Batch()
	b.Get("a")
	if err := b.Exec(ctx); !errors.Is(err, client.ErrClosed) {
		t.Fatal(err)
	}
	sp := s.spans.Ended()[0]
	if sp.Status().Code != codes.Error || attrs(sp.Attributes())["error.type"].AsString() != "closed" {
		t.Fatalf("failed batch: %v %v", sp.Status(), sp.Attributes())
	}
}

func TestObservePool(t *testing.T) {
	srv := gibsontest.NewServer(t)
	s := newSetup(t)
	ctx := context.Background()
	c, err := client.Dial(ctx, srv.Addr(), client.WithHooks(s.hook), client.WithPoolSize(2),
		client.WithRedialBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reg, err := s.hook.ObservePool(c, attribute.String("shard", "a"))
	if err != nil {
		t.Fatal(err)
	}
	c.Ping(ctx)
	srv.CloseClientConnections()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	m := s.metrics(t)
	conns := m["db.client.connection.count"].Data.(metricdata.Sum[int64])
	state := map[string]int64{}
	for _, dp := range conns.DataPoints {
		v, _ := dp.Attributes.Value("db.client.connection.state")
		shard, _ := dp.Attributes.Value("shard")
		pool, _ := dp.Attributes.Value("db.client.connection.pool.name")
		if shard.AsString() != "a" || pool.AsString() != srv.Addr() {
			t.Errorf("attributes %v", dp.Attributes)
		}
		state[v.AsString()] = dp.Value
	}
	if state["idle"]+state["used"] < 1 || state["used"] != 0 {
		t.Errorf("connection counts %v", state)
	}
	redials := m["gibson.client.redials"].Data.(metricdata.Sum[int64])
	if len(redials.DataPoints) != 1 || redials.DataPoints[0].Value < 1 {
		t.Errorf("redials %+v", redials.DataPoints)
	}
	broken := m["gibson.client.connection.broken"].Data.(metricdata.Sum[int64])
	var closed int64
	for _, dp := range broken.DataPoints {
		if v, _ := dp.Attributes.Value(gibsonotel.BreakCauseAttribute); v.AsString() == "server_closed" {
			closed = dp.Value
		}
	}
	if closed < 1 {
		t.Errorf("broken by server_closed: %+v", broken.DataPoints)
	}
	if reqs := m["gibson.client.requests"].Data.(metricdata.Sum[int64]); reqs.DataPoints[0].Value != 2 {
		t.Errorf("requests %+v", reqs.DataPoints)
	}
	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.metrics(t)["gibson.client.requests"]; ok {
		t.Error("still observed after Unregister")
	}
}

// A Ring's shards run the hook: a key's command makes one span on its shard's address, a
// fanned-out command one span per shard.
func TestRingSpans(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	srvs := map[string]*gibsontest.Server{"a": gibsontest.NewServer(t, gibsontest.WithTCP()), "b": gibsontest.NewServer(t, gibsontest.WithTCP())}
	r, err := client.NewRing(ctx, client.RingConfig{Shards: map[string]string{"a": srvs["a"].Addr(), "b": srvs["b"].Addr()}, HeartbeatInterval: time.Hour},
		client.WithHooks(s.hook), client.WithPoolSize(1))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Set(ctx, "user:1", []byte("alice"), 0); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Count(ctx, "user:"); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	addrOf := func(sp sdktrace.ReadOnlySpan) string {
		a := attrs(sp.Attributes())
		return a["server.address"].AsString() + ":" + a["server.port"].String()
	}
	spans := s.spans.Ended()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3 (SET on its shard, COUNT on both)", len(spans))
	}
	if spans[0].Name() != "SET" || addrOf(spans[0]) != srvs[r.ShardFor("user:1")].Addr() {
		t.Errorf("SET span %q on %s; want SET on shard %s (%s)", spans[0].Name(), addrOf(spans[0]), r.ShardFor("user:1"), srvs[r.ShardFor("user:1")].Addr())
	}
	counted := map[string]bool{}
	for _, sp := range spans[1:] {
		if sp.Name() != "COUNT" || sp.Status().Code == codes.Error {
			t.Errorf("span %q status %v; want a successful COUNT", sp.Name(), sp.Status())
		}
		counted[addrOf(sp)] = true
	}
	if !counted[srvs["a"].Addr()] || !counted[srvs["b"].Addr()] {
		t.Errorf("COUNT spans on %v; want one on each shard", counted)
	}

	// A Ring batch: one span per shard's part, each with that shard's address.
	b := r.Batch()
	for i := range 20 {
		b.Set(fmt.Sprint("k", i), []byte("v"), 0)
	}
	if err := b.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	batched := map[string]int64{}
	for _, sp := range s.spans.Ended()[3:] {
		if !strings.HasPrefix(sp.Name(), "BATCH") {
			t.Errorf("span %q after the batch; want BATCH spans only", sp.Name())
		}
		batched[addrOf(sp)] += attrs(sp.Attributes())["db.operation.batch.size"].AsInt64()
	}
	if len(batched) != 2 || batched[srvs["a"].Addr()]+batched[srvs["b"].Addr()] != 20 || batched[srvs["a"].Addr()] == 0 || batched[srvs["b"].Addr()] == 0 {
		t.Errorf("batch spans by address (commands each): %v; want one span per shard, on its address, 20 commands in all", batched)
	}
}

// ObserveRing reports each shard's pool statistics under its name and address, and follows
// SetShards.
func TestObserveRing(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	srvs := map[string]*gibsontest.Server{"a": gibsontest.NewServer(t), "b": gibsontest.NewServer(t), "c": gibsontest.NewServer(t)}
	r, err := client.NewRing(ctx, client.RingConfig{Shards: map[string]string{"a": srvs["a"].Addr(), "b": srvs["b"].Addr()}, HeartbeatInterval: time.Hour},
		client.WithPoolSize(1))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	reg, err := s.hook.ObserveRing(r, attribute.String("app", "x"))
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Unregister()
	for i := range 30 {
		if err := r.Set(ctx, fmt.Sprint("k", i), []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
	}
	requests := func() map[string]int64 {
		out := map[string]int64{}
		for _, dp := range s.metrics(t)["gibson.client.requests"].Data.(metricdata.Sum[int64]).DataPoints {
			shard, _ := dp.Attributes.Value(gibsonotel.RingShardAttribute)
			pool, _ := dp.Attributes.Value("db.client.connection.pool.name")
			app, _ := dp.Attributes.Value("app")
			if pool.AsString() != srvs[shard.AsString()].Addr() || app.AsString() != "x" {
				t.Errorf("shard %q series with attributes %v", shard.AsString(), dp.Attributes)
			}
			out[shard.AsString()] = dp.Value
		}
		return out
	}
	got, want := requests(), map[string]int64{}
	for name, st := range r.PoolStats() {
		want[name] = int64(st.Requests)
	}
	if len(got) != 2 || got["a"] != want["a"] || got["b"] != want["b"] || got["a"]+got["b"] != 30 {
		t.Fatalf("requests by shard %v; want %v (30 in all)", got, want)
	}
	if err := r.SetShards(map[string]string{"b": srvs["b"].Addr(), "c": srvs["c"].Addr()}); err != nil {
		t.Fatal(err)
	}
	got = requests()
	if _, ok := got["a"]; ok || len(got) != 2 || got["b"] != want["b"] || got["c"] != 0 {
		t.Fatalf("after SetShards(b, c): series %v; want b (%d requests) and c (0) only", got, want["b"])
	}
}
