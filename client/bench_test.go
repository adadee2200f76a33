package client

import (
	"context"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/internal/addr"
	"github.com/gogibson/gogibson/wire"
)

// The benchmarks run against the embedded server in this process, so client and server
// share the CPUs, or against the server at GIBSON_BENCH_ADDR when it is set (a real
// Gibson; the key benchKey is overwritten there). Compare Client* with Raw* of the same run
// as ratios: ClientParallel/RawParallel is the pipelining efficiency,
// ClientSequential/RawSequential the per-call overhead.

const benchParallelism = 16

var benchValue = []byte("0123456789abcdef0123456789abcdef")

const benchKey = "gogibson:client:bench"

// benchAddr returns the address to benchmark against, with benchKey holding benchValue.
func benchAddr(b *testing.B) string {
	if a := os.Getenv("GIBSON_BENCH_ADDR"); a != "" {
		c := dialClient(b, a)
		if err := c.Set(context.Background(), benchKey, benchValue, 0); err != nil {
			b.Fatal(err)
		}
		return a
	}
	s := gibsontest.NewServer(b)
	s.Set(benchKey, benchValue, 0)
	return s.Addr()
}

func BenchmarkClientParallel(b *testing.B) { benchClientParallel(b, DefaultPoolSize) }

// BenchmarkClientParallelOneConn is BenchmarkClientParallel on one connection, where the
// frames of all callers share each write. Compare it with BenchmarkRawParallelOneConn and
// BenchmarkParkWake.
func BenchmarkClientParallelOneConn(b *testing.B) { benchClientParallel(b, 1) }

// benchClientParallel runs GETs from many goroutines on a Client with conns connections.
func benchClientParallel(b *testing.B, conns int) {
	c := dialClient(b, benchAddr(b), WithPoolSize(conns))
	b.ReportAllocs()
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := c.Get(ctx, benchKey); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRawParallel is the ceiling for BenchmarkClientParallel: no client library, just
// precomputed GET frames written on as many connections as the Client uses, with as many
// requests outstanding in total as the Client benchmark has goroutines, and replies skipped
// with wire.Reader.
func BenchmarkRawParallel(b *testing.B) { benchRawParallel(b, DefaultPoolSize) }

// BenchmarkRawParallelOneConn is the ceiling for BenchmarkClientParallelOneConn.
func BenchmarkRawParallelOneConn(b *testing.B) { benchRawParallel(b, 1) }

// benchRawParallel blasts GET frames on conns connections.
func benchRawParallel(b *testing.B, conns int) {
	window := max(1, benchParallelism*runtime.GOMAXPROCS(0)/conns)
	frame := wire.AppendRequest(nil, generated.OpGet, []byte(benchKey))
	onRawConns(b, conns, func(nc net.Conn, left *atomic.Int64) {
		rawPipeline(b, nc, frame, window, left)
	})
}

// onRawConns dials conns raw connections to the benchmark's server, then runs f on each in
// its own goroutine, timed, with left holding the b.N requests they share.
func onRawConns(b *testing.B, conns int, f func(nc net.Conn, left *atomic.Int64)) {
	a := benchAddr(b)
	ncs := make([]net.Conn, conns)
	for i := range ncs {
		ncs[i] = rawDial(b, a)
	}
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b)()
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	for _, nc := range ncs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(nc, &left)
		}()
	}
	wg.Wait()
}

// rawPipeline sends frames while fewer than window are unanswered and claims requests
// from left until none remain.
func rawPipeline(b *testing.B, nc net.Conn, frame []byte, window int, left *atomic.Int64) {
	tokens := make(chan struct{}, window)
	sent := make(chan int, window)
	done := make(chan struct{})
	go func() { // reader
		defer close(done)
		var rd wire.Reader
		outstanding := 0 // replies expected; negative while a write's count is still in sent
		for {
			for outstanding <= 0 {
				n, ok := <-sent
				if !ok {
					return
				}
				outstanding += n
			}
		drain:
			for {
				select {
				case n, ok := <-sent:
					if !ok {
						break drain
					}
					outstanding += n
				default:
					break drain
				}
			}
			if err := readReplies(&rd, nc, func() {
				outstanding--
				<-tokens
			}); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	batch := make([]byte, 0, window*len(frame))
	for {
		// Take at least one token, then as many more as are free, as one write.
		tokens <- struct{}{}
		n := 1
	more:
		for n < window {
			select {
			case tokens <- struct{}{}:
				n++
			default:
				break more
			}
		}
		if rem := left.Add(-int64(n)); rem < 0 {
			unclaimed := int(min(-rem, int64(n)))
			for range unclaimed {
				<-tokens // give back tokens of requests that will not be sent
			}
			n -= unclaimed
		}
		if n == 0 {
			break
		}
		batch = batch[:0]
		for range n {
			batch = append(batch, frame...)
		}
		sent <- n
		if _, err := nc.Write(batch); err != nil {
			b.Error(err)
			break
		}
	}
	close(sent)
	<-done
}

func BenchmarkClientSequential(b *testing.B) { benchGets(b, context.Background()) }

// BenchmarkClientSequentialTimeout is BenchmarkClientSequential with a context that has a
// deadline, as most callers pass: the lone caller then bounds its read with a deadline.
func BenchmarkClientSequentialTimeout(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	benchGets(b, ctx)
}

// benchGets runs b.N GETs one after another on a Client.
func benchGets(b *testing.B, ctx context.Context) {
	c := dialClient(b, benchAddr(b))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.Get(ctx, benchKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawSequential is the ceiling for BenchmarkClientSequential: one precomputed GET
// frame written and its reply read, per round trip.
func BenchmarkRawSequential(b *testing.B) {
	nc := rawDial(b, benchAddr(b))
	frame := wire.AppendRequest(nil, generated.OpGet, []byte(benchKey))
	var rd wire.Reader
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := nc.Write(frame); err != nil {
			b.Fatal(err)
		}
		for {
			_, ok, err := rd.Next()
			if err != nil {
				b.Fatal(err)
			}
			if ok {
				break
			}
			if _, err := rd.Fill(nc); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkGet(b *testing.B) { benchGets(b, context.Background()) }

func BenchmarkSet(b *testing.B) {
	c := dialClient(b, benchAddr(b))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := c.Set(ctx, benchKey, benchValue, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// readReplies reads what nc has (blocking until something arrives) and calls reply once per
// complete reply, skipping its contents.
func readReplies(rd *wire.Reader, nc net.Conn, reply func()) error {
	if _, err := rd.Fill(nc); err != nil {
		return err
	}
	for {
		_, ok, err := rd.Next()
		if err != nil || !ok {
			return err
		}
		reply()
	}
}

func rawDial(b *testing.B, address string) net.Conn {
	network, a, err := addr.Parse(address)
	if err != nil {
		b.Fatal(err)
	}
	nc, err := net.Dial(network, a)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { nc.Close() })
	return nc
}

// BenchmarkRawSequentialHandoff is a control for BenchmarkClientSequential: the raw round
// trip of BenchmarkRawSequential plus a reader goroutine that hands each reply to the
// waiting caller over a channel. It is what a lone caller would pay if a background reader
// completed it — as it does on connections that cannot be peeked (see WithDialer) — and why
// a lone caller on a plain socket reads its own reply instead.
func BenchmarkRawSequentialHandoff(b *testing.B) {
	nc := rawDial(b, benchAddr(b))
	frame := wire.AppendRequest(nil, generated.OpGet, []byte(benchKey))
	done := make(chan struct{}, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		var rd wire.Reader
		for readReplies(&rd, nc, func() { done <- struct{}{} }) == nil {
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := nc.Write(frame); err != nil {
			b.Fatal(err)
		}
		<-done
	}
	b.StopTimer()
	nc.Close()
	<-exited
}

// BenchmarkRawParallelHandoff is a control for BenchmarkClientParallel: the smallest
// synchronous pipelined client we could write, with none of the library's features (no
// contexts, limits, validation, errors or typed results). As in BenchmarkRawParallel,
// precomputed GET frames go over DefaultPoolSize connections with a writer and a reader
// goroutine each; but each request is made by one of the benchmark's goroutines, which
// queues its frame and waits on a channel until the reader hands it its reply. It shows
// what the straightforward synchronous design costs (the Client does better: a caller
// reads the replies itself when nobody is reading, its flusher lets the callers woken
// together queue before it writes, and they return to the same connection);
// BenchmarkParkWake isolates the part no synchronous design avoids, one park and wake-up
// per call.
func BenchmarkRawParallelHandoff(b *testing.B) {
	a := benchAddr(b)
	frame := wire.AppendRequest(nil, generated.OpGet, []byte(benchKey))
	pipes := make([]*handoffPipe, DefaultPoolSize)
	for i := range pipes {
		pipes[i] = startHandoffPipe(b, rawDial(b, a))
	}
	var next atomic.Uint32
	b.ReportAllocs()
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	stopCPU := reportCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		p := pipes[int(next.Add(1))%len(pipes)]
		done := make(chan struct{}, 1)
		for pb.Next() {
			p.call(frame, done)
			<-done
		}
	})
	stopCPU()
	b.StopTimer()
	for _, p := range pipes {
		p.stop()
	}
}

// handoffPipe is one connection of BenchmarkRawParallelHandoff. If the connection fails
// during the run, the benchmark fails and every caller is released, so nothing hangs.
type handoffPipe struct {
	nc       net.Conn
	mu       sync.Mutex
	pending  []byte          // frames not yet written
	waiting  []chan struct{} // callers in the order of their frames, from head on
	head     int
	dead     bool          // the reader has exited: calls return at once
	flush    chan struct{} // wakes the writer; capacity 1
	stopping atomic.Bool
	exited   sync.WaitGroup
}

func startHandoffPipe(b *testing.B, nc net.Conn) *handoffPipe {
	p := &handoffPipe{nc: nc, flush: make(chan struct{}, 1)}
	p.exited.Add(2)
	go func() { // writer: everything queued since its last write, in one write
		defer p.exited.Done()
		var out []byte
		for range p.flush {
			p.mu.Lock()
			out, p.pending = p.pending, out[:0]
			p.mu.Unlock()
			if _, err := nc.Write(out); err != nil {
				nc.Close() // the reader reports it
				return
			}
		}
	}()
	go func() { // reader: completes callers in order
		defer p.exited.Done()
		defer p.release()
		var rd wire.Reader
		for {
			if err := readReplies(&rd, nc, p.complete); err != nil {
				if !p.stopping.Load() {
					b.Error(err)
				}
				return
			}
		}
	}()
	return p
}

func (p *handoffPipe) call(frame []byte, done chan struct{}) {
	p.mu.Lock()
	if p.dead {
		p.mu.Unlock()
		done <- struct{}{}
		return
	}
	p.pending = append(p.pending, frame...)
	p.waiting = append(p.waiting, done)
	p.mu.Unlock()
	select {
	case p.flush <- struct{}{}:
	default:
	}
}

// complete hands the next reply to the caller that has waited longest.
func (p *handoffPipe) complete() {
	p.mu.Lock()
	done := p.waiting[p.head]
	if p.head++; p.head == len(p.waiting) {
		p.waiting, p.head = p.waiting[:0], 0
	}
	p.mu.Unlock()
	done <- struct{}{}
}

// release completes every waiting caller when the reader exits.
func (p *handoffPipe) release() {
	p.mu.Lock()
	p.dead = true
	for _, done := range p.waiting[p.head:] {
		done <- struct{}{}
	}
	p.waiting, p.head = nil, 0
	p.mu.Unlock()
}

func (p *handoffPipe) stop() {
	p.stopping.Store(true)
	close(p.flush)
	p.nc.Close()
	p.exited.Wait()
}

// BenchmarkParkWake is the floor under BenchmarkRawParallelHandoff and
// BenchmarkClientParallel: no I/O at all. The benchmark's goroutines queue a call each and
// wait on a channel; one goroutine takes every queued call at once and completes them in
// order, as a connection's reader does. Its cpu-ns/op is what parking and waking one
// goroutine per call costs on this machine, which any synchronous API pays per call and a
// raw blaster does not.
func BenchmarkParkWake(b *testing.B) {
	var mu sync.Mutex
	var queued []chan struct{}
	wake := make(chan struct{}, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		var batch []chan struct{}
		for range wake {
			mu.Lock()
			batch, queued = queued, batch[:0]
			mu.Unlock()
			for _, done := range batch {
				done <- struct{}{}
			}
		}
	}()
	b.ReportAllocs()
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	stopCPU := reportCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		done := make(chan struct{}, 1)
		for pb.Next() {
			mu.Lock()
			queued = append(queued, done)
			mu.Unlock()
			select {
			case wake <- struct{}{}:
			default:
			}
			<-done
		}
	})
	stopCPU()
	close(wake)
	<-exited
}
