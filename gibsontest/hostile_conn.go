package gibsontest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/internal/addr"
	"github.com/gogibson/gogibson/wire"
)

// hostileConn is one client connection and its connection to the embedded Server.
type hostileConn struct {
	h        *Hostile
	nc       net.Conn // the client
	greeting []byte   // SendOnAccept bytes as armed when accepted

	mu   sync.Mutex // be and closing
	be   net.Conn   // the embedded Server; nil until dialled
	once sync.Once
	done chan struct{} // closed by close

	exited chan struct{} // closed when serve has returned

	// Owned by serve.
	in      []byte // client bytes received and not yet handled
	bin     *bufio.Reader
	out     []byte // the reply being relayed
	stalled bool   // counted in h.stalled
	extra   []byte // an extra frame to write once idle until extraAt
	extraD  time.Duration
	extraAt time.Time
}

// close closes both sockets, which ends serve; safe to call more than once.
func (c *hostileConn) close() {
	c.once.Do(func() {
		c.mu.Lock()
		close(c.done)
		be := c.be
		c.mu.Unlock()
		c.nc.Close()
		if be != nil {
			be.Close()
		}
	})
}

// serve relays requests and replies until either side closes or a fault ends it.
func (c *hostileConn) serve() {
	h := c.h
	defer func() {
		c.close()
		h.mu.Lock()
		delete(h.conns, c)
		if c.stalled {
			h.stalled--
		}
		h.mu.Unlock()
		close(c.exited)
		h.wg.Done()
	}()
	network, address, _ := addr.Parse(h.inner.Addr())
	be, err := (&net.Dialer{Timeout: 5 * time.Second}).Dial(network, address)
	if err != nil {
		return
	}
	c.mu.Lock()
	select {
	case <-c.done:
		c.mu.Unlock()
		be.Close()
		return
	default:
	}
	c.be = be
	c.mu.Unlock()
	c.bin = bufio.NewReaderSize(be, 64<<10)
	if len(c.greeting) > 0 {
		if _, err := c.nc.Write(c.greeting); err != nil {
			return
		}
	}
	for {
		frame, err := c.next()
		if err != nil {
			return
		}
		size := len(frame)
		op := wire.Opcode(binary.LittleEndian.Uint16(frame[4:]))
		h.mu.Lock()
		h.requests++
		stall := h.requests == h.stallAt
		stop := h.requests == h.stopAt
		if stall {
			h.stallAt = 0
		}
		if stop {
			h.stopAt = 0
		}
		h.mu.Unlock()
		if c.stalled || stall {
			c.stall()
			c.consume(size)
			continue
		}
		_, err = be.Write(frame)
		c.consume(size)
		if err != nil {
			return
		}
		rerr := c.backendReply()
		if rerr != nil { // the Server closed the connection: relay what it sent, then close
			if len(c.out) > 0 {
				c.nc.Write(c.out)
			}
			return
		}
		if !c.relay() {
			return
		}
		if op == generated.OpEnd { // the Server closes its side after the reply to END
			return
		}
		if stop && !c.stalled {
			c.stall()
			hostileSetReadBuffer(c.nc, hostileSmallReadBuffer)
			<-c.done
			return
		}
	}
}

// hostileSetReadBuffer asks for a receive buffer of n bytes where the connection supports it.
func hostileSetReadBuffer(nc net.Conn, n int) {
	if rb, ok := nc.(interface{ SetReadBuffer(int) error }); ok {
		rb.SetReadBuffer(n)
	}
}

// stall marks the connection as wedged; any pending extra frame is dropped.
func (c *hostileConn) stall() {
	if c.stalled {
		return
	}
	c.stalled, c.extra = true, nil
	c.h.mu.Lock()
	c.h.stalled++
	c.h.mu.Unlock()
}

// relay writes the reply in c.out to the client, applying the "next reply" faults. It
// reports whether the connection is still usable.
func (c *hostileConn) relay() bool {
	h := c.h
	h.mu.Lock()
	huge, hugeArmed := h.huge, h.hugeArmed
	drip, dripArmed := h.drip, h.dripArmed
	extra, extraD, extraArmed := h.extra, h.extraDelay, h.extraArmed
	if hugeArmed {
		h.hugeArmed = false
		dripArmed, extraArmed = false, false // left armed for the next reply
	} else {
		h.dripArmed, h.extraArmed, h.extra = false, false, nil
	}
	h.mu.Unlock()
	if hugeArmed {
		n := min(huge, hostileHugeBytes)
		b := make([]byte, wire.HeaderSize, wire.HeaderSize+int(n))
		binary.LittleEndian.PutUint16(b, uint16(wire.CodeVal))
		b[2] = byte(wire.EncPlain)
		binary.LittleEndian.PutUint32(b[3:], huge)
		for range n {
			b = append(b, 'x')
		}
		if _, err := c.nc.Write(b); err != nil {
			return false
		}
		c.stall()
		return true
	}
	if dripArmed {
		t := time.NewTimer(time.Hour)
		t.Stop()
		defer t.Stop()
		for i := range c.out {
			if i > 0 && drip > 0 {
				t.Reset(drip)
				select {
				case <-t.C:
				case <-c.done:
					return false
				}
			}
			if _, err := c.nc.Write(c.out[i : i+1]); err != nil {
				return false
			}
		}
	} else if _, err := c.nc.Write(c.out); err != nil {
		return false
	}
	if extraArmed {
		c.extra, c.extraD = extra, extraD
	}
	if c.extra != nil {
		c.extraAt = time.Now().Add(c.extraD)
	}
	return true
}

// backendReply reads one whole reply frame from the embedded Server into c.out, growing
// it as bytes arrive. On error c.out holds what arrived.
func (c *hostileConn) backendReply() error {
	c.out = c.out[:0]
	var hdr [wire.HeaderSize]byte
	n, err := io.ReadFull(c.bin, hdr[:])
	c.out = append(c.out, hdr[:n]...)
	if err != nil {
		return err
	}
	left := int(binary.LittleEndian.Uint32(hdr[3:]))
	for left > 0 {
		if len(c.out) == cap(c.out) {
			c.out = slices.Grow(c.out, min(left, max(len(c.out), 4<<10)))
		}
		n, err := c.bin.Read(c.out[len(c.out):min(cap(c.out), len(c.out)+left)])
		c.out = c.out[:len(c.out)+n]
		left -= n
		if err != nil && left > 0 {
			return err
		}
	}
	return nil
}

// next returns the next whole request frame from the client; it stays valid until
// consume. While an extra frame is pending and no request bytes are buffered, it writes
// that frame once the connection has been idle until extraAt.
func (c *hostileConn) next() ([]byte, error) {
	for {
		if len(c.in) >= 4 {
			n := int64(binary.LittleEndian.Uint32(c.in))
			if n < 2 || n > c.h.maxFrame {
				if len(c.in) > 4 { // like the Server: act on a bad length when more bytes come
					return nil, errors.New("bad request length")
				}
			} else if int64(len(c.in)) >= 4+n {
				return c.in[:4+n], nil
			}
		}
		if err := c.fill(); err != nil {
			return nil, err
		}
	}
}

// consume drops the first n buffered client bytes.
func (c *hostileConn) consume(n int) {
	rest := copy(c.in, c.in[n:])
	c.in = c.in[:rest]
	if rest == 0 && cap(c.in) > 64<<10 {
		c.in = nil // do not keep a large request's buffer
	}
}

// fill reads client bytes once, growing the buffer only when it is full.
func (c *hostileConn) fill() error {
	if len(c.in) == cap(c.in) {
		grown := make([]byte, len(c.in), max(4<<10, 2*cap(c.in)))
		copy(grown, c.in)
		c.in = grown
	}
	waitExtra := c.extra != nil && len(c.in) == 0
	if waitExtra {
		c.nc.SetReadDeadline(c.extraAt)
	}
	n, err := c.nc.Read(c.in[len(c.in):cap(c.in)])
	c.in = c.in[:len(c.in)+n]
	if waitExtra {
		c.nc.SetReadDeadline(time.Time{})
		if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
			extra := c.extra
			c.extra = nil
			_, err := c.nc.Write(extra)
			return err
		}
	}
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}
