package client

import "sync"

// A hook (WithHooks) may panic on a goroutine the client runs for the caller: a Ring's fan
// worker, a shard's dial. Such a panic must neither kill the process nor let the call's
// pooled state be reused while other parts of the call still run, so it is caught, and
// raised again with the same value on the caller's goroutine once every part has finished.

// caught holds the first panic recovered by the parts of one call. The zero value is ready.
type caught struct {
	mu  sync.Mutex
	val any
	set bool
}

// catch recovers a panic; use it as `defer c.catch()` (recover works only when called
// directly by the deferred function, which catch is).
func (c *caught) catch() {
	if v := recover(); v != nil {
		c.mu.Lock()
		if !c.set {
			c.val, c.set = v, true
		}
		c.mu.Unlock()
	}
}

// raise panics again with the caught value, if any; call it once every part has finished.
func (c *caught) raise() {
	c.mu.Lock()
	v, set := c.val, c.set
	c.mu.Unlock()
	if set {
		panic(v)
	}
}
