package client

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gogibson/gogibson/gibsontest"
)

// TestEmbeddedOnlyBehaviour covers what needs a configured server: the memory limit and
// END closing the connection of a Conn and of a Client.
func TestEmbeddedOnlyBehaviour(t *testing.T) {
	ctx := context.Background()
	t.Run("MemoryLimit", func(t *testing.T) {
		cfg := gibsontest.DefaultConfig()
		cfg.MaxMemory = 1
		s := gibsontest.NewServer(t, gibsontest.WithConfig(cfg))
		c := dialClient(t, s.Addr())
		err := c.Set(ctx, "a", []byte("v"), 0)
		if err == nil {
			err = c.Set(ctx, "b", []byte("v"), 0)
		}
		if !errors.Is(err, ErrMemoryLimit) || !strings.Contains(err.Error(), "SET") {
			t.Fatalf("Set over max_memory = %v; want ErrMemoryLimit naming SET", err)
		}
	})
	t.Run("ConnEnd", func(t *testing.T) {
		s := gibsontest.NewServer(t)
		c, err := DialConn(ctx, s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.End(ctx); err != nil {
			t.Fatalf("End = %v", err)
		}
		if !c.Closed() {
			t.Fatal("Conn open after End")
		}
		if err := c.Ping(ctx); !errors.Is(err, ErrClosed) {
			t.Fatalf("Ping after End = %v; want ErrClosed", err)
		}
	})
	t.Run("ClientEndReplacesConnection", func(t *testing.T) {
		s := gibsontest.NewServer(t)
		c := dialClient(t, s.Addr(), WithPoolSize(1))
		if err := c.End(ctx); err != nil {
			t.Fatalf("End = %v", err)
		}
		if err := c.Ping(ctx); err != nil {
			t.Fatalf("Ping after End on a Client = %v; want a new connection", err)
		}
		if n := s.Connections(); n != 2 {
			t.Fatalf("server accepted %d connections, want 2", n)
		}
	})
}
