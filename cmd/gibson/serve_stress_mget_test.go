package main

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/wire"
)

// TestServeStressUnreadReplies is issue 20's scenario against the built binary: max_memory
// 64M, 36 MB under one prefix (9000 × 4000 bytes), then at once 32 connections each
// sending one MGET of it and never reading, 4 pipelining 100 such MGETs and never
// reading, and 300 sending only a header that declares a 4 MiB request. Throughout, RSS
// must stay within 1.5 × max_memory + 64 MiB + gibsontest.ConnectionMemory per attacking
// connection, and never above 320 MiB, and a bystander's PINGs must be answered (by
// default: p99 under 250 ms, not stalled; GIBSON_STRESS=1: worst under 50 ms, p99 under
// 5 ms, for 30 s). Then SIGTERM under that load must end the process within 2 s.
// GIBSON_STRESS_FOR sets the length; GIBSON_STRESS_BIN runs that binary instead of
// building one (to measure an older build).
func TestServeStressUnreadReplies(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gibson binary")
	}
	attack, pingP99, pingWorst := time.Second, 250*time.Millisecond, time.Duration(0)
	if os.Getenv("GIBSON_STRESS") == "1" {
		attack, pingP99, pingWorst = 30*time.Second, 5*time.Millisecond, 50*time.Millisecond
	}
	if d, err := time.ParseDuration(os.Getenv("GIBSON_STRESS_FOR")); err == nil {
		attack = d
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(8, runtime.NumCPU()*4))) // see TestServeStress
	const (
		maxMemory            = 64 << 20
		holders, pipeliners  = 32, 4
		headerOnly           = 300
		attackers            = holders + pipeliners + headerOnly
		rssCeiling           = 320 << 20
		items, itemSize      = 9000, 4000
		pipelined, declaring = 100, 4 << 20
	)
	rssBound := int64(min(maxMemory*3/2+64<<20+gibsontest.ConnectionMemory*attackers, rssCeiling))

	dir := t.TempDir()
	bin := os.Getenv("GIBSON_STRESS_BIN")
	if bin == "" {
		bin = filepath.Join(dir, "gibson")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	sock := filepath.Join(dir, "g.sock")
	var logs syncBuffer
	cmd := exec.Command(bin, "serve", "--listen", sock, "--max_memory", "64M", "--pidfile", "", "--logfile", "/dev/stderr", "--loglevel", "2")
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	}()
	waitListening(t, "unix", sock, logs.String)

	setup := dialRaw(t, sock)
	v := make([]byte, itemSize)
	for i := 0; i < items; i++ {
		rand.Read(v)
		setup.roundTrip(t, generated.OpSet, "0", fmt.Sprintf("k:%04d", i), string(v))
	}
	if rep := setup.roundTrip(t, generated.OpCount, "k:"); !slices.Equal(rep, appendNumberReply(items)) {
		t.Fatalf("COUNT k: after the setup: %x", rep)
	}

	var maxRSS int64
	var lat []time.Duration
	var worstLat time.Duration // and when that PING was sent
	var worstAt time.Time
	var mu sync.Mutex
	stopWatch := make(chan struct{})
	var watchers sync.WaitGroup
	watchers.Add(2)
	go func() {
		defer watchers.Done()
		for {
			if rss := vmRSS(cmd.Process.Pid); rss > 0 {
				mu.Lock()
				maxRSS = max(maxRSS, rss)
				mu.Unlock()
			}
			select {
			case <-stopWatch:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	pinger := dialRaw(t, sock)
	go func() {
		defer watchers.Done()
		for {
			start := time.Now()
			if rep := pinger.roundTrip(t, generated.OpPing); !slices.Equal(rep, []byte{5, 0, 0, 1, 0, 0, 0, 0}) {
				t.Errorf("PING reply %x", rep)
				return
			}
			mu.Lock()
			d := time.Since(start)
			if d > worstLat {
				worstLat, worstAt = d, start
			}
			lat = append(lat, d)
			mu.Unlock()
			select {
			case <-stopWatch:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	mget := wire.AppendRequest(nil, generated.OpMGet, []byte("k:"))
	header := binary.LittleEndian.AppendUint32(nil, declaring)
	header = append(header, byte(generated.OpSet), 0, '0')
	var conns []net.Conn
	var writers sync.WaitGroup
	open := func(first []byte) {
		nc, err := net.Dial("unix", sock)
		if err != nil {
			t.Errorf("dial %d: %v", len(conns), err)
			return
		}
		conns = append(conns, nc)
		writers.Add(1)
		go func() { // a write of pipelined MGETs blocks once the server stops reading
			defer writers.Done()
			nc.Write(first)
		}()
	}
	for i := 0; i < holders; i++ {
		open(mget)
	}
	for i := 0; i < pipeliners; i++ {
		open(repeatFrame(mget, pipelined))
	}
	for i := 0; i < headerOnly; i++ {
		open(header)
	}
	attackStart := time.Now()
	time.Sleep(attack)
	mu.Lock()
	rss, n := maxRSS, len(lat)
	p99, worst := percentile(lat, 0.99), percentile(lat, 1)
	mu.Unlock()
	t.Logf("%d unread MGETs of %d MB, %d × %d pipelined, %d headers: max RSS %d MiB (bound %d MiB), PING p99 %v, worst %v (sent %v after the attackers were connected) over %d",
		holders, items*itemSize/1000000, pipeliners, pipelined, headerOnly, rss>>20, rssBound>>20, p99, worst, worstAt.Sub(attackStart).Round(time.Millisecond), n)
	if rss > rssBound {
		t.Errorf("RSS reached %d MiB, over %d MiB", rss>>20, rssBound>>20)
	}
	if p99 > pingP99 || n == 0 {
		t.Errorf("PING p99 %v over %d PINGs, want under %v", p99, n, pingP99)
	}
	if pingWorst > 0 && worst > pingWorst {
		t.Errorf("PING worst %v, want under %v", worst, pingWorst)
	}
	close(stopWatch)
	watchers.Wait()

	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		t.Logf("exited %v after SIGTERM", time.Since(start))
		exited <- nil // for the deferred Wait
	case <-time.After(2 * time.Second):
		t.Errorf("still running 2 s after SIGTERM under load")
	}
	for _, nc := range conns {
		nc.Close()
	}
	writers.Wait()
}
