// Package netx holds the socket tricks the embedded server and the proxy share.
package netx

import (
	"net"
	"syscall"
)

// WriteAndShut writes out and shuts the write side of nc in one go, with no scheduling
// point in between: the client reads END's reply and the end of the stream together.
// On TCP the bytes are sent with MSG_MORE, so they wait for the shutdown, whose FIN the
// kernel then sends in the same segment. It reports whether it could do it this way;
// if not, nothing was written.
func WriteAndShut(nc net.Conn, out []byte) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	flags := syscall.MSG_NOSIGNAL
	if _, tcp := nc.(*net.TCPConn); tcp {
		flags |= syscall.MSG_MORE
	}
	rc.Write(func(fd uintptr) bool {
		for len(out) > 0 {
			n, err := syscall.SendmsgN(int(fd), out, nil, nil, flags)
			switch err {
			case nil:
				out = out[n:]
				continue
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait until writable
			}
			return true // broken: the connection closes anyway
		}
		syscall.Shutdown(int(fd), syscall.SHUT_WR)
		return true
	})
	return true
}
