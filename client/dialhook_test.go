package client

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
)

// selfCallingHook is a DialHook that, once armed, PINGs through the Client it belongs to
// after each dial (a warm-up, say): with the context it is given, or with its own when
// ownCtx. It records the PING's error.
type selfCallingHook struct {
	c      atomic.Pointer[Client]
	armed  atomic.Bool
	ownCtx bool
	calls  atomic.Int32
	err    atomic.Value // error of the last PING, wrapped in a struct
}

type hookErr struct{ err error }

func (h *selfCallingHook) hook() HookFuncs {
	return HookFuncs{Dial: func(next DialFunc) DialFunc {
		return func(ctx context.Context, network, address string) (net.Conn, error) {
			nc, err := next(ctx, network, address)
			if c := h.c.Load(); err == nil && c != nil && h.armed.Load() {
				pctx := ctx
				if h.ownCtx {
					pctx = context.Background()
				}
				h.err.Store(hookErr{c.Ping(pctx)})
				h.calls.Add(1)
			}
			return nc, err
		}
	}}
}

func (h *selfCallingHook) lastErr() error { return h.err.Load().(hookErr).err }

// redialWithHook breaks every connection of c and runs a PING, which redials through the
// hook; the PING must finish (and succeed, unless outerMayFail: the redial then outlives
// the dial timeout, which fails every call waiting for it).
func redialWithHook(t *testing.T, s *gibsontest.Server, c *Client, h *selfCallingHook, outerMayFail bool) {
	t.Helper()
	if err := c.Ping(context.Background()); err != nil { // the server has accepted the connection
		t.Fatal(err)
	}
	h.c.Store(c)
	h.armed.Store(true)
	s.CloseClientConnections()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := c.Ping(context.Background()); err != nil && !(outerMayFail && strings.Contains(err.Error(), "dial timeout")) {
			t.Errorf("PING that redialled: %v", err)
		}
	}()
	finishes(t, "a PING whose redial's DialHook calls the Client", 10*time.Second, done)
	waitFor(t, "the DialHook's PING to return", func() bool { return h.calls.Load() > 0 })
}

// A DialHook calling its own Client with the context it is given, when no other connection is
// usable, used to wait for the redial that is running the hook: for ever. It fails at once.
func TestDialHookCallingItsClientFailsAtOnce(t *testing.T) {
	s := gibsontest.NewServer(t)
	h := &selfCallingHook{}
	c := dialClient(t, s.Addr(), WithPoolSize(1), WithHooks(h.hook()))
	redialWithHook(t, s, c, h, false)
	err := h.lastErr()
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "DialHook") {
		t.Fatalf("the hook's PING: %v; want ErrClosed saying it was called from the DialHook", err)
	}
	finishes(t, "Close", 5*time.Second, closeAsync(c))
}

// With another connection usable, the hook's call is served on it.
func TestDialHookCallingItsClientUsesAnotherConnection(t *testing.T) {
	s := gibsontest.NewServer(t)
	h := &selfCallingHook{}
	c := dialClient(t, s.Addr(), WithPoolSize(2), WithHooks(h.hook()))
	ctx := context.Background()
	h.c.Store(c)
	h.armed.Store(true)
	if err := c.End(ctx); err != nil { // closes the first connection only
		t.Fatal(err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if h.calls.Load() != 1 || h.lastErr() != nil {
		t.Fatalf("the hook ran %d PINGs, the last: %v; want one, served on the other connection", h.calls.Load(), h.lastErr())
	}
}

// A DialHook calling its Client with a context of its own cannot be told from another caller;
// it waits no longer than the dial timeout, then fails (as do the calls that waited for the
// redial with it), and the redial completes.
func TestDialHookCallingItsClientWithItsOwnContext(t *testing.T) {
	s := gibsontest.NewServer(t)
	h := &selfCallingHook{ownCtx: true}
	c := dialClient(t, s.Addr(), WithPoolSize(1), WithHooks(h.hook()), WithDialTimeout(200*time.Millisecond))
	redialWithHook(t, s, c, h, true)
	if err := h.lastErr(); !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "dial timeout") {
		t.Fatalf("the hook's PING: %v; want ErrClosed saying the redial outlived the dial timeout", err)
	}
	h.armed.Store(false)
	waitFor(t, "the redial to complete", func() bool { return c.Ping(context.Background()) == nil })
	finishes(t, "Close", 5*time.Second, closeAsync(c))
}

func closeAsync(c *Client) <-chan struct{} {
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	return done
}
