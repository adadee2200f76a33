package client

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// Batch benchmarks: b.N counts GETs, run as synchronous batches of batchSize. Compare each
// Batch* with the Raw* of the same shape in the same run: RawBatch* writes batchSize
// precomputed frames in one write and reads their replies with wire.Reader, on one
// connection per goroutine.

const batchSize = 64

// BenchmarkBatchParallel: 4 goroutines, each running batches of 64 GETs on one Client (its
// default 4 connections).
func BenchmarkBatchParallel(b *testing.B) {
	c := dialClient(b, benchAddr(b))
	benchBatches(b, DefaultPoolSize, func() *Batch { return c.Batch() })
}

// BenchmarkBatchParallelAppendTo is BenchmarkBatchParallel reading the values with
// ValueHandle.AppendTo into a reused buffer: no allocation per value.
func BenchmarkBatchParallelAppendTo(b *testing.B) {
	c := dialClient(b, benchAddr(b))
	benchBatchesRead(b, DefaultPoolSize, func() *Batch { return c.Batch() }, true)
}

// BenchmarkBatchOneConn: one goroutine running batches of 64 GETs on one Conn.
func BenchmarkBatchOneConn(b *testing.B) {
	cn, err := DialConn(context.Background(), benchAddr(b))
	if err != nil {
		b.Fatal(err)
	}
	defer cn.Close()
	benchBatches(b, 1, cn.Batch)
}

// BenchmarkRawBatchParallel: the ceiling for BatchParallel: 4 connections, each a goroutine
// writing 64 frames and reading 64 replies in lock step.
func BenchmarkRawBatchParallel(b *testing.B) { benchRawBatches(b, DefaultPoolSize) }

// BenchmarkRawBatchOneConn: the ceiling for BatchOneConn.
func BenchmarkRawBatchOneConn(b *testing.B) { benchRawBatches(b, 1) }

func benchBatches(b *testing.B, goroutines int, newBatch func() *Batch) {
	benchBatchesRead(b, goroutines, newBatch, false)
}

// benchBatchesRead runs the batches, reading each value with Result, or with AppendTo into
// a buffer reused from one batch to the next.
func benchBatchesRead(b *testing.B, goroutines int, newBatch func() *Batch, appendTo bool) {
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b)()
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bt := newBatch()
			hs := make([]*ValueHandle, 0, batchSize)
			var buf []byte
			for left.Add(-batchSize) > -batchSize {
				bt.Reset()
				hs = hs[:0]
				for range batchSize {
					hs = append(hs, bt.Get(benchKey))
				}
				if err := bt.Exec(context.Background()); err != nil {
					b.Error(err)
					return
				}
				buf = buf[:0]
				for _, h := range hs {
					if appendTo {
						var err error
						if buf, err = h.AppendTo(buf); err != nil {
							b.Error(err)
							return
						}
						continue
					}
					if v, err := h.Result(); err != nil || len(v) != len(benchValue) {
						b.Error(v, err)
						return
					}
				}
				if appendTo && len(buf) != batchSize*len(benchValue) {
					b.Errorf("read %d bytes of values; want %d", len(buf), batchSize*len(benchValue))
					return
				}
			}
		}()
	}
	wg.Wait()
}

func benchRawBatches(b *testing.B, conns int) {
	frame := wire.AppendRequest(nil, generated.OpGet, []byte(benchKey))
	var batch []byte
	for range batchSize {
		batch = append(batch, frame...)
	}
	onRawConns(b, conns, func(nc net.Conn, left *atomic.Int64) {
		var rd wire.Reader
		for left.Add(-batchSize) > -batchSize {
			if _, err := nc.Write(batch); err != nil {
				b.Error(err)
				return
			}
			for got := 0; got < batchSize; {
				if err := readReplies(&rd, nc, func() { got++ }); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
}
