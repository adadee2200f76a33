// Package client is the Go client for the Gibson cache server: Client (typed commands over
// a few shared, pipelined connections), Conn (one pipelined connection, safe for
// concurrent use) and Pool (connections for exclusive use, like aiogibson's pool).
//
//	c, err := client.Dial(ctx, "unix:///var/run/gibson.sock")
//	defer c.Close()
//	err = c.Set(ctx, "user:1", []byte("alice"), time.Hour)
//	v, err := c.Get(ctx, "user:1") // errors.Is(err, client.ErrNotFound) when absent
//
// Addresses are "unix:///path", "/path" (or "./path"), "host:port" and "tcp://host:port".
//
// Every typed method validates its arguments first and returns ErrInvalidArgument, sending
// nothing, for what the server would silently truncate, split or misread: empty keys,
// prefixes and values, spaces in keys, keys and values over WithMaxKeySize and
// WithMaxValueSize, TTLs and lock times over 32767 s (sub-second durations round up).
//
// Pipelining: concurrent calls on one connection are written back to back, coalesced into
// one write while replies are outstanding, and replies are matched in order by whichever
// goroutine reads: a lone caller reads its own reply, and a background goroutine per
// connection takes over while several calls are outstanding. A call whose context ends
// returns with an error matching the context's error when the deadline passes, or within a
// millisecond of a cancellation; its reply is still read and dropped, so the stream stays in
// step. A connection that fails (EOF, I/O error, malformed
// reply) fails all its pending calls with errors wrapping ErrClosed or ErrProtocol that name
// the command, and is closed; Client and Pool replace it. Nobody reads an idle TCP or Unix
// socket connection, so a close by the server is found when the connection is next used,
// before anything is sent: a Client then sends the call on a new connection and a Pool
// does not hand the connection out. Connections from WithDialer that are not *net.TCPConn
// or *net.UnixConn (TLS, wrappers), and all connections outside Unix systems, keep their
// background reader reading at all times instead.
//
// Errors are *Error values (the type of package wire) matched with errors.Is against the
// Err* kinds, which are the same values as wire's.
package client
