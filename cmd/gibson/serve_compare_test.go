package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// TestServeThroughputVersus compares this build's `gibson serve` with another gibson
// binary in one run (BENCHMARKS.md, "Memory per item"): both children hold 20 000 keys
// user:00000000… of 16 bytes, and in alternating rounds each is timed on pipelined SET
// and GET (5 passes over the keys in batches of 100 on one connection), COUNT user: and MGET user: (walks over the
// 20 000 keys). It logs the median ratio (this build ÷ the other) per workload and
// asserts nothing: opt-in with GIBSON_COMPARE_BIN=path, GIBSON_COMPARE_ROUNDS (default 7).
func TestServeThroughputVersus(t *testing.T) {
	other := os.Getenv("GIBSON_COMPARE_BIN")
	if other == "" {
		t.Skip("opt-in: GIBSON_COMPARE_BIN=path of the gibson binary to compare with")
	}
	rounds := 7
	if _, err := fmt.Sscan(os.Getenv("GIBSON_COMPARE_ROUNDS"), &rounds); err != nil {
		rounds = 7
	}
	bin := filepath.Join(t.TempDir(), "gibson")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const keys = 20000
	conns := make([]*pipeConn, 2)
	for i, b := range []string{bin, other} {
		sock := filepath.Join(t.TempDir(), "g.sock")
		cmd := exec.Command(b, "serve", "--listen", sock, "--max_memory", "4G", "--pidfile", "", "--loglevel", "2")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		nc := dialMemory(t, sock)
		t.Cleanup(func() { nc.Close() })
		conns[i] = &pipeConn{nc: nc, r: bufio.NewReaderSize(nc, 1<<20)}
	}
	value := []byte("value-of-sixteen")
	var sets, gets []byte
	for i := range keys {
		k := fmt.Appendf(nil, "user:%08d", i)
		sets = wire.AppendRequest(sets, generated.OpSet, []byte("0"), k, value)
		gets = wire.AppendRequest(gets, generated.OpGet, k)
	}
	for _, c := range conns {
		c.pipeline(t, sets, keys, 100)
	}
	count := wire.AppendRequest(nil, generated.OpCount, []byte("user:"))
	mget := wire.AppendRequest(nil, generated.OpMGet, []byte("user:"))
	work := []struct {
		name string
		run  func(c *pipeConn) int // requests done
	}{
		{"SET ×100000, pipelined 100", func(c *pipeConn) int { return c.passes(t, sets, keys, 5) }},
		{"GET ×100000, pipelined 100", func(c *pipeConn) int { return c.passes(t, gets, keys, 5) }},
		{"COUNT user: (20000 keys) ×50", func(c *pipeConn) int { return c.repeat(t, count, 50) }},
		{"MGET user: (20000 keys) ×50", func(c *pipeConn) int { return c.repeat(t, mget, 50) }},
	}
	for _, w := range work {
		var ratios []float64
		for r := range rounds {
			var rate [2]float64
			for j := range conns {
				i := (j + r) % 2 // each goes first in every other round
				start := time.Now()
				n := w.run(conns[i])
				rate[i] = float64(n) / time.Since(start).Seconds()
			}
			ratios = append(ratios, rate[0]/rate[1])
		}
		slices.Sort(ratios)
		t.Logf("%-30s this/other: median %.3f (min %.3f, max %.3f, %d rounds)", w.name, ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1], rounds)
	}
}

// pipeConn sends whole frames and reads their replies.
type pipeConn struct {
	nc net.Conn
	r  *bufio.Reader
}

// pipeline sends the n frames in frames, batch at a time, reading each batch's replies.
func (c *pipeConn) pipeline(t *testing.T, frames []byte, n, batch int) int {
	size := len(frames) / n // the frames are all the same length
	for i := 0; i < n; i += batch {
		j := min(n, i+batch)
		c.send(t, frames[i*size:j*size])
		c.replies(t, j-i)
	}
	return n
}

// passes pipelines frames (n of them) k times in batches of 100.
func (c *pipeConn) passes(t *testing.T, frames []byte, n, k int) int {
	for range k {
		c.pipeline(t, frames, n, 100)
	}
	return n * k
}

// repeat sends frame n times, one at a time.
func (c *pipeConn) repeat(t *testing.T, frame []byte, n int) int {
	for range n {
		c.send(t, frame)
		c.replies(t, 1)
	}
	return n
}

func (c *pipeConn) send(t *testing.T, b []byte) {
	c.nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.nc.Write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func (c *pipeConn) replies(t *testing.T, n int) {
	var h [wire.HeaderSize]byte
	for range n {
		if _, err := io.ReadFull(c.r, h[:]); err != nil {
			t.Fatalf("read: %v", err)
		}
		if code := wire.Code(binary.LittleEndian.Uint16(h[:])); code != wire.CodeVal && code != wire.CodeKVal {
			t.Fatalf("reply code %d", code)
		}
		if _, err := c.r.Discard(int(binary.LittleEndian.Uint32(h[3:]))); err != nil {
			t.Fatalf("read: %v", err)
		}
	}
}
