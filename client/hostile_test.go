package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
)

// Tests against gibsontest.Hostile, a server that misbehaves on purpose: one per defect that
// adversarial testing found. Each runs over a Unix socket and over TCP, and checks that no
// goroutine is left once the client and the server are closed.

// hostiles runs f against a Hostile over each transport.
func hostiles(t *testing.T, f func(t *testing.T, h *gibsontest.Hostile)) {
	t.Run("unix", func(t *testing.T) {
		noGoroutineLeft(t)
		f(t, gibsontest.NewHostile(t))
	})
	t.Run("tcp", func(t *testing.T) {
		noGoroutineLeft(t)
		f(t, gibsontest.NewHostile(t, gibsontest.WithTCP()))
	})
}

// noGoroutineLeft checks, once the test and the cleanups registered after it are done, that
// the goroutine count is back where it was.
func noGoroutineLeft(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { waitGoroutines(t, before) })
}

// returns runs f and returns its error, failing the test if f has not returned after
// waitBound. It guards against a hang and checks no timing: the error f returns tells which
// bound ended it (the caller's deadline, the reply or write timeout, Close).
func returns(t *testing.T, what string, f func() error) error {
	t.Helper()
	var err error
	done := make(chan struct{})
	go func() { defer close(done); err = f() }()
	finishes(t, what, waitBound, done)
	return err
}

const bigValue = 16 << 20

func seed(t *testing.T, h *gibsontest.Hostile, key, value string) {
	t.Helper()
	c := dialConn(t, h.Server().Addr())
	if err := c.Set(context.Background(), key, []byte(value), 0); err != nil {
		t.Fatal(err)
	}
}

// Defect 1: a reply that never comes. The caller gives up at its deadline; the connection's
// abandoned request keeps it loaded, so other calls avoid it, and the reply timeout retires
// it, so even a Client of one connection recovers.
func TestHostileStalledReplyRetiresConnection(t *testing.T) {
	for _, size := range []int{1, 4} {
		t.Run(fmt.Sprint("pool", size), func(t *testing.T) {
			hostiles(t, func(t *testing.T, h *gibsontest.Hostile) {
				seed(t, h, "k", "v")
				c := dialClient(t, h.Addr(), WithPoolSize(size), WithReplyTimeout(200*time.Millisecond),
					WithRedialBackoff(time.Millisecond, time.Millisecond))
				h.StallAt(1)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
				defer cancel()
				err := returns(t, "a Get whose reply never comes, with a 30ms deadline", func() error {
					_, err := c.Get(ctx, "k")
					return err
				})
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Get with no reply = %v; want context.DeadlineExceeded", err)
				}
				for i := range 20 {
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					v, err := c.Get(ctx, "k")
					cancel()
					if err != nil || string(v) != "v" {
						t.Fatalf("call %d after the stall: %q, %v; want \"v\"", i, v, err)
					}
				}
				waitFor(t, "the stalled connection to be closed by the client", func() bool { return h.StalledConnections() == 0 })
			})
		})
	}
}

// A Pool does not hand out a connection whose last user gave up on a reply.
func TestHostileStalledReplyPool(t *testing.T) {
	hostiles(t, func(t *testing.T, h *gibsontest.Hostile) {
		seed(t, h, "k", "v")
		p := newTestPool(t, h.Addr(), PoolConfig{MinSize: 1, MaxSize: 2})
		h.StallAt(1)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		if _, err := p.Get(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Get with no reply = %v; want context.DeadlineExceeded", err)
		}
		for i := range 20 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			v, err := p.Get(ctx, "k")
			cancel()
			if err != nil || string(v) != "v" {
				t.Fatalf("call %d after the stall: %q, %v; want \"v\"", i, v, err)
			}
		}
	})
}

// A server that answers nobody on a connection: callers with no deadline of their own are
// failed by the reply timeout instead of waiting for ever.
func TestHostileReplyTimeoutFailsWaitingCallers(t *testing.T) {
	hostiles(t, func(t *testing.T, h *gibsontest.Hostile) {
		c := dialConn(t, h.Addr(), WithReplyTimeout(100*time.Millisecond))
		h.StallAt(1)
		err := returns(t, "a Ping with no deadline and no reply", func() error {
			return c.Ping(context.Background())
		})
		if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "WithReplyTimeout") {
			t.Fatalf("Ping with no reply = %v; want ErrClosed naming WithReplyTimeout", err)
		}
		if !c.Closed() {
			t.Fatal("the silent connection is still open")
		}
	})
}

// Defect 2: a reply the server sends while nothing is pending is a protocol violation that
// closes the connection, never the next caller's answer.
func TestHostileExtraReplyWhileIdle(t *testing.T) {
	hostiles(t, func(t *testing.T, h *gibsontest.Hostile) {
		seed(t, h, "k", "v")
		c := dialClient(t, h.Addr(), WithPoolSize(1))
		h.ExtraReplyAfter(10*time.Millisecond, nil)
		if v, err := c.Get(context.Background(), "k"); err != nil || string(v) != "v" {
			t.Fatalf("Get = %q, %v", v, err)
		}
		waitArrived(t, connOf(c, 0)) // the extra reply, while the connection is idle
		for i := range 5 {
			if v, err := c.Get(context.Background(), "k"); err != nil || string(v) != "v" {
				t.Fatalf("Get %d after an extra reply = %q, %v; want \"v\"", i, v, err)
			}
		}
		if n := h.Connections(); n != 2 {
			t.Fatalf("%d connections; want 2 (the one that got the extra reply was replaced)", n)
		}
		if b := c.PoolStats().Broken; b.Protocol != 1 || b.Total() != 1 {
			t.Fatalf("broken counts %+v; want one protocol break", b)
		}
	})
}

// The same for bytes a server sends before the first request.
func TestHostileServerSpeaksFirst(t *testing.T) {
	hostiles(t, func(t *testing.T, h *gibsontest.Hostile) {
		seed(t, h, "k", "v")
		h.SendOnAccept(valReply([]byte("junk")))
		c := dialConn(t, h.Addr())
		waitArrived(t, c)
		_, err := c.Get(context.Background(), "k")
		if !errors.Is(err, ErrProtocol) {
			t.Fatalf("Get after the server spoke first = %v; want ErrProtocol", err)
		}
		h.Disarm()
		cl := dialClient(t, h.Addr(), WithPoolSize(1))
		h.SendOnAccept(valReply([]byte("junk")))
		// The Client's connection was dialled before SendOnAccept was armed; the redial
		// below happens after Disarm.
		h.CloseClientConnections()
		waitArrived(t, connOf(cl, 0)) // the close
		h.Disarm()
		if v, err := cl.Get(context.Background(), "k"); err != nil || string(v) != "v" {
			t.Fatalf("Client Get = %q, %v; want \"v\" on a new connection", v, err)
		}
	})
}

// Defect 3: a large write to a server that stopped reading honours the caller's deadline,
// and Close does not hang behind it. The value is 16 MiB because a TCP socket on loopback
// buffers about 4 MiB before a write blocks (a Unix socket about 200 KiB).
func TestHostileLargeWriteToNonReader(t *testing.T) {
	hostiles(t, func(t *testing.T, h *gibsontest.Hostile) {
		opts := []Option{WithPoolSize(1), WithMaxValueSize(bigValue + 1), WithMaxRequestSize(2 * bigValue)}
		c := dialClient(t, h.Addr(), opts...)
		h.StopReadingAt(1)
		if err := c.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		big := make([]byte, bigValue)
		for i := range big {
			big[i] = 'x'
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := returns(t, "a 16 MiB Set to a server that stopped reading, 100ms deadline", func() error {
			return c.Set(ctx, "big", big, 0)
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Set = %v; want context.DeadlineExceeded", err)
		}

		// With no deadline the write timeout bounds it; a cancellation cuts it short.
		c2 := dialClient(t, h.Addr(), append(opts, WithWriteTimeout(150*time.Millisecond))...)
		h.StopReadingAt(1)
		if err := c2.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		err = returns(t, "a 16 MiB Set with a 150ms write timeout", func() error {
			return c2.Set(context.Background(), "big", big, 0)
		})
		if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "WithWriteTimeout") {
			t.Fatalf("Set = %v; want ErrClosed naming WithWriteTimeout", err)
		}
		c3 := dialClient(t, h.Addr(), opts...)
		h.StopReadingAt(1)
		if err := c3.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		cctx, ccancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, ccancel)
		err = returns(t, "a 16 MiB Set cancelled after 50ms", func() error {
			return c3.Set(cctx, "big", big, 0)
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Set = %v; want context.Canceled", err)
		}
	})
}

// Client.Close returns within its bound while a call is stuck writing to a non-reader, and
// that call fails with ErrClosed.
func TestHostileCloseDuringStuckWrite(t *testing.T) {
	hostiles(t, func(t *testing.T, h *gibsontest.Hostile) {
		// Only the close timeout can end the stuck write before the guard of returns.
		c, err := Dial(context.Background(), h.Addr(), WithPoolSize(1), WithMaxValueSize(bigValue+1),
			WithMaxRequestSize(2*bigValue), WithCloseTimeout(100*time.Millisecond), WithWriteTimeout(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		h.StopReadingAt(1)
		if err := c.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var setErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			setErr = c.Set(context.Background(), "big", bytes.Repeat([]byte("x"), bigValue), 0)
		}()
		cn := connOf(c, 0)
		waitFor(t, "the SET to be written", func() bool { return pushed(cn) == 2 }) // after the PING
		returns(t, "Close with a call stuck writing", c.Close)
		wg.Wait()
		if !errors.Is(setErr, ErrClosed) {
			t.Fatalf("the stuck Set = %v; want ErrClosed", setErr)
		}
	})
}

// Defect 5: a reply header declaring 60 MiB followed by a few bytes costs what arrived, not
// what was declared; the connection is retired by the reply timeout.
func TestHostileHugeDeclaredReply(t *testing.T) {
	hostiles(t, func(t *testing.T, h *gibsontest.Hostile) {
		seed(t, h, "k", "v")
		c := dialClient(t, h.Addr(), WithPoolSize(1), WithReplyTimeout(100*time.Millisecond))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		h.DeclareHugeAndStall(60 << 20)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := c.Get(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Get of a stalled 60 MiB reply = %v; want context.DeadlineExceeded", err)
		}
		runtime.ReadMemStats(&after)
		if grown := after.TotalAlloc - before.TotalAlloc; grown > 4<<20 {
			t.Fatalf("a reply declaring 60 MiB and sending 16 bytes allocated %d bytes", grown)
		}
		ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel2()
		if v, err := c.Get(ctx2, "k"); err != nil || string(v) != "v" {
			t.Fatalf("Get after the stalled reply = %q, %v; want \"v\"", v, err)
		}
	})
}

// WithMaxReplySize: a reply declaring more than the cap is malformed at once, without waiting
// for its bytes (the Hostile never sends them) or for the reply timeout; the connection is
// replaced.
func TestHostileReplyOverMaxReplySize(t *testing.T) {
	hostiles(t, func(t *testing.T, h *gibsontest.Hostile) {
		seed(t, h, "k", "v")
		c := dialClient(t, h.Addr(), WithPoolSize(1), WithMaxReplySize(1<<20), WithReplyTimeout(time.Hour))
		h.DeclareHugeAndStall(2 << 20)
		ctx, cancel := context.WithTimeout(context.Background(), waitBound)
		defer cancel()
		if _, err := c.Get(ctx, "k"); !errors.Is(err, ErrProtocol) {
			t.Fatalf("Get of a reply declaring 2 MiB with a 1 MiB cap = %v; want ErrProtocol", err)
		}
		if v, err := c.Get(ctx, "k"); err != nil || string(v) != "v" {
			t.Fatalf("Get after the oversized reply = %q, %v; want \"v\" on a new connection", v, err)
		}
		if b := c.PoolStats().Broken; b.Protocol != 1 {
			t.Fatalf("broken counts %+v; want one protocol break", b)
		}
	})
}

// A reply dripped a byte at a time: a caller with a short deadline returns at it, and the
// reply still reaches a patient caller intact.
func TestHostileDrippedReply(t *testing.T) {
	hostiles(t, func(t *testing.T, h *gibsontest.Hostile) {
		seed(t, h, "k", strings.Repeat("d", 40))
		c := dialClient(t, h.Addr(), WithPoolSize(1))
		h.DripNextReply(30 * time.Millisecond) // the whole reply takes about 1.4 s
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		err := returns(t, "a Get of a dripped reply with a 20ms deadline", func() error {
			_, err := c.Get(ctx, "k")
			return err
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Get = %v; want context.DeadlineExceeded", err)
		}
		h.DripNextReply(time.Millisecond)
		if v, err := c.Get(context.Background(), "k"); err != nil || string(v) != strings.Repeat("d", 40) {
			t.Fatalf("Get of a dripped reply = %q, %v", v, err)
		}
	})
}
