package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

func dialFake(t *testing.T, s *fakeServer, opts ...Option) *Conn {
	t.Helper()
	return dialConn(t, s.addr, opts...)
}

// dialConn opens a Conn closed when the test ends.
func dialConn(t *testing.T, address string, opts ...Option) *Conn {
	t.Helper()
	c, err := DialConn(context.Background(), address, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConnRoundTrip(t *testing.T) {
	s := newFakeServer(t, echo(echoHandler))
	c := dialFake(t, s)
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "k", []byte("hello world"), time.Second); err != nil {
		t.Fatal(err)
	}
	v, err := c.Get(ctx, "some-key")
	if err != nil || string(v) != "some-key" {
		t.Fatalf("Get = %q, %v; want the echo", v, err)
	}
	if got := s.requests.Load(); got != 3 {
		t.Fatalf("server saw %d requests, want 3", got)
	}
	if c.Closed() {
		t.Fatal("healthy connection reports Closed")
	}
}

func TestConnConcurrentCallersGetTheirOwnReplies(t *testing.T) {
	s := newFakeServer(t, echo(echoHandler))
	c := dialFake(t, s)
	const goroutines, each = 300, 40
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				key := fmt.Sprintf("g%d-i%d-%s", g, i, strings.Repeat("x", (g*7+i)%50))
				v, err := c.Get(context.Background(), key)
				if err != nil || string(v) != key {
					errs <- fmt.Errorf("Get(%q) = %q, %v", key, v, err)
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
	if got := s.requests.Load(); got != goroutines*each {
		t.Fatalf("server saw %d requests, want %d", got, goroutines*each)
	}
}

func TestConnDeadlineThenStreamStaysInStep(t *testing.T) {
	s, release := newHeldServer(t)
	c := dialFake(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	_, err := c.Get(ctx, "slow-1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get past its deadline = %v; want context.DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "GET") {
		t.Errorf("error %q does not name the command", err)
	}
	// The late reply to slow-1 comes while the next call waits for its own: it must be
	// dropped, not handed to that caller.
	next := make(chan error, 1)
	go func() {
		v, err := c.Get(context.Background(), "after-next")
		if err == nil && string(v) != "after-next" {
			err = fmt.Errorf("got %q", v)
		}
		next <- err
	}()
	waitFor(t, "the next call to be queued behind the late reply", func() bool { return pushed(c) == 2 })
	release()
	if err := <-next; err != nil {
		t.Fatalf("Get queued behind a late reply: %v", err)
	}
	for i := range 5 {
		key := fmt.Sprint("after-", i)
		v, err := c.Get(context.Background(), key)
		if err != nil || string(v) != key {
			t.Fatalf("Get(%q) after a timeout = %q, %v", key, v, err)
		}
	}
}

func TestConnPreCancelledContextSendsNothing(t *testing.T) {
	s := newFakeServer(t, echo(echoHandler))
	c := dialFake(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Get(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with a cancelled context = %v; want context.Canceled", err)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.requests.Load(); got != 1 {
		t.Fatalf("server saw %d requests, want only the PING", got)
	}
}

func TestConnCancellationStorm(t *testing.T) {
	// A slow-… GET is answered only once its caller has given up (held[key] is closed).
	var held sync.Map
	gate := func(key string) chan struct{} {
		ch, _ := held.LoadOrStore(key, make(chan struct{}))
		return ch.(chan struct{})
	}
	s := newFakeServer(t, echo(func(op wire.Opcode, payload []byte) []byte {
		if op == generated.OpGet && bytes.HasPrefix(payload, []byte("slow-")) {
			<-gate(string(payload))
		}
		return echoHandler(op, payload)
	}))
	c := dialFake(t, s)
	var wg sync.WaitGroup
	var cancelled, good atomic.Int64
	errs := make(chan error, 1000)
	for g := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				switch (g + i) % 4 {
				case 0: // already cancelled
					ctx, cancel := context.WithCancel(context.Background())
					cancel()
					if _, err := c.Get(ctx, "k"); !errors.Is(err, context.Canceled) {
						errs <- fmt.Errorf("cancelled Get = %v", err)
					}
					cancelled.Add(1)
				case 1: // times out while the server holds its reply
					ctx, cancel := context.WithTimeout(context.Background(), 50*time.Microsecond)
					key := fmt.Sprint("slow-", g, "-", i)
					_, err := c.Get(ctx, key)
					cancel()
					close(gate(key))
					if !errors.Is(err, context.DeadlineExceeded) {
						errs <- fmt.Errorf("timed-out Get = %v; want context.DeadlineExceeded", err)
					}
				default:
					key := fmt.Sprint("k-", g, "-", i)
					v, err := c.Get(context.Background(), key)
					if err != nil || string(v) != key {
						errs <- fmt.Errorf("Get(%q) = %q, %v", key, v, err)
					}
					good.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range 20 {
		key := fmt.Sprint("final-", i)
		if v, err := c.Get(context.Background(), key); err != nil || string(v) != key {
			t.Fatalf("Get(%q) after the storm = %q, %v", key, v, err)
		}
	}
	c.mu.Lock()
	inflight, queued := c.inflight, c.queue.len()
	c.mu.Unlock()
	if inflight != 0 || queued != 0 {
		t.Fatalf("after the storm: %d bytes and %d calls still accounted in flight", inflight, queued)
	}
}

func TestConnInFlightCap(t *testing.T) {
	gate := make(chan struct{})
	var first atomic.Bool
	s := newFakeServer(t, echo(func(op wire.Opcode, payload []byte) []byte {
		if first.CompareAndSwap(false, true) {
			<-gate
		}
		return echoHandler(op, payload)
	}))
	const limit = 40 // a GET of "key-NN" is a 12-byte frame: three fit
	c := dialFake(t, s, WithMaxInFlightBytes(limit))
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("key-%02d", i)
			v, err := c.Get(context.Background(), key)
			if err != nil || string(v) != key {
				errs <- fmt.Errorf("Get(%q) = %q, %v", key, v, err)
			}
		}()
	}
	// While the server holds the first reply, 3 callers are admitted and 17 wait.
	var inflight, waiting int
	waitFor(t, "17 callers to wait for the cap", func() bool {
		c.mu.Lock()
		inflight, waiting = c.inflight, len(c.capWait)
		c.mu.Unlock()
		if inflight > limit {
			t.Fatalf("%d bytes in flight, over the cap of %d", inflight, limit)
		}
		return waiting == 17
	}, func() string { return fmt.Sprintf("%d waiting, %d bytes in flight", waiting, inflight) })
	// A waiting caller whose context ends leaves the queue without sending.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	if _, err := c.Get(ctx, "gives-up"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get waiting for the cap = %v; want DeadlineExceeded", err)
	}
	cancel()
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// A frame larger than the whole cap is still sent, alone.
	big := bytes.Repeat([]byte("v"), 3*limit)
	if err := c.Set(context.Background(), "big", big, 0); err != nil {
		t.Fatalf("Set of a frame over the cap: %v", err)
	}
	if got := s.requests.Load(); got != 21 {
		t.Fatalf("server saw %d requests, want 21 (the abandoned waiter must not be sent)", got)
	}
}

func TestConnServerClosesMidReply(t *testing.T) {
	held := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(held) }) }
	s := newFakeServer(t, func(op wire.Opcode, payload []byte) ([]byte, bool) {
		if string(payload) == "midway" {
			return valReply([]byte("truncated-value"))[:10], true
		}
		if string(payload) == "hold" {
			<-held
		}
		return echoHandler(op, payload), false
	})
	t.Cleanup(release) // before the server's cleanup
	c := dialFake(t, s)
	// Pipeline a few calls behind one the server holds, then one that will be cut off.
	var wg sync.WaitGroup
	results := make([]error, 6)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 0 {
				_, results[i] = c.Get(context.Background(), "hold")
				return
			}
			key := "midway"
			if i > 1 {
				key = fmt.Sprint("after-", i)
			}
			_, results[i] = c.Get(context.Background(), key)
		}()
		if i == 0 {
			waitFor(t, "the server to hold the first call", func() bool { return s.requests.Load() == 1 })
		}
	}
	waitFor(t, "every call to be queued behind the held one", func() bool { return pushed(c) == 6 })
	release()
	wg.Wait()
	if results[0] != nil {
		t.Fatalf("Get before the break = %v", results[0])
	}
	for i, err := range results[1:] {
		// The callers queued after "midway" may have been answered before it when they
		// overtook it in the queue; every one that failed must fail cleanly.
		if err != nil && !(errors.Is(err, ErrClosed) && strings.Contains(err.Error(), "GET")) {
			t.Errorf("caller %d: %v; want ErrClosed naming GET", i+1, err)
		}
	}
	if results[1] == nil {
		t.Error("the cut-off Get succeeded")
	}
	if !c.Closed() {
		t.Fatal("connection not marked broken")
	}
	if _, err := c.Get(context.Background(), "later"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get on a broken connection = %v; want ErrClosed", err)
	}
}

func TestConnGarbageReply(t *testing.T) {
	s := newFakeServer(t, func(op wire.Opcode, payload []byte) ([]byte, bool) {
		if string(payload) == "garbage" {
			return []byte{99, 0, 0, 1, 0, 0, 0, 0}, false
		}
		return echoHandler(op, payload), false
	})
	c := dialFake(t, s)
	_, err := c.Get(context.Background(), "garbage")
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "GET") {
		t.Fatalf("Get of a garbage reply = %v; want ErrProtocol naming GET", err)
	}
	if !c.Closed() {
		t.Fatal("connection still open after a malformed reply")
	}
	if err := c.Ping(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ping after a malformed reply = %v; want ErrClosed", err)
	}
}

func TestConnUnsolicitedReplyIsProtocolError(t *testing.T) {
	s := newFakeServer(t, func(op wire.Opcode, payload []byte) ([]byte, bool) {
		return append(codeReply(wire.CodeOK), codeReply(wire.CodeOK)...), false
	})
	c := dialFake(t, s)
	err := c.Ping(context.Background())
	// The first OK answers the PING; the second has no request and breaks the connection.
	if err != nil {
		t.Fatalf("Ping = %v", err)
	}
	waitFor(t, "the unsolicited reply to close the connection", c.Closed)
	if err := c.Ping(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ping after an unsolicited reply = %v; want ErrClosed", err)
	}
	c.mu.Lock()
	cause := c.broken
	c.mu.Unlock()
	if cause == nil || cause.kind != ErrProtocol {
		t.Fatalf("broken cause = %+v; want a protocol error", cause)
	}
}

func TestConnEnd(t *testing.T) {
	s := newFakeServer(t, func(op wire.Opcode, payload []byte) ([]byte, bool) {
		return echoHandler(op, payload), op == generated.OpEnd
	})
	c := dialFake(t, s)
	if err := c.End(context.Background()); err != nil {
		t.Fatalf("End = %v", err)
	}
	if !c.Closed() {
		t.Fatal("connection open after End")
	}
	if err := c.Ping(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ping after End = %v; want ErrClosed", err)
	}
	if got := s.requests.Load(); got != 1 {
		t.Fatalf("server saw %d requests, want 1", got)
	}
}

func TestConnMaxRequestSize(t *testing.T) {
	s := newFakeServer(t, echo(echoHandler))
	c := dialFake(t, s, WithMaxRequestSize(100), WithMaxValueSize(1000))
	// Length field = 2 (opcode) + payload; 100 is accepted (inclusive), 101 is not.
	if _, err := c.Do(context.Background(), generated.OpGet, bytes.Repeat([]byte("k"), 98)); err != nil {
		t.Fatalf("Do at exactly max_request_size = %v", err)
	}
	_, err := c.Do(context.Background(), generated.OpGet, bytes.Repeat([]byte("k"), 99))
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "max_request_size") {
		t.Fatalf("Do over max_request_size = %v; want ErrInvalidArgument", err)
	}
	if err := c.Set(context.Background(), "k", bytes.Repeat([]byte("v"), 200), 0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Set over max_request_size = %v; want ErrInvalidArgument", err)
	}
	if got := s.requests.Load(); got != 1 {
		t.Fatalf("server saw %d requests, want 1", got)
	}
	if c.Closed() {
		t.Fatal("refused request broke the connection")
	}
}

func TestConnDo(t *testing.T) {
	s := newFakeServer(t, echo(func(op wire.Opcode, payload []byte) []byte {
		if string(payload) == "missing" {
			return codeReply(wire.CodeNotFound)
		}
		if op == generated.OpInc {
			return numReply(42)
		}
		return echoHandler(op, payload)
	}))
	c := dialFake(t, s)
	ctx := context.Background()
	rep, err := c.Do(ctx, generated.OpGet, []byte("abc"))
	if err != nil || rep.Code != wire.CodeVal || string(rep.Data) != "abc" {
		t.Fatalf("Do(GET abc) = %+v, %v", rep, err)
	}
	rep2, err := c.Do(ctx, generated.OpGet, []byte("xyz"))
	if err != nil || string(rep.Data) != "abc" || string(rep2.Data) != "xyz" {
		t.Fatalf("Do's reply data is not the caller's own copy: %q, %q, %v", rep.Data, rep2.Data, err)
	}
	rep, err = c.Do(ctx, generated.OpGet, []byte("missing"))
	if !errors.Is(err, ErrNotFound) || rep.Code != wire.CodeNotFound || !strings.Contains(err.Error(), "GET") {
		t.Fatalf("Do(GET missing) = %+v, %v; want the NOT_FOUND reply and ErrNotFound", rep, err)
	}
	rep, err = c.Do(ctx, generated.OpInc, []byte("n"))
	if n, _ := rep.Int(); err != nil || n != 42 {
		t.Fatalf("Do(INC) = %+v, %v", rep, err)
	}
	if _, err := c.Do(ctx, 77); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Do with an unknown opcode = %v; want ErrInvalidArgument", err)
	}
	if got := s.requests.Load(); got != 4 {
		t.Fatalf("server saw %d requests, want 4", got)
	}
}

func TestConnClose(t *testing.T) {
	s, _ := newHeldServer(t)
	c := dialFake(t, s)
	done := make(chan error, 1)
	go func() {
		_, err := c.Get(context.Background(), "slow")
		done <- err
	}()
	waitFor(t, "the server to hold the GET", func() bool { return s.requests.Load() == 1 })
	c.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("pending Get when closed = %v; want ErrClosed", err)
	}
	if !c.Closed() {
		t.Fatal("Closed() = false after Close")
	}
	if _, err := c.Get(context.Background(), "k"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close = %v; want ErrClosed", err)
	}
	c.Close() // idempotent
}

func TestDialErrors(t *testing.T) {
	ctx := context.Background()
	for _, a := range []string{"", "ftp://x:1", "no-port", "unix://"} {
		if _, err := DialConn(ctx, a); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("DialConn(%q) = %v; want ErrInvalidArgument", a, err)
		}
		if _, err := Dial(ctx, a); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Dial(%q) = %v; want ErrInvalidArgument", a, err)
		}
		if _, err := NewPool(ctx, a, PoolConfig{}); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("NewPool(%q) = %v; want ErrInvalidArgument", a, err)
		}
	}
	_, err := DialConn(ctx, "/nonexistent/gibson.sock")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/gibson.sock") {
		t.Fatalf("DialConn to a missing socket = %v; want an error naming it", err)
	}
}
