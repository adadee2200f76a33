package client

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// waitBound is how long waitFor waits: far beyond what any awaited event takes, so that only
// a broken behaviour reaches it.
const waitBound = 10 * time.Second

// waitFor waits until cond holds and fails the test after waitBound, saying what it waited
// for and then what explain returns (the state that stayed wrong). It is the tests' one way
// to wait for an event that only a counter or a state shows (PoolStats, a server's Requests,
// a Ring's Shards); an event that has a channel is received from it instead.
func waitFor(t testing.TB, what string, cond func() bool, explain ...func() string) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			for _, f := range explain {
				msg += "\n" + f()
			}
			t.Fatalf("timed out after %v waiting for %s%s", waitBound, what, msg)
		}
		time.Sleep(time.Millisecond) // the poll interval: these conditions have no channel
	}
}

// waitGoroutines waits for the goroutine count to fall back to before, and fails with every
// goroutine's stack if it does not.
func waitGoroutines(t testing.TB, before int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("the goroutines to fall back to %d", before),
		func() bool { return runtime.NumGoroutine() <= before },
		func() string {
			buf := make([]byte, 1<<20)
			return fmt.Sprintf("%d goroutines left:\n%s", runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		})
}

// waitBroken waits for c's broken-connection counts to satisfy ok.
func waitBroken(t testing.TB, c *Client, ok func(BrokenStats) bool) {
	t.Helper()
	waitFor(t, "the broken-connection counts", func() bool { return ok(c.PoolStats().Broken) },
		func() string { return fmt.Sprintf("broken counts: %+v", c.PoolStats().Broken) })
}

// connOf returns the connection in c's slot i.
func connOf(c *Client, i int) *Conn { return c.slots[i].conn.Load() }

// waitArrived waits until something reached idle connection cn's socket from the server: bytes
// it sent, or its close. It peeks as a call would, without consuming or acting on what it
// finds, so that the call made next meets it. A connection that cannot be peeked has a
// reader, which acts at once: it is waited for until it is closed.
func waitArrived(t testing.TB, cn *Conn) {
	t.Helper()
	waitFor(t, "bytes or a close from the server on an idle connection", func() bool {
		cn.mu.Lock()
		defer cn.mu.Unlock()
		if cn.peek == nil {
			return cn.broken != nil
		}
		err := cn.peek()
		if errors.Is(err, os.ErrDeadlineExceeded) { // a deadline left behind: as peekIdle does
			cn.setReadDeadline(time.Time{})
			err = cn.peek()
		}
		return err != nil
	})
}
