package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
)

// Tests of the read side (reader.go): lone callers read their own replies, nobody reads an
// idle connection, wrapped connections keep a background reader.

// transports runs f over a Unix socket and over TCP, whose idle closes are found differently
// (EPIPE on write, a peek before writing).
func transports(t *testing.T, f func(t *testing.T, s *gibsontest.Server)) {
	t.Run("unix", func(t *testing.T) { f(t, gibsontest.NewServer(t)) })
	t.Run("tcp", func(t *testing.T) { f(t, gibsontest.NewServer(t, gibsontest.WithTCP())) })
}

func TestConnLoneCallerReadsItsOwnReply(t *testing.T) {
	transports(t, func(t *testing.T, s *gibsontest.Server) {
		c := dialConn(t, s.Addr())
		for i := range 50 {
			key := fmt.Sprint("k", i)
			if err := c.Set(context.Background(), key, []byte(key), 0); err != nil {
				t.Fatal(err)
			}
			if v, err := c.Get(context.Background(), key); err != nil || string(v) != key {
				t.Fatalf("Get(%q) = %q, %v", key, v, err)
			}
			// Between calls nobody holds the read role: the background reader is parked.
			c.mu.Lock()
			reading := c.reading
			c.mu.Unlock()
			if reading {
				t.Fatal("an idle connection is still being read; want the read role released")
			}
		}
	})
}

func TestConnIdleCloseFoundByNextCall(t *testing.T) {
	transports(t, func(t *testing.T, s *gibsontest.Server) {
		ctx := context.Background()
		c := dialConn(t, s.Addr())
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		s.CloseClientConnections()
		before := s.Requests()
		err := c.Set(ctx, "lost", []byte("v"), 0)
		if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "SET") {
			t.Fatalf("Set on a connection the server closed = %v; want ErrClosed naming SET", err)
		}
		if !c.Closed() {
			t.Fatal("Closed() = false after a call found the connection closed")
		}
		if got := s.Requests() - before; got != 0 {
			t.Fatalf("server saw %d requests; want none", got)
		}
		if _, ok := s.Get("lost"); ok {
			t.Fatal("the server stored a value sent on a closed connection")
		}
	})
}

func TestClientResendsWritesFoundUnsent(t *testing.T) {
	transports(t, func(t *testing.T, s *gibsontest.Server) {
		ctx := context.Background()
		c := dialClient(t, s.Addr(), WithPoolSize(2))
		if err := c.Set(ctx, "n", []byte("0"), 0); err != nil {
			t.Fatal(err)
		}
		for round := 1; round <= 3; round++ {
			waitFor(t, "the server to accept", func() bool { return s.ActiveConnections() >= 1 })
			s.CloseClientConnections()
			// INC is not idempotent: a lost or doubled request would show in the count.
			n, err := c.Inc(ctx, "n")
			if err != nil || n != int64(round) {
				t.Fatalf("Inc after the server closed the idle connections = %d, %v; want %d, nil", n, err, round)
			}
		}
		// Concurrent callers on closed idle connections: their frames are batched, and a
		// batch refused whole is known unsent too.
		const callers = 16
		for round := 1; round <= 3; round++ {
			s.CloseClientConnections()
			var wg sync.WaitGroup
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := c.Inc(ctx, "n"); err != nil {
						t.Errorf("concurrent Inc after the server closed the idle connections = %v", err)
					}
				}()
			}
			wg.Wait()
			v, ok := s.Get("n")
			if want := fmt.Sprint(3 + round*callers); !ok || string(v) != want {
				t.Fatalf("after round %d the server holds n = %q; want %s", round, v, want)
			}
		}
	})
}

func TestConnCloseRacesLoneCaller(t *testing.T) {
	s := gibsontest.NewServer(t)
	for i := range 100 {
		c, err := DialConn(context.Background(), s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		var pings atomic.Int64
		go func() {
			for {
				if err := c.Ping(context.Background()); err != nil {
					errc <- err
					return
				}
				pings.Add(1)
			}
		}()
		// Close after a random number of PINGs, at whatever point the next one has reached.
		for n := int64(rand.IntN(8)); pings.Load() < n; {
			runtime.Gosched()
		}
		closed := make(chan struct{})
		go func() { c.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: Close did not return while a lone caller was reading", i)
		}
		if err := <-errc; !errors.Is(err, ErrClosed) {
			t.Fatalf("round %d: call racing Close = %v; want ErrClosed", i, err)
		}
	}
}

func TestConnLoneCallerCancelledWhileReading(t *testing.T) {
	s := gibsontest.NewServer(t)
	c := dialConn(t, s.Addr())
	s.Set("k", []byte("v"), 0)
	s.SetReplyDelay(time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	if _, err := c.Get(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get cancelled while reading its own reply = %v; want context.Canceled", err)
	}
	if waited := time.Since(start); waited > 300*time.Millisecond { // cancelPoll is 1 ms
		t.Fatalf("the cancelled Get returned after %v, with its reply; want it at cancellation", waited)
	}
	s.SetReplyDelay(0)
	// The late reply is read and dropped by the background reader; the next caller gets
	// its own.
	if err := c.Set(context.Background(), "k2", []byte("v2"), 0); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(context.Background(), "k2"); err != nil || string(v) != "v2" {
		t.Fatalf("Get after a cancelled read = %q, %v; want v2", v, err)
	}
}

// Deadlines that expire around the moment the reply arrives leave interrupts behind that
// may fire after their caller has gone; the next reader must read on regardless.
func TestConnDeadlinesRacingReplies(t *testing.T) {
	s := gibsontest.NewServer(t)
	c := dialConn(t, s.Addr())
	s.Set("k", []byte("v"), 0)
	var expired int
	for i := range 500 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(40))*time.Microsecond)
		_, err := c.Get(ctx, "k")
		cancel()
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			expired++
		case err != nil:
			t.Fatalf("Get %d = %v", i, err)
		}
		key := fmt.Sprint("after-", i)
		if err := c.Set(context.Background(), key, []byte(key), 0); err != nil {
			t.Fatalf("Set after a racing deadline = %v", err)
		}
		if v, err := c.Get(context.Background(), key); err != nil || string(v) != key {
			t.Fatalf("Get(%q) after a racing deadline = %q, %v", key, v, err)
		}
	}
	t.Logf("%d of 500 deadlines expired first", expired)
}

// wrappedConn hides the socket type, as TLS or a tracing wrapper from WithDialer would.
type wrappedConn struct{ net.Conn }

func TestConnWrappedConnKeepsBackgroundReader(t *testing.T) {
	s := gibsontest.NewServer(t)
	dialer := func(ctx context.Context, network, address string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, address)
		return wrappedConn{nc}, err
	}
	c := dialConn(t, s.Addr(), WithDialer(dialer))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				key := fmt.Sprint("w", g, "-", i)
				if err := c.Set(context.Background(), key, []byte(key), 0); err != nil {
					t.Error(err)
					return
				}
				if v, err := c.Get(context.Background(), key); err != nil || string(v) != key {
					t.Errorf("Get(%q) = %q, %v", key, v, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// The background reader reads even while idle, so a server close is seen at once.
	s.CloseClientConnections()
	waitFor(t, "the idle wrapped connection to notice the close", c.Closed)
}

// TestClientChaos alternates lone and concurrent callers, cancellations, slow replies and
// server-side closes of every connection, over both transports. Every successful reply must
// be the caller's own; failures may only be ErrClosed or the caller's context; nothing hangs.
func TestClientChaos(t *testing.T) {
	transports(t, func(t *testing.T, s *gibsontest.Server) {
		c := dialClient(t, s.Addr(), WithPoolSize(2), WithRedialBackoff(time.Millisecond, 5*time.Millisecond))
		stop := make(chan struct{})
		var chaos sync.WaitGroup
		chaos.Add(1)
		go func() {
			defer chaos.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Duration(1+rand.IntN(3)) * time.Millisecond):
				}
				switch rand.IntN(3) {
				case 0:
					s.CloseClientConnections()
				case 1:
					s.SetReplyDelay(200 * time.Microsecond)
				default:
					s.SetReplyDelay(0)
				}
			}
		}()
		var oks, fails, closed int64
		var mu sync.Mutex
		count := func(err error) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				oks++
			case errors.Is(err, ErrClosed):
				closed++
			default:
				fails++
			}
		}
		call := func(g, i int) {
			key := fmt.Sprint("chaos-", g, "-", i)
			ctx := context.Background()
			var cancel context.CancelFunc = func() {}
			if i%3 == 0 {
				ctx, cancel = context.WithTimeout(ctx, time.Duration(rand.IntN(300))*time.Microsecond)
			}
			defer cancel()
			if err := c.Set(ctx, key, []byte(key), 0); err != nil {
				if !errors.Is(err, ErrClosed) && ctx.Err() == nil {
					t.Errorf("Set(%q) = %v; want success, ErrClosed or the context's error", key, err)
				}
				count(err)
				return
			}
			v, err := c.Get(ctx, key)
			switch {
			case err == nil && string(v) != key:
				t.Errorf("Get(%q) = %q: another caller's reply", key, v)
			case err != nil && !errors.Is(err, ErrClosed) && ctx.Err() == nil:
				t.Errorf("Get(%q) = %v; want success, ErrClosed or the context's error", key, err)
			}
			count(err)
		}
		for phase := range 6 {
			callers := 1
			if phase%2 == 1 {
				callers = 16
			}
			var wg sync.WaitGroup
			for g := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 60 {
						call(phase*100+g, i)
					}
				}()
			}
			wg.Wait()
		}
		close(stop)
		chaos.Wait()
		s.SetReplyDelay(0)
		// Connections the last chaos step closed are found by the Ping, which goes to a new
		// one.
		if err := c.Ping(context.Background()); err != nil {
			t.Fatalf("Ping after the chaos = %v", err)
		}
		t.Logf("%d calls succeeded, %d failed with ErrClosed, %d with their context", oks, closed, fails)
		if oks == 0 {
			t.Fatal("no call succeeded")
		}
	})
}

// A caller with a cancellable context leaves a read deadline about a millisecond ahead
// (boundRead); slow replies make it fire under the same caller (re-armed) and under the next
// caller, who has no deadline at all. Both must simply read on.
func TestConnReadDeadlinesLeftBehind(t *testing.T) {
	transports(t, func(t *testing.T, s *gibsontest.Server) {
		c := dialConn(t, s.Addr())
		s.Set("k", []byte("v"), 0)
		cancellable, cancel := context.WithCancel(context.Background())
		defer cancel()
		withDeadline, cancel2 := context.WithTimeout(context.Background(), time.Hour)
		defer cancel2()
		for i, ctx := range []context.Context{withDeadline, cancellable, context.Background(), cancellable, context.Background()} {
			s.SetReplyDelay(0)
			if _, err := c.Get(ctx, "k"); err != nil { // sets the deadline
				t.Fatal(err)
			}
			s.SetReplyDelay(5 * time.Millisecond) // longer than cancelPoll
			if v, err := c.Get(ctx, "k"); err != nil || string(v) != "v" {
				t.Fatalf("call %d: slow Get = %q, %v; want v", i, v, err)
			}
			if v, err := c.Get(context.Background(), "k"); err != nil || string(v) != "v" {
				t.Fatalf("call %d: slow Get without a deadline after one with = %q, %v; want v", i, v, err)
			}
		}
		s.SetReplyDelay(0)
		// An idle close is still found before sending although a deadline was left behind
		// (on TCP the peek trips over it first), so the Client sends the SET again.
		cl := dialClient(t, s.Addr(), WithPoolSize(1))
		if _, err := cl.Get(cancellable, "k"); err != nil {
			t.Fatal(err)
		}
		left := connOf(cl, 0).readDeadline // read by the goroutine that set it
		if left.IsZero() {
			t.Fatal("a Get with a cancellable context left no read deadline behind: nothing to test")
		}
		waitFor(t, "the deadline left behind to pass", func() bool { return time.Now().After(left) })
		s.CloseClientConnections()
		if err := cl.Set(context.Background(), "k2", []byte("v2"), 0); err != nil {
			t.Fatalf("Set after an idle close, with a past deadline left behind = %v; want it sent on a new connection", err)
		}
	})
}
