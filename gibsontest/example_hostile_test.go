package gibsontest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/gibsontest"
)

// A server that stops answering on one connection: the call must honour its context
// instead of waiting forever. In a test, gibsontest.NewHostile(t) does the starting and
// closing.
func ExampleHostile() {
	h, err := gibsontest.StartHostile()
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	c, err := client.Dial(ctx, h.Addr())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		log.Fatal(err)
	}

	h.StallAt(1) // the next request gets no reply, nor does its connection ever again
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = c.Get(tctx, "k")
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	fmt.Println(h.StalledConnections(), "stalled connection")
	// Output:
	// true
	// 1 stalled connection
}
