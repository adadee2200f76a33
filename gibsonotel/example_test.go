package gibsonotel_test

import (
	"context"
	"log"
	"os"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/gibsonotel"
	"github.com/gogibson/gogibson/gibsontest"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Traces to stdout, metrics to a reader (in production: an OTLP exporter and a periodic
// reader), and the pool's statistics as metrics.
func Example() {
	srv, err := gibsontest.Start() // real code dials its server's address
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	exp, err := stdouttrace.New(stdouttrace.WithWriter(os.Stderr), stdouttrace.WithPrettyPrint())
	if err != nil {
		log.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(ctx)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer mp.Shutdown(ctx)

	h := gibsonotel.NewHook(gibsonotel.WithTracerProvider(tp), gibsonotel.WithMeterProvider(mp))
	c, err := client.Dial(ctx, srv.Addr(), client.WithHooks(h))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	reg, err := h.ObservePool(c)
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Unregister()

	c.Set(ctx, "user:1", []byte("alice"), 0) // a span named SET
	c.Get(ctx, "user:1")                     // a span named GET
	// Output:
}
