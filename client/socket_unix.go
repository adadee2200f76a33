//go:build unix

package client

import (
	"io"
	"net"
	"syscall"
)

// plainSocket tells how a connection can be read (see reader.go): callers may read their own
// replies on TCP and Unix sockets, which are peeked without blocking before the first write
// after idling. The peek finds a close by the server (which a TCP write would not report) and
// bytes that arrived while nothing was pending, which a caller reading its own reply would
// otherwise take as its answer. It costs one non-blocking syscall per call that finds its
// connection idle (~200 ns; BENCHMARKS.md). Anything else (TLS, net.Pipe, wrappers from
// WithDialer) keeps a background reader, which reads stray bytes as they arrive.
func plainSocket(nc net.Conn) (selfRead bool, peek func() error) {
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
	default:
		return false, nil
	}
	rc, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		return false, nil
	}
	p := &peeker{rc: rc}
	p.fn = p.peek // bound once, so a check allocates nothing
	return true, p.check
}

type peeker struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) bool
	n   int
	err error
	buf [1]byte
}

func (p *peeker) peek(fd uintptr) bool {
	p.n, _, p.err = syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return true // never wait for readability: the answer is wanted now
}

// check returns nil when nothing is waiting on the socket, io.EOF when the peer closed it,
// errUnexpectedBytes when bytes arrived that nobody asked for, or the socket's error.
func (p *peeker) check() error {
	if err := p.rc.Read(p.fn); err != nil {
		return err
	}
	switch {
	case p.err == syscall.EAGAIN || p.err == syscall.EWOULDBLOCK || p.err == syscall.EINTR:
		return nil
	case p.err != nil:
		return p.err
	case p.n == 0:
		return io.EOF
	}
	return errUnexpectedBytes
}
