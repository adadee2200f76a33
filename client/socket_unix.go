//go:build unix

package client

import (
	"io"
	"net"
	"syscall"
)

// plainSocket tells how a connection can be read (see reader.go): callers may read their own
// replies on TCP and Unix sockets, where an idle close can be seen by peeking at the socket
// without blocking; a TCP socket must be peeked before a write after idling, because writing
// into a closed TCP connection succeeds, while on a Unix socket it fails with EPIPE before
// anything is sent. Anything else (TLS, net.Pipe, wrappers from WithDialer) keeps a
// background reader.
func plainSocket(nc net.Conn) (selfRead, peekFirst bool, peek func() error) {
	switch nc.(type) {
	case *net.TCPConn:
		peekFirst = true
	case *net.UnixConn:
	default:
		return false, false, nil
	}
	rc, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		return false, false, nil
	}
	p := &peeker{rc: rc}
	p.fn = p.peek // bound once, so a check allocates nothing
	return true, peekFirst, p.check
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
