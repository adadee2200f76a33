package client_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/gogibson/gogibson/client"
)

// A hook that logs slow commands: it times next and looks at the command and its reply.
func ExampleWithHooks() {
	s := startServer()
	defer s.Close()
	ctx := context.Background()

	slow := client.HookFuncs{Process: func(next client.ProcessFunc) client.ProcessFunc {
		return func(ctx context.Context, cmd *client.Cmd) error {
			start := time.Now()
			err := next(ctx, cmd)
			if d := time.Since(start); d > time.Second {
				log.Printf("slow %s %q on %s: %v", cmd.Verb, cmd.Key(), cmd.Addr, d)
			}
			fmt.Printf("%s key=%q reply=%v err=%v\n", cmd.Verb, cmd.Key(), cmd.Reply().Code, err)
			return err
		}
	}}
	c, err := client.Dial(ctx, s.Addr(), client.WithHooks(slow))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.Set(ctx, "user:1", []byte("alice"), 0)
	c.Get(ctx, "user:2") // a miss is a NOT_FOUND reply, not an error
	// Output:
	// SET key="user:1" reply=VAL err=<nil>
	// GET key="user:2" reply=NOT_FOUND err=<nil>
}

func ExampleClient_PoolStats() {
	s := startServer()
	defer s.Close()
	ctx := context.Background()

	c, err := client.Dial(ctx, s.Addr(), client.WithPoolSize(2))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.Set(ctx, "a", []byte("1"), 0)
	c.Get(ctx, "a")
	st := c.PoolStats()
	fmt.Printf("open %d, idle %d, requests %d, bytes %d, broken %d\n", st.Open, st.Idle, st.Requests, st.BytesSent, st.Broken.Total())
	// Output: open 2, idle 2, requests 2, bytes 18, broken 0
}

// The logger reports broken connections and redials, never single requests.
func ExampleWithLogger() {
	s := startServer()
	defer s.Close()
	ctx := context.Background()

	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { // no time or address: stable output
			if a.Key == slog.TimeKey || a.Key == "addr" {
				return slog.Attr{}
			}
			return a
		},
	}))
	c, err := client.Dial(ctx, s.Addr(), client.WithLogger(logger), client.WithPoolSize(1))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.Ping(ctx)
	s.CloseClientConnections() // the server drops the connection while it is idle
	c.Ping(ctx)                // found closed, redialled, sent again
	// Output:
	// level=WARN msg="gibson: connection broken" cause=server_closed err="gibson: connection closed: connection closed by the server while idle: EOF"
	// level=INFO msg="gibson: reconnected"
}
