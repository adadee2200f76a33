//go:build !unix

package client

import "net"

// plainSocket: outside Unix systems the socket is not peeked, so every connection keeps a
// background reader, which notices a close as soon as it happens.
func plainSocket(net.Conn) (selfRead bool, peek func() error) {
	return false, nil
}
