//lint:file-ignore SA4006 a compile-only contract: each value is assigned only to fix its type.

package client_test

import (
	"context"
	"errors"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/wire"
)

// apiContract is never run: it exists so that renaming or retyping any name of the public
// API in README.md, "Using the client" (which outside tests are written against) breaks the build of this
// package's tests.
var _ = apiContract

func apiContract(ctx context.Context) {
	c, _ := client.Dial(ctx, "unix:///var/run/gibson.sock", client.WithMaxKeySize(1), client.WithMaxValueSize(1), client.WithDialTimeout(time.Second), client.WithPoolSize(1))
	defer c.Close()
	var err error = c.Set(ctx, "k", []byte("v"), 0)
	var v []byte
	v, err = c.Get(ctx, "k")
	_ = errors.Is(err, client.ErrNotFound)
	var b bool
	b, err = c.Delete(ctx, "k")
	b, err = c.TTL(ctx, "k", time.Second)
	var n int64
	n, err = c.Inc(ctx, "k")
	n, err = c.Dec(ctx, "k")
	b, err = c.Lock(ctx, "k", client.LockForever)
	b, err = c.Unlock(ctx, "k")
	n, err = c.MSet(ctx, "p", []byte("v"))
	n, err = c.MTTL(ctx, "p", time.Second)
	var kvs []client.KV
	kvs, err = c.MGet(ctx, "p", 0)
	n, err = c.MDelete(ctx, "p")
	n, err = c.MInc(ctx, "p")
	n, err = c.MDec(ctx, "p")
	n, err = c.MUnlock(ctx, "p")
	n, err = c.MLock(ctx, "p", time.Second)
	n, err = c.Count(ctx, "p")
	var ks []string
	ks, err = c.Keys(ctx, "p")
	var st client.Stats
	st, err = c.Stats(ctx)
	_ = st.ServerVersion + st.MemoryFragmentation
	_ = st.TotalItems + st.TotalRequests
	_ = st.All
	err = c.Ping(ctx)
	n, err = c.MetaSize(ctx, "k")
	n, err = c.MetaEncoding(ctx, "k")
	n, err = c.MetaAccess(ctx, "k")
	n, err = c.MetaCreated(ctx, "k")
	n, err = c.MetaTTL(ctx, "k")
	n, err = c.MetaLeft(ctx, "k")
	n, err = c.MetaLock(ctx, "k")
	err = c.End(ctx)
	kv := client.KV{Key: "k", Value: []byte("v")}
	_ = kv
	cn, _ := client.DialConn(ctx, "/x.sock")
	var rep wire.Reply
	rep, err = cn.Do(ctx, wire.Opcode(3), []byte("k"))
	_ = rep.Code == wire.CodeVal && rep.Encoding == wire.EncPlain && rep.Data != nil
	v, err = cn.Get(ctx, "k")
	err = cn.Close()
	_ = cn.Closed()
	p, _ := client.NewPool(ctx, "host:1", client.PoolConfig{MinSize: 1, MaxSize: 2})
	cn, err = p.Acquire(ctx)
	p.Release(cn)
	_ = p.Size() + p.FreeSize() + p.MinSize() + p.MaxSize()
	p.Clear()
	p.Close()
	for _, e := range []error{client.ErrNotFound, client.ErrNaN, client.ErrMemoryLimit, client.ErrLocked, client.ErrServer, client.ErrProtocol, client.ErrClosed, client.ErrInvalidArgument} {
		_ = errors.Is(e, wire.ErrNotFound)
	}
	buf := wire.AppendRequest(nil, wire.Opcode(19))
	var r wire.Reader
	r.Feed(buf)
	rep, ok, err := r.Next()
	_, _, _, _, _, _, _, _ = v, b, n, kvs, ks, rep, ok, err
}
