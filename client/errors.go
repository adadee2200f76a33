package client

import (
	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// KV is one key/value pair of an MGet result, in server order.
type KV = wire.KV

// Stats is the result of Stats: one typed field per STATS entry plus All, every pair as
// received.
type Stats = generated.Stats

// LockForever as a lock duration locks until Unlock.
const LockForever = wire.LockForever

// Error is the type of every error the client returns for a Gibson failure; match the
// kinds below with errors.Is and the details with errors.As.
type Error = wire.Error

// The error kinds, identical to package wire's, so errors.Is works with either.
var (
	// ErrNotFound: the key or prefix does not exist (Get, Inc and Dec of expired keys).
	ErrNotFound = wire.ErrNotFound
	// ErrNaN: an argument or the stored value is not a number.
	ErrNaN = wire.ErrNaN
	// ErrMemoryLimit: the server reached its max_memory.
	ErrMemoryLimit = wire.ErrMemoryLimit
	// ErrLocked: the item is locked.
	ErrLocked = wire.ErrLocked
	// ErrServer: the server answered its generic error.
	ErrServer = wire.ErrServer
	// ErrProtocol: a malformed or unexpected reply; the connection it came on is closed.
	ErrProtocol = wire.ErrProtocol
	// ErrClosed: the connection, pool or client is closed, or broke while the request was
	// pending.
	ErrClosed = wire.ErrClosed
	// ErrInvalidArgument: client-side validation failed; nothing was sent.
	ErrInvalidArgument = wire.ErrInvalidArgument
)

// brokenCause records why a connection stopped working; every pending request gets an
// error of its kind naming its own command.
type brokenCause struct {
	kind *wire.Error
	msg  string
	err  error
}

func (b *brokenCause) forVerb(verb string) error {
	return &wire.Error{Kind: b.kind, Command: verb, Msg: b.msg, Err: b.err}
}

// protocolCause turns a reader error into a cause, keeping its message but not repeating
// its kind.
func protocolCause(err error) *brokenCause {
	if e, ok := err.(*wire.Error); ok && e.Kind == wire.ErrProtocol && e.Err == nil {
		return &brokenCause{kind: wire.ErrProtocol, msg: "malformed reply: " + e.Msg + "; connection closed"}
	}
	return &brokenCause{kind: wire.ErrProtocol, msg: "malformed reply; connection closed", err: err}
}

// ctxError reports a caller that stopped waiting; errors.Is matches the context's error.
func ctxError(verb string, err error) error {
	return &wire.Error{Command: verb, Msg: "gave up waiting", Err: err}
}
