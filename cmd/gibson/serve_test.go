package main

import (
	"bytes"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
)

// syncBuffer is a bytes.Buffer safe for the serve goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestServeRunsUntilSIGTERM(t *testing.T) {
	dir, err := os.MkdirTemp("", "gib")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "s.sock")
	conf := filepath.Join(dir, "gibson.conf")
	os.WriteFile(conf, []byte("# shipped limits\nmax_key_size 1K\nmax_value_size 2096127\ncompression 4K\n"), 0o644)

	// serve sets the Go memory limit unless one is set: unset it for this run.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	var stdout, stderr syncBuffer
	started := make(chan *gibsontest.Server, 1)
	exit := make(chan int, 1)
	go func() {
		exit <- serve([]string{"--listen", "unix://" + sock, "--config", conf, "--max_clients", "7", "--expired_cron=1s",
			"--pidfile", filepath.Join(dir, "g.pid")}, &stdout, &stderr,
			func(s *gibsontest.Server) { started <- s })
	}()
	var s *gibsontest.Server
	select {
	case s = <-started:
	case code := <-exit:
		t.Fatalf("serve exited with %d: %s", code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	cfg := s.Config()
	if cfg.MaxKeySize != 1024 || cfg.MaxClients != 7 || cfg.ExpiredCron != time.Second || cfg.MaxMemory != gibsontest.DefaultConfig().MaxMemory {
		t.Errorf("config = %+v", cfg)
	}
	if log := stdout.String(); !strings.Contains(log, "level=INFO msg=\"gibson serve started\"") ||
		!strings.Contains(log, "addr=unix://"+sock) || !strings.Contains(log, "max_key_size=1024") {
		t.Errorf("start log (logfile /dev/stdout by default) %q", log)
	}
	// 1.5 × 2G + 64M + 7 × 448K: the data with its slack and max_clients connection caps.
	if want := int64(3<<30 + 64<<20 + 7*448<<10); cfg.MemoryLimit() != want || debug.SetMemoryLimit(-1) != want ||
		!strings.Contains(stdout.String(), " memory_limit="+strconv.FormatInt(want, 10)+" ") {
		t.Errorf("Go memory limit %d (Config.MemoryLimit %d), want %d, logged at start: %q", debug.SetMemoryLimit(-1), cfg.MemoryLimit(), want, stdout.String())
	}
	nc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	nc.Write([]byte{2, 0, 0, 0, 0x13, 0})
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	reply := make([]byte, 8)
	if _, err := io.ReadFull(nc, reply); err != nil || !bytes.Equal(reply, []byte{5, 0, 0, 1, 0, 0, 0, 0}) {
		t.Fatalf("PING reply %x, %v", reply, err)
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case code := <-exit:
		if code != 0 {
			t.Errorf("exit status %d after SIGTERM", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket file still there: %v", err)
	}
	if _, err := nc.Read(reply); err == nil {
		t.Error("client connection still open after shutdown")
	}
	nc.Close()
}

func TestServeRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "bad.conf")
	os.WriteFile(conf, []byte("max_key_size 1K\n\n# comment\nmax_value_size lots\n"), 0o644)
	rangeConf := filepath.Join(dir, "range.conf") // used to start, then panic on the first SET
	os.WriteFile(rangeConf, []byte("max_value_size 1K\nmax_key_size -1\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", conf}, conf + ":4: max_value_size \"lots\": not a size"},
		{[]string{"--config", rangeConf}, rangeConf + ":2: max_key_size \"-1\": negative; allowed: 1 to 2147483647 bytes"},
		{[]string{"--max_key_size", "1Q"}, "--max_key_size: max_key_size \"1Q\": not a size"},
		{[]string{"--max_key_size", "99999999999G"}, "max_key_size \"99999999999G\": too large; allowed: 1 to 2147483647 bytes"},
		{[]string{"--max_value_size", "0"}, "max_value_size \"0\": out of range; allowed: 1 to 2147483647 bytes"},
		{[]string{"--max_request_size", "-1"}, "max_request_size \"-1\": negative; allowed: 2 to 4294967295 bytes"},
		{[]string{"--max_clients", "-1"}, "max_clients \"-1\": out of range; allowed: 1 to 1048576"},
		{[]string{"--cron_period", "0"}, "cron_period \"0\": out of range; allowed: 1 to 2147483647 milliseconds"},
		{[]string{"--no_such_thing", "1"}, `unknown directive "no_such_thing"`},
		{[]string{"--listen"}, "flag --listen needs a value"},
		{[]string{"stray"}, `unexpected argument "stray"`},
		{[]string{"--config", filepath.Join(dir, "missing.conf")}, "missing.conf"},
		{[]string{"--listen", "ftp://x"}, "unsupported scheme"},
	} {
		var stderr bytes.Buffer
		if code := runServe(tc.args, io.Discard, &stderr); code != 2 {
			t.Errorf("%q: exit status %d, want 2", tc.args, code)
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: error %q does not contain %q", tc.args, stderr.String(), tc.want)
		}
	}
}
