//go:build !linux

package netx

import "net"

// WriteAndShut is shut_linux.go's, where there is no such way: the caller writes and
// closes as usual.
func WriteAndShut(net.Conn, []byte) bool { return false }
