package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/wire"
)

// batchTargets runs f with a Batch factory over a Conn and over a Client, on each transport.
func batchTargets(t *testing.T, f func(t *testing.T, s *gibsontest.Server, newBatch func(...Option) *Batch)) {
	transports(t, func(t *testing.T, s *gibsontest.Server) {
		t.Run("Conn", func(t *testing.T) {
			f(t, s, func(opts ...Option) *Batch { return dialConn(t, s.Addr(), opts...).Batch() })
		})
		t.Run("Client", func(t *testing.T) {
			f(t, s, func(opts ...Option) *Batch { return dialClient(t, s.Addr(), opts...).Batch() })
		})
	})
}

// Successes and per-handle errors side by side: each handle gets what the typed method
// would have returned, and an invalid command fails alone, unsent.
func TestBatchMixedResults(t *testing.T) {
	batchTargets(t, func(t *testing.T, s *gibsontest.Server, newBatch func(...Option) *Batch) {
		ctx := context.Background()
		c := dialConn(t, s.Addr())
		c.MUnlock(ctx, "b:") // the Conn and Client runs share the server
		c.MDelete(ctx, "b:")
		if err := c.Set(ctx, "b:text", []byte("hello"), 0); err != nil {
			t.Fatal(err)
		}
		if err := c.Set(ctx, "b:locked", []byte("x"), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Lock(ctx, "b:locked", time.Minute); err != nil {
			t.Fatal(err)
		}
		before := s.Requests()

		b := newBatch()
		set := b.Set("b:one", []byte("1"), 0)
		get := b.Get("b:one")
		miss := b.Get("b:absent")
		inc := b.Inc("b:one")
		nan := b.Inc("b:text")
		locked := b.Set("b:locked", []byte("y"), 0)
		bad := b.Get("has space")
		end := b.End()
		mget := b.MGet("b:o", 0)
		keys := b.Keys("b:o")
		count := b.Count("b:")
		size := b.MetaSize("b:text")
		ping := b.Ping()
		stats := b.Stats()
		if b.Len() != 12 {
			t.Fatalf("Len = %d; want 12 (the invalid GET and END are not queued)", b.Len())
		}
		if _, err := get.Result(); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "Exec") {
			t.Fatalf("Result before Exec = %v; want ErrInvalidArgument saying to call Exec", err)
		}
		if _, err := bad.Result(); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("invalid key, before Exec = %v; want ErrInvalidArgument at once", err)
		}
		if err := b.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if n := s.Requests() - before; n != 12 {
			t.Fatalf("server saw %d requests; want 12", n)
		}
		check := func(what string, ok bool, got ...any) {
			t.Helper()
			if !ok {
				t.Errorf("%s: got %v", what, got)
			}
		}
		err := set.Err()
		check("Set", err == nil, err)
		v, err := get.Result()
		check("Get", err == nil && string(v) == "1", string(v), err)
		_, err = miss.Result()
		check("Get absent", errors.Is(err, ErrNotFound), err)
		n, err := inc.Result()
		check("Inc", err == nil && n == 2, n, err)
		_, err = nan.Result()
		check("Inc of text", errors.Is(err, ErrNaN), err)
		err = locked.Err()
		check("Set of a locked key", errors.Is(err, ErrLocked), err)
		_, err = bad.Result()
		check("Get with a space", errors.Is(err, ErrInvalidArgument), err)
		err = end.Err()
		check("End", errors.Is(err, ErrInvalidArgument), err)
		kvs, err := mget.Result()
		check("MGet", err == nil && len(kvs) == 1 && kvs[0].Key == "b:one" && string(kvs[0].Value) == "2", kvs, err)
		ks, err := keys.Result()
		check("Keys", err == nil && len(ks) == 1 && ks[0] == "b:one", ks, err)
		cnt, err := count.Result()
		check("Count", err == nil && cnt == 3, cnt, err)
		sz, err := size.Result()
		check("MetaSize", err == nil && sz == 5, sz, err)
		err = ping.Err()
		check("Ping", err == nil, err)
		st, err := stats.Result()
		check("Stats", err == nil && st.TotalItems == 3, st.TotalItems, err)

		if err := b.Exec(ctx); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("Exec twice = %v; want ErrInvalidArgument", err)
		}
		if err := b.Ping().Err(); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("queuing after Exec = %v; want ErrInvalidArgument", err)
		}
		b.Reset()
		again := b.Get("b:one")
		if err := b.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if v, err := again.Result(); err != nil || string(v) != "2" {
			t.Fatalf("after Reset: Get = %q, %v", v, err)
		}
	})
}

// A batch far larger than the in-flight cap is streamed in chunks and every reply reaches
// its own handle.
func TestBatchLargerThanCap(t *testing.T) {
	batchTargets(t, func(t *testing.T, s *gibsontest.Server, newBatch func(...Option) *Batch) {
		ctx := context.Background()
		b := newBatch(WithMaxInFlightBytes(300))
		const n = 2000
		sets := make([]*StoredHandle, n)
		for i := range n {
			sets[i] = b.Set(fmt.Sprint("big:", i), []byte(fmt.Sprint("value-", i)), 0)
		}
		if err := b.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for i, h := range sets {
			if err := h.Err(); err != nil {
				t.Fatalf("Set %d: %v", i, err)
			}
		}
		b.Reset()
		gets := make([]*ValueHandle, n)
		for i := range n {
			gets[i] = b.Get(fmt.Sprint("big:", i))
		}
		if err := b.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for i, h := range gets {
			if v, err := h.Result(); err != nil || string(v) != fmt.Sprint("value-", i) {
				t.Fatalf("Get %d = %q, %v", i, v, err)
			}
		}
	})
}

// A batch whose context ends while its replies are delayed returns the context's error in
// every handle; the next callers on the same connection get their own replies.
func TestBatchCancelledMidway(t *testing.T) {
	transports(t, func(t *testing.T, s *gibsontest.Server) {
		c := dialConn(t, s.Addr(), WithMaxInFlightBytes(200))
		ctx := context.Background()
		for i := range 50 {
			c.Set(ctx, fmt.Sprint("c:", i), []byte(fmt.Sprint(i)), 0)
		}
		s.SetReplyDelay(30 * time.Millisecond)
		b := c.Batch()
		var hs []*ValueHandle
		for i := range 50 {
			hs = append(hs, b.Get(fmt.Sprint("c:", i)))
		}
		tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		if err := b.Exec(tctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Exec = %v; want context.DeadlineExceeded", err)
		}
		for i, h := range hs {
			if _, err := h.Result(); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("handle %d = %v; want context.DeadlineExceeded", i, err)
			}
		}
		s.SetReplyDelay(0)
		for i := range 50 {
			if v, err := c.Get(ctx, fmt.Sprint("c:", i)); err != nil || string(v) != fmt.Sprint(i) {
				t.Fatalf("Get %d after the cancelled batch = %q, %v", i, v, err)
			}
		}
	})
}

// Faults mid-batch: every handle ends with a result or a clear error, nothing hangs, and
// the Client recovers for the next batch.
func TestBatchFaults(t *testing.T) {
	transports(t, func(t *testing.T, s *gibsontest.Server) {
		ctx := context.Background()
		c := dialClient(t, s.Addr(), WithPoolSize(1), WithRedialBackoff(time.Millisecond, time.Millisecond))
		c.Set(ctx, "f:k", []byte("v"), 0)
		run := func(what string, fault func()) error {
			t.Helper()
			b := c.Batch()
			var hs []*ValueHandle
			for range 20 {
				hs = append(hs, b.Get("f:k"))
			}
			inc := b.Inc("f:n")
			fault()
			tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			err := b.Exec(tctx)
			for i, h := range hs {
				v, herr := h.Result()
				if herr == nil && string(v) != "v" {
					t.Fatalf("%s: handle %d = %q; want \"v\" or an error", what, i, v)
				}
				if herr != nil && err == nil {
					t.Fatalf("%s: handle %d failed (%v) but Exec reported nothing", what, i, herr)
				}
			}
			if _, ierr := inc.Result(); err != nil && ierr == nil {
				t.Fatalf("%s: the last command succeeded although Exec failed with %v", what, err)
			}
			return err
		}
		if err := run("reply cut midway", s.FailNextReplyMidway); !errors.Is(err, ErrClosed) {
			t.Fatalf("reply cut midway: Exec = %v; want ErrClosed", err)
		}
		if err := run("garbage", s.GarbleNextReply); !errors.Is(err, ErrProtocol) {
			t.Fatalf("garbage: Exec = %v; want ErrProtocol", err)
		}
		restart := func() {
			s.Restart() // a new, empty store; the Client's connection is gone
			if err := dialConn(t, s.Addr()).Set(ctx, "f:k", []byte("v"), 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := run("server restart", restart); err != nil {
			t.Fatalf("after a restart the batch goes to a new connection; Exec = %v", err)
		}
		if err := run("no fault", func() {}); err != nil {
			t.Fatal(err)
		}
	})
}

// Batches and single calls mixed on one Client from many goroutines: every reply reaches
// its own handle or caller (run with -race).
func TestBatchConcurrentWithCalls(t *testing.T) {
	s := gibsontest.NewServer(t)
	c := dialClient(t, s.Addr(), WithPoolSize(2), WithMaxInFlightBytes(512))
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := c.Batch()
			for round := range 30 {
				b.Reset()
				var hs []*ValueHandle
				for i := range 20 {
					key := fmt.Sprint("m:", g, ":", i)
					b.Set(key, []byte(fmt.Sprint(round, "-", i)), 0)
					hs = append(hs, b.Get(key))
				}
				if err := b.Exec(ctx); err != nil {
					errs <- err
					return
				}
				for i, h := range hs {
					if v, err := h.Result(); err != nil || string(v) != fmt.Sprint(round, "-", i) {
						errs <- fmt.Errorf("goroutine %d round %d handle %d: %q, %v", g, round, i, v, err)
						return
					}
				}
				key := fmt.Sprint("single:", g)
				if err := c.Set(ctx, key, []byte(fmt.Sprint(round)), 0); err != nil {
					errs <- err
					return
				}
				if v, err := c.Get(ctx, key); err != nil || string(v) != fmt.Sprint(round) {
					errs <- fmt.Errorf("single call: %q, %v", v, err)
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
}

// A batch sends exactly the frames the typed methods send, back to back.
func TestBatchFramesMatchTypedCalls(t *testing.T) {
	var sent [][]byte
	s := newFakeServer(t, func(op wire.Opcode, payload []byte) ([]byte, bool) {
		sent = append(sent, wire.AppendRequest(nil, op, payload))
		return codeReply(wire.CodeOK), false
	})
	c := dialFake(t, s)
	ctx := context.Background()
	c.Set(ctx, "k", []byte("v w"), time.Second)
	c.MGet(ctx, "p", 3)
	c.MetaLeft(ctx, "k")
	typed := append([][]byte(nil), sent...)
	sent = nil
	b := c.Batch()
	b.Set("k", []byte("v w"), time.Second)
	b.MGet("p", 3)
	b.MetaLeft("k")
	b.Exec(ctx)
	if fmt.Sprint(sent) != fmt.Sprint(typed) {
		t.Fatalf("batch frames %q; typed calls sent %q", sent, typed)
	}
}
