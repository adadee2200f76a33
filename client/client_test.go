package client

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/wire"
)

func TestClientConcurrentCallers(t *testing.T) {
	s := gibsontest.NewServer(t)
	c := dialClient(t, s.Addr())
	const goroutines, each = 300, 20
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range each {
				key := fmt.Sprintf("g%d", g)
				val := fmt.Sprintf("value-%d-%d", g, i)
				if err := c.Set(ctx, key, []byte(val), 0); err != nil {
					errs <- err
					return
				}
				v, err := c.Get(ctx, key)
				if err != nil || string(v) != val {
					errs <- fmt.Errorf("Get(%s) = %q, %v; want %q", key, v, err, val)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, want := s.Requests(), int64(goroutines*each*2); got != want {
		t.Fatalf("server saw %d requests, want %d", got, want)
	}
}

func TestClientCancellationStorm(t *testing.T) {
	s := gibsontest.NewServer(t)
	s.SetReplyDelay(200 * time.Microsecond)
	c := dialClient(t, s.Addr())
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				key := fmt.Sprint("k", g)
				switch i % 3 {
				case 0:
					ctx, cancel := context.WithCancel(context.Background())
					cancel()
					if err := c.Set(ctx, key, []byte("never"), 0); !errors.Is(err, context.Canceled) {
						errs <- fmt.Errorf("cancelled Set = %v", err)
					}
				case 1:
					ctx, cancel := context.WithTimeout(context.Background(), 100*time.Microsecond)
					_, err := c.Get(ctx, "other")
					cancel()
					if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrNotFound) {
						errs <- fmt.Errorf("timed-out Get = %v", err)
					}
				default:
					val := fmt.Sprint("v", g, "-", i)
					if err := c.Set(context.Background(), key, []byte(val), 0); err != nil {
						errs <- err
						continue
					}
					if v, err := c.Get(context.Background(), key); err != nil || string(v) != val {
						errs <- fmt.Errorf("Get(%s) = %q, %v; want %q", key, v, err, val)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s.SetReplyDelay(0)
	for g := range 100 {
		key := fmt.Sprint("k", g)
		if v, err := c.Get(context.Background(), key); err != nil || string(v) != fmt.Sprint("v", g, "-", 17) {
			t.Fatalf("Get(%s) after the storm = %q, %v", key, v, err)
		}
	}
}

func TestClientSlowRepliesAndDeadlines(t *testing.T) {
	s := gibsontest.NewServer(t)
	c := dialClient(t, s.Addr(), WithPoolSize(1))
	ctx := context.Background()
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	s.SetReplyDelay(50 * time.Millisecond)
	dctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	_, err := c.Get(dctx, "k")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get past its deadline = %v", err)
	}
	s.SetReplyDelay(0)
	if err := c.Set(ctx, "k", []byte("w"), 0); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "k"); err != nil || string(v) != "w" {
		t.Fatalf("Get after a timed-out call = %q, %v; the stream is out of step", v, err)
	}
	if n := s.Connections(); n != 1 {
		t.Fatalf("server accepted %d connections; a timeout must not cost the connection", n)
	}
}

func TestClientReplyCutMidway(t *testing.T) {
	s := gibsontest.NewServer(t)
	c := dialClient(t, s.Addr(), WithPoolSize(1))
	ctx := context.Background()
	if err := c.Set(ctx, "k", []byte("value"), 0); err != nil {
		t.Fatal(err)
	}
	before := s.Requests()
	s.FailNextReplyMidway()
	_, err := c.Get(ctx, "k")
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "GET") {
		t.Fatalf("Get whose reply was cut = %v; want ErrClosed naming GET", err)
	}
	// Reply bytes had arrived, so even a read-only command is not retried.
	if got := s.Requests() - before; got != 1 {
		t.Fatalf("server saw the GET %d times; want once", got)
	}
	if v, err := c.Get(ctx, "k"); err != nil || string(v) != "value" {
		t.Fatalf("Get on the new connection = %q, %v", v, err)
	}
	s.FailNextReplyMidway()
	before = s.Requests()
	if err := c.Set(ctx, "k", []byte("other"), 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Set whose reply was cut = %v; want ErrClosed", err)
	}
	if got := s.Requests() - before; got != 1 {
		t.Fatalf("server saw the SET %d times; want once", got)
	}
	if v, _ := s.Get("k"); string(v) != "other" {
		t.Fatalf("server holds %q; the SET was executed, the client only lost the reply", v)
	}
}

func TestClientGarbledReply(t *testing.T) {
	s := gibsontest.NewServer(t)
	c := dialClient(t, s.Addr(), WithPoolSize(1))
	ctx := context.Background()
	s.GarbleNextReply()
	err := c.Ping(ctx)
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "PING") {
		t.Fatalf("Ping with a garbled reply = %v; want ErrProtocol naming PING", err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping after a protocol error = %v; want a new connection", err)
	}
	if n := s.Connections(); n != 2 {
		t.Fatalf("server accepted %d connections, want 2 (the bad one is closed)", n)
	}
}

func TestClientServerRestart(t *testing.T) {
	s := gibsontest.NewServer(t)
	c := dialClient(t, s.Addr(), WithPoolSize(3))
	ctx := context.Background()
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	// A read-only call right away succeeds: either its connection is known to be dead and is
	// redialled, or it breaks unanswered and the call is retried once.
	if _, err := c.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after a restart = %v; want ErrNotFound from the fresh server", err)
	}
	for i := range 10 {
		if err := c.Set(ctx, fmt.Sprint("k", i), []byte("v"), 0); err != nil {
			// A write racing with the restart may fail once, but only with ErrClosed.
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("Set after a restart = %v", err)
			}
		}
	}
	if err := c.Set(ctx, "final", []byte("v"), 0); err != nil {
		t.Fatalf("Set after reconnecting = %v", err)
	}
}

func TestClientPendingCallsFailOnServerClose(t *testing.T) {
	s := gibsontest.NewServer(t)
	c := dialClient(t, s.Addr(), WithPoolSize(1))
	s.SetReplyDelay(time.Second)
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Set(context.Background(), fmt.Sprint("k", i), []byte("v"), 0)
		}()
	}
	cn := c.slots[0].conn.Load()
	waitFor(t, "ten pipelined calls", func() bool {
		cn.mu.Lock()
		defer cn.mu.Unlock()
		return cn.queue.len() == 10
	})
	waitFor(t, "the server to accept", func() bool { return s.ActiveConnections() == 1 })
	// Queued is not written: a call whose frame never left would rightly go to a new
	// connection and succeed, so wait until all ten are written.
	waitFor(t, "ten requests written", func() bool {
		cn.mu.Lock()
		defer cn.mu.Unlock()
		return cn.sent == cn.pushed
	})
	s.CloseClientConnections()
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "SET") {
			t.Errorf("pending Set %d = %v; want ErrClosed naming SET", i, err)
		}
	}
	s.SetReplyDelay(0)
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("Ping on a new connection = %v", err)
	}
}

// flakyServer hangs up without replying to the first request for the key "flaky", and
// after a partial reply for the key "cut".
func flakyServer(t *testing.T) (*fakeServer, *atomic.Int64) {
	var flakyHits atomic.Int64
	s := newFakeServer(t, func(op wire.Opcode, payload []byte) ([]byte, bool) {
		key := string(payload)
		if op == generated.OpSet {
			key = strings.Fields(key)[1]
		}
		switch key {
		case "flaky":
			if flakyHits.Add(1) == 1 {
				return nil, true
			}
		case "always":
			return nil, true
		case "cut":
			return valReply([]byte("abcdef"))[:9], true
		}
		return echoHandler(op, payload), false
	})
	return s, &flakyHits
}

func TestClientRetriesReadOnlyOnce(t *testing.T) {
	s, hits := flakyServer(t)
	c := dialClient(t, s.addr, WithPoolSize(1), WithRedialBackoff(time.Millisecond, time.Millisecond))
	ctx := context.Background()
	v, err := c.Get(ctx, "flaky")
	if err != nil || string(v) != "flaky" {
		t.Fatalf("Get whose connection broke unanswered = %q, %v; want it retried", v, err)
	}
	if hits.Load() != 2 {
		t.Fatalf("server saw the GET %d times; want 2", hits.Load())
	}
	before := s.requests.Load()
	if _, err := c.Get(ctx, "always"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get that always breaks = %v; want ErrClosed", err)
	}
	if got := s.requests.Load() - before; got != 2 {
		t.Fatalf("server saw %d attempts; want exactly 2 (one retry)", got)
	}
	before = s.requests.Load()
	if _, err := c.Get(ctx, "cut"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get with a partial reply = %v; want ErrClosed", err)
	}
	if got := s.requests.Load() - before; got != 1 {
		t.Fatalf("server saw %d attempts after a partial reply; want 1", got)
	}
}

func TestClientNeverRetriesWrites(t *testing.T) {
	s, hits := flakyServer(t)
	c := dialClient(t, s.addr, WithPoolSize(1), WithRedialBackoff(time.Millisecond, time.Millisecond))
	ctx := context.Background()
	err := c.Set(ctx, "flaky", []byte("v"), 0)
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "SET") {
		t.Fatalf("Set whose connection broke = %v; want ErrClosed naming SET", err)
	}
	if hits.Load() != 1 {
		t.Fatalf("server saw the SET %d times; want once", hits.Load())
	}
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatalf("next Set = %v", err)
	}
}

func TestClientCloseWaitsForCalls(t *testing.T) {
	s := gibsontest.NewServer(t)
	c, err := Dial(context.Background(), s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	s.SetReplyDelay(50 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- c.Set(context.Background(), "k", []byte("v"), 0) }()
	waitFor(t, "the call to start", func() bool { return c.active.Load() == 1 })
	c.Close()
	// Had Close not waited, closing the connection under the call would have failed it
	// with ErrClosed. (The call's goroutine may deliver its result just after Close
	// returns, so receive rather than poll.)
	if err := <-done; err != nil {
		t.Fatalf("call in flight during Close = %v; want it to finish", err)
	}
	if v, ok := s.Get("k"); !ok || string(v) != "v" {
		t.Fatalf("server holds k = %q, %v after Close; want the SET applied", v, ok)
	}
	if err := c.Ping(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ping after Close = %v; want ErrClosed", err)
	}
	if !c.Closed() {
		t.Fatal("Closed() = false")
	}
	c.Close()
}

func TestDialFailsWhenNoServer(t *testing.T) {
	_, err := Dial(context.Background(), "unix:///nonexistent/x.sock", WithPoolSize(3))
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/x.sock") {
		t.Fatalf("Dial = %v", err)
	}
	_, err = DialConn(context.Background(), "127.0.0.1:1", WithDialTimeout(time.Second))
	if err == nil {
		t.Fatal("DialConn to a closed port succeeded")
	}
}

// sent returns how many requests each of the Client's current connections has queued.
func sent(c *Client) []uint64 {
	out := make([]uint64, len(c.slots))
	for i, s := range c.slots {
		cn := s.conn.Load()
		cn.mu.Lock()
		out[i] = cn.pushed
		cn.mu.Unlock()
	}
	return out
}

func TestClientLoneCallerKeepsOneConnection(t *testing.T) {
	s := gibsontest.NewServer(t)
	c := dialClient(t, s.Addr(), WithPoolSize(4))
	ctx := context.Background()
	for range 40 {
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := sent(c), []uint64{40, 0, 0, 0}; !slices.Equal(got, want) {
		t.Fatalf("40 sequential calls per connection: %v; want %v", got, want)
	}
}

// Calls in progress spread over the connections: each goes to the least loaded one, so a
// busy connection gets new calls only once the others are as busy.
func TestClientSpreadsCallsInProgress(t *testing.T) {
	s := gibsontest.NewServer(t)
	c := dialClient(t, s.Addr(), WithPoolSize(4))
	s.SetReplyDelay(time.Hour) // held until the server closes below
	busy := c.slots[0].conn.Load()
	busy.callers.Add(3) // as if three calls were in progress on the first connection
	defer busy.callers.Add(-3)
	inProgress := func() (n int32) {
		for _, sl := range c.slots {
			n += sl.conn.Load().callers.Load()
		}
		return n - 3
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { c.Ping(context.Background()) })
		for inProgress() != int32(i+1) { // one at a time, so each pick sees the others
			runtime.Gosched()
		}
	}
	// A call counts as in progress before it is queued: wait for the last one's frame.
	waitFor(t, "the 8 calls to be queued", func() bool {
		var n uint64
		for _, q := range sent(c) {
			n += q
		}
		return n == 8
	})
	got := sent(c)
	s.Close() // fails the held calls
	wg.Wait()
	if want := []uint64{0, 3, 3, 2}; !slices.Equal(got, want) {
		t.Fatalf("8 calls in progress per connection, the first one busy with 3: %v; want %v", got, want)
	}
}

// pick: least loaded first; a broken connection only when this call may redial it.
func TestClientPick(t *testing.T) {
	s := gibsontest.NewServer(t)
	c := dialClient(t, s.Addr(), WithPoolSize(3))
	conn := func(i int) *Conn { return c.slots[i].conn.Load() }
	check := func(what string, want int) {
		t.Helper()
		if sl, cn := c.pick(); sl != c.slots[want] || cn != conn(want) {
			for i := range c.slots {
				if sl == c.slots[i] {
					t.Fatalf("%s: picked connection %d; want %d", what, i, want)
				}
			}
			t.Fatalf("%s: picked no slot of the Client", what)
		}
	}
	check("all idle", 0)
	conn(0).callers.Add(2)
	conn(1).callers.Add(1)
	conn(2).callers.Add(1)
	check("loads 2 1 1", 1)
	conn(1).callers.Add(1)
	check("loads 2 2 1", 2)

	conn(0).Close()
	check("broken, nobody redialling", 0)
	c.slots[0].dialing.Store(true)
	check("broken while another call redials it", 2)
	c.slots[0].dialing.Store(false)
	c.slots[0].retryAt.Store(time.Now().Add(time.Hour).UnixNano())
	check("broken, backing off", 2)
	conn(1).Close()
	conn(2).Close()
	c.slots[1].retryAt.Store(time.Now().Add(time.Hour).UnixNano())
	c.slots[2].retryAt.Store(time.Now().Add(time.Hour).UnixNano())
	check("all broken and backing off", 0)
	for i := range 3 {
		conn(i).callers.Store(0)
	}
}
