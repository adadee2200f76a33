package main

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/gogibson/gogibson/internal/addr"
	"github.com/gogibson/gogibson/wire"
)

// maxRawInFlight caps unanswered request bytes per connection, as the client does, so a
// full socket buffer never splits a length field (the server mishandles that, docs/protocol.md §2.3).
const maxRawInFlight = 64 << 10

// benchRaw is the ceiling: cfg.conns connections, each keeping up to callers/conns
// precomputed frames in flight, written in batches and answered replies skipped with
// wire.Reader. It measures what the transport and the server allow without the client;
// replies that are errors are counted, not timed.
func benchRaw(ctx context.Context, cfg benchConfig, w *workload, counts *benchCounts) (histogram, reasons, time.Duration, error) {
	network, address, err := addr.Parse(cfg.addr)
	if err != nil {
		return histogram{}, nil, 0, err
	}
	// As many connections as there are callers at most, the callers spread over them: each
	// connection keeps its callers' worth of requests in flight and sends its share of them.
	active := min(cfg.conns, cfg.callers)
	conns := make([]net.Conn, 0, active)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	var d net.Dialer
	for range active {
		c, err := d.DialContext(ctx, network, address)
		if err != nil {
			return histogram{}, nil, 0, err
		}
		conns = append(conns, c)
	}
	maxFrame := 0
	for _, f := range w.frames {
		maxFrame = max(maxFrame, len(f))
	}
	hists := make([]histogram, active)
	errs := make([]reasons, active)
	fails := make([]error, active)
	var wg sync.WaitGroup
	start := time.Now()
	offset, assigned, callersLeft := 0, 0, 0
	for i, c := range conns {
		window := cfg.callers / active
		if i < cfg.callers%active {
			window++
		}
		callersLeft += window
		quota := cfg.requests*callersLeft/cfg.callers - assigned
		assigned += quota
		// -P: the connection's callers' batches together, one synchronous round at a time.
		round := max(1, min(window*cfg.pipeline, maxRawInFlight/maxFrame))
		window = max(1, min(window, maxRawInFlight/maxFrame))
		wg.Add(1)
		go func(i, offset, quota, window int) {
			defer wg.Done()
			if cfg.pipeline > 1 {
				errs[i], fails[i] = rawRounds(c, w, offset, quota, round, &hists[i], counts)
				return
			}
			errs[i], fails[i] = rawConn(c, w, offset, quota, window, &hists[i], counts)
		}(i, offset, quota, window)
		offset += quota
	}
	wg.Wait()
	elapsed := time.Since(start)
	total, all := mergeResults(hists, errs)
	return total, all, elapsed, errors.Join(fails...)
}

// rawConn sends quota frames on c, at most window unanswered, and reads their replies.
func rawConn(c net.Conn, w *workload, offset, quota, window int, h *histogram, counts *benchCounts) (reasons, error) {
	if window == 1 {
		return rawRounds(c, w, offset, quota, 1, h, counts)
	}
	tokens := make(chan struct{}, window)
	for range window {
		tokens <- struct{}{}
	}
	sent := make(chan time.Time, window)
	quit := make(chan struct{})
	writeErr := make(chan error, 1)
	go func() {
		writeErr <- rawWriter(c, w, offset, quota, tokens, sent, quit)
	}()
	var r wire.Reader
	var nerr reasons
	var err error
	for got := 0; got < quota; {
		rep, ok, e := r.Next()
		if e != nil {
			err = e
			break
		}
		if !ok {
			if _, e := r.Fill(c); e != nil {
				err = e
				break
			}
			continue
		}
		d := time.Since(<-sent)
		if failedReply(rep.Code, nil) {
			nerr.add(codeReason(rep.Code))
			counts.failed.Add(1)
		} else {
			h.record(d)
		}
		tokens <- struct{}{}
		got++
		counts.done.Add(1)
	}
	close(quit)
	if err != nil {
		_ = c.Close() // unblocks the writer
	}
	return nerr, errors.Join(err, <-writeErr)
}

// rawRounds sends quota frames on c in synchronous rounds of up to round frames: one
// write, then all their replies read, each recorded with the round's round trip. One
// goroutine does both, so the sequential ceiling (rounds of one) pays no hand-off between
// a writer and a reader.
func rawRounds(c net.Conn, w *workload, offset, quota, round int, h *histogram, counts *benchCounts) (reasons, error) {
	var r wire.Reader
	var nerr reasons
	var buf []byte
	for i := 0; i < quota; {
		n := min(round, quota-i)
		out := w.frames[(offset+i)%len(w.frames)]
		if n > 1 {
			buf = buf[:0]
			for j := range n {
				buf = append(buf, w.frames[(offset+i+j)%len(w.frames)]...)
			}
			out = buf
		}
		start := time.Now()
		if _, err := c.Write(out); err != nil {
			return nerr, err
		}
		for got := 0; got < n; {
			rep, ok, err := r.Next()
			if err != nil {
				return nerr, err
			}
			if !ok {
				if _, err := r.Fill(c); err != nil {
					return nerr, err
				}
				continue
			}
			if failedReply(rep.Code, nil) {
				nerr.add(codeReason(rep.Code))
				counts.failed.Add(1)
			} else {
				h.record(time.Since(start))
			}
			got++
		}
		counts.done.Add(int64(n))
		i += n
	}
	return nerr, nil
}

// rawWriter writes frames as tokens free up, batching every frame it may send at once.
func rawWriter(c net.Conn, w *workload, offset, quota int, tokens <-chan struct{}, sent chan<- time.Time, quit <-chan struct{}) error {
	var buf []byte
	for i := 0; i < quota; {
		select {
		case <-tokens:
		case <-quit:
			return nil
		}
		now := time.Now()
		buf = append(buf[:0], w.frames[(offset+i)%len(w.frames)]...)
		sent <- now
		i++
	batch:
		for i < quota {
			select {
			case <-tokens:
				buf = append(buf, w.frames[(offset+i)%len(w.frames)]...)
				sent <- now
				i++
			default:
				break batch
			}
		}
		if _, err := c.Write(buf); err != nil {
			return err
		}
	}
	return nil
}
