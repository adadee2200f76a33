package main

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// dialOptions are the client options the CLI passes on.
type dialOptions struct {
	warn           io.Writer // told of Ring shards down at start; nil: nobody
	segment        string    // a Ring's RingConfig.Segment
	timeout        time.Duration
	maxKeySize     int
	maxValueSize   int
	maxRequestSize int
}

// dialConn opens one client connection.
func dialConn(ctx context.Context, address string, o dialOptions) (conn, error) {
	opts := []client.Option{client.WithDialTimeout(o.timeout),
		client.WithMaxKeySize(o.maxKeySize),
		client.WithMaxValueSize(o.maxValueSize),
		client.WithMaxRequestSize(o.maxRequestSize)}
	if strings.Contains(address, ",") {
		r, err := ringOf(ctx, address, o.segment, o.warn, append(opts, client.WithPoolSize(1))...)
		if err != nil {
			return nil, err
		}
		return ringConn{r}, nil
	}
	c, err := client.DialConn(ctx, address, opts...)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// defaultBenchConns is the client's default pool size.
const defaultBenchConns = client.DefaultPoolSize

// benchCall sends one request and returns its reply code.
type benchCall func(ctx context.Context, cmd *generated.Command, args [][]byte) (wire.Code, error)

// benchCaller opens the client the bench drives: one client.Client with cfg.conns
// pipelined connections. Requests go through Client.Exec exactly as the typed methods
// send them, minus decoding the reply.
func (a *app) benchCaller(ctx context.Context, cfg benchConfig) (benchCall, func(), error) {
	cl, err := dialBenchClient(ctx, cfg, nil)
	if err != nil {
		return nil, nil, err
	}
	return execCall(cl), func() { a.benchPool = poolStats(cl); _ = cl.Close() }, nil
}

// execCall sends requests on cl through Exec.
func execCall(cl benchClient) benchCall {
	return func(ctx context.Context, cmd *generated.Command, args [][]byte) (wire.Code, error) {
		req := wire.NewRequest(cmd.Op, cmd.Verb, cmd.Flags)
		for _, a := range args {
			req.AppendBytes(a)
		}
		rep, err := cl.Exec(ctx, req)
		if err != nil {
			return 0, err
		}
		code := rep.Code
		req.Release()
		return code, nil
	}
}

// benchClient is what the bench drives: a Client, or a Ring when --addr lists several servers.
type benchClient interface {
	generated.Executor
	Batch() *client.Batch
	Close() error
}

// dialBenchClient dials the bench's client; warn (or nil) is told of Ring shards down at start.
func dialBenchClient(ctx context.Context, cfg benchConfig, warn io.Writer) (benchClient, error) {
	opts := []client.Option{client.WithPoolSize(cfg.conns),
		client.WithMaxKeySize(cfg.lim.MaxKeySize), client.WithMaxValueSize(cfg.lim.MaxValueSize),
		client.WithMaxRequestSize(max(client.DefaultMaxRequestSize, cfg.lim.MaxKeySize+cfg.lim.MaxValueSize+64))}
	if strings.Contains(cfg.addr, ",") {
		return ringOf(ctx, cfg.addr, cfg.segment, warn, opts...)
	}
	return client.Dial(ctx, cfg.addr, opts...)
}

// benchBatch sends reqs (the arguments of one cmd request each) as one batch and stores
// each request's reply code and error in codes and errs, which are as long as reqs.
type benchBatch func(ctx context.Context, cmd *generated.Command, reqs [][][]byte, codes []wire.Code, errs []error)

// benchBatcher opens the client of gibson bench -P: as benchCaller's, and a factory of
// batch senders, one per caller since a client.Batch is not safe for concurrent use.
func (a *app) benchBatcher(ctx context.Context, cfg benchConfig) (func() benchBatch, func(), error) {
	cl, err := dialBenchClient(ctx, cfg, nil)
	if err != nil {
		return nil, nil, err
	}
	newBatch := func() benchBatch {
		b := cl.Batch()
		var hs []*client.ReplyHandle
		return func(ctx context.Context, cmd *generated.Command, reqs [][][]byte, codes []wire.Code, errs []error) {
			b.Reset()
			hs = hs[:0]
			for _, args := range reqs {
				hs = append(hs, b.Do(cmd.Op, args...))
			}
			_ = b.Exec(ctx) // a failed run's error is in every unanswered handle
			for i, h := range hs {
				rep, err := h.Result()
				codes[i], errs[i] = rep.Code, err
			}
		}
	}
	return newBatch, func() { a.benchPool = poolStats(cl); _ = cl.Close() }, nil
}

// batchOf returns a new batch on c, or nil when c (a test's stand-in) has none.
func batchOf(c conn) *client.Batch {
	if bc, ok := c.(interface{ Batch() *client.Batch }); ok {
		return bc.Batch()
	}
	return nil
}

// poolStats returns cl's PoolStats, or nil for a client without them (a Ring: its shards
// have theirs).
func poolStats(cl benchClient) *client.PoolStats {
	if ps, ok := cl.(interface{ PoolStats() client.PoolStats }); ok {
		st := ps.PoolStats()
		return &st
	}
	return nil
}
