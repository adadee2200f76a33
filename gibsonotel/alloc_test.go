//go:build !race

package gibsonotel_test

import (
	"context"
	"testing"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/gibsonotel"
	"github.com/gogibson/gogibson/gibsontest"
	mnoop "go.opentelemetry.io/otel/metric/noop"
	tnoop "go.opentelemetry.io/otel/trace/noop"
)

// With no-op providers the hook adds at most one allocation per call (the span's context).
// The embedded server allocates in this process too, so the test compares a Client with
// the hook against one without, on the same server.
func TestNoopProviderAllocs(t *testing.T) {
	srv := gibsontest.NewServer(t)
	srv.Set("key", []byte("value"), 0)
	ctx := context.Background()
	h := gibsonotel.NewHook(gibsonotel.WithTracerProvider(tnoop.NewTracerProvider()), gibsonotel.WithMeterProvider(mnoop.NewMeterProvider()))
	count := func(opts ...client.Option) float64 {
		c, err := client.Dial(ctx, srv.Addr(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return testing.AllocsPerRun(1000, func() {
			if _, err := c.Get(ctx, "key"); err != nil {
				t.Fatal(err)
			}
		})
	}
	plain, hooked := count(), count(client.WithHooks(h))
	if hooked > plain+1 {
		t.Fatalf("GET allocations: %v with the hook and no-op providers, %v without; want at most one more", hooked, plain)
	}
	t.Logf("GET allocations: %v without the hook, %v with it", plain, hooked)
}

// BenchmarkGetNoopOTel is a GET through the hook with no-op providers.
func BenchmarkGetNoopOTel(b *testing.B) {
	srv := gibsontest.NewServer(b)
	srv.Set("key", []byte("value"), 0)
	ctx := context.Background()
	h := gibsonotel.NewHook(gibsonotel.WithTracerProvider(tnoop.NewTracerProvider()), gibsonotel.WithMeterProvider(mnoop.NewMeterProvider()))
	c, err := client.Dial(ctx, srv.Addr(), client.WithHooks(h))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(ctx, "key"); err != nil {
			b.Fatal(err)
		}
	}
}
