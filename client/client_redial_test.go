package client

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
)

// How a Client replaces a broken connection: the redial, its backoff, and the callers who
// stop waiting for it.

func TestClientRedialBackoff(t *testing.T) {
	s := newFakeServer(t, echo(echoHandler))
	var dials atomic.Int64
	dialer := func(ctx context.Context, network, address string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}
	c := dialClient(t, s.addr, WithPoolSize(1), WithDialer(dialer), WithRedialBackoff(time.Hour, time.Hour))
	ctx := context.Background()
	// Dial returns once the kernel completed the connection; the fake may accept it later,
	// and a connection accepted after the drop would be served.
	waitFor(t, "the fake to accept the connection", func() bool { return s.accepted.Load() == 1 })
	s.ln.Close()
	s.dropConnections()
	// The idle connection's close is found by the next call, which then redials.
	dialsBefore := dials.Load()
	err := c.Ping(ctx)
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "reconnecting") || !strings.Contains(err.Error(), s.addr) {
		t.Fatalf("Ping with the server gone = %v; want ErrClosed about reconnecting to %s", err, s.addr)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("error %v does not wrap the dial error", err)
	}
	for range 100 {
		if err := c.Ping(ctx); !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "next attempt") {
			t.Fatalf("Ping during the backoff = %v", err)
		}
	}
	if got := dials.Load() - dialsBefore; got != 1 {
		t.Fatalf("%d dials for 101 calls during a backoff of an hour; want 1", got)
	}
}

func TestClientRedialsWhenServerReturns(t *testing.T) {
	s := gibsontest.NewServer(t)
	c := dialClient(t, s.Addr(), WithPoolSize(2), WithRedialBackoff(5*time.Millisecond, 20*time.Millisecond))
	ctx := context.Background()
	// Dial returns once the kernel completed the connection; the server may accept later.
	waitFor(t, "the server to accept both", func() bool { return s.ActiveConnections() == 2 })
	s.CloseClientConnections()
	// Nothing reads idle connections: each is found closed by its next call, which has sent
	// nothing and goes to a new connection.
	for range 20 {
		if err := c.Ping(ctx); err != nil {
			t.Fatalf("Ping after reconnecting = %v", err)
		}
	}
}

// A caller's short deadline never cuts a redial short: the caller stops waiting, the dial
// goes on with the Client's own timeout and installs the connection, and no backoff is set,
// so the next caller uses it at once.
func TestClientRedialOutlivesCallerDeadline(t *testing.T) {
	transports(t, func(t *testing.T, s *gibsontest.Server) {
		var slow, dialEnded atomic.Bool
		var dials atomic.Int32
		release := make(chan struct{}) // a server slow to accept: held until released
		var once sync.Once
		open := func() { once.Do(func() { close(release) }) }
		t.Cleanup(open)
		dialer := func(ctx context.Context, network, address string) (net.Conn, error) {
			dials.Add(1)
			if slow.Load() {
				defer dialEnded.Store(true)
				select {
				case <-release:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			var d net.Dialer
			return d.DialContext(ctx, network, address)
		}
		c := dialClient(t, s.Addr(), WithPoolSize(1), WithDialer(dialer), WithRedialBackoff(time.Hour, time.Hour))
		if err := c.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		s.CloseClientConnections()
		// Let the Client find the close first, as a call would, so that the Ping below goes
		// straight to the redial: its 10ms would otherwise be spent finding it.
		waitArrived(t, connOf(c, 0))
		if connOf(c, 0).probe() {
			t.Fatal("the connection the server closed still looks usable")
		}
		slow.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		err := c.Ping(ctx)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "reconnecting") {
			t.Fatalf("Ping whose redial outlived its deadline = %v; want context.DeadlineExceeded while reconnecting", err)
		}
		if dialEnded.Load() {
			t.Fatal("the Ping with a 10ms deadline returned only once the slow redial had ended")
		}
		open()
		if err := c.Ping(context.Background()); err != nil {
			t.Fatalf("Ping after a redial a caller stopped waiting for = %v; want the connection that redial made", err)
		}
		if n := dials.Load(); n != 2 {
			t.Fatalf("%d dials; want 2 (the first connection and one redial)", n)
		}
	})
}
