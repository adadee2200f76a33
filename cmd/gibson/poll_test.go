package main

import (
	"net"
	"testing"
	"time"
)

// pollFor reports whether cond holds within limit, checking every few milliseconds: the
// tests' one poll, for what gives no event to wait on (a child process starting to listen,
// a line reaching a log file). It is a hang guard, not a timing assertion.
func pollFor(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return cond()
		}
	}
	return true
}

// waitListening waits for a server to accept connections on a unix socket or host:port.
func waitListening(t *testing.T, network, address string, why func() string) {
	t.Helper()
	if !pollFor(10*time.Second, func() bool {
		nc, err := net.Dial(network, address)
		if err == nil {
			nc.Close()
		}
		return err == nil
	}) {
		t.Fatalf("nothing listens on %s: %s", address, why())
	}
}
