// Package addr parses the address forms every gogibson component accepts.
package addr

import (
	"fmt"
	"net"
	"strings"
)

// DefaultTCP is the reference server's default TCP address.
const DefaultTCP = "127.0.0.1:10128"

// DefaultUnix is the socket path of the server's shipped configuration.
const DefaultUnix = "/var/run/gibson.sock"

// Parse turns an address into a network ("unix" or "tcp") and a dialable address:
//
//	unix:///var/run/gibson.sock  → unix /var/run/gibson.sock
//	/var/run/gibson.sock         → unix /var/run/gibson.sock (also ./relative.sock)
//	tcp://host:port, host:port   → tcp host:port
func Parse(s string) (network, address string, err error) {
	switch {
	case s == "":
		return "", "", fmt.Errorf("empty address; use unix:///path, /path.sock, host:port or tcp://host:port")
	case strings.HasPrefix(s, "unix://"):
		p := strings.TrimPrefix(s, "unix://")
		if p == "" {
			return "", "", fmt.Errorf("address %q has no socket path; use unix:///path/to.sock", s)
		}
		return "unix", p, nil
	case strings.HasPrefix(s, "tcp://"):
		return checkTCP(s, strings.TrimPrefix(s, "tcp://"))
	case strings.HasPrefix(s, "/"), strings.HasPrefix(s, "./"), strings.HasPrefix(s, "../"):
		return "unix", s, nil
	case strings.Contains(s, "://"):
		return "", "", fmt.Errorf("address %q has an unsupported scheme; use unix:// or tcp://", s)
	}
	return checkTCP(s, s)
}

func checkTCP(orig, hostport string) (string, string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || port == "" {
		return "", "", fmt.Errorf("address %q is not host:port (for a unix socket give a path starting with / or unix://)", orig)
	}
	_ = host
	return "tcp", hostport, nil
}

// String formats network and address back into the form Parse accepts: unix:///path or
// host:port.
func String(network, address string) string {
	if network == "unix" {
		return "unix://" + address
	}
	return address
}
