package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/internal/proxy"
)

// gibson proxy serves a client through a Ring of named shards (name=address keeps a key on
// its shard whatever the address), logs its start and stop, and refuses bad flags.
func TestProxyCommand(t *testing.T) {
	a, b := gibsontest.NewServer(t), gibsontest.NewServer(t)
	sock := filepath.Join(t.TempDir(), "p.sock")
	var logs bytes.Buffer
	done := make(chan int, 1)
	ready := make(chan func(), 1)
	go func() {
		done <- runProxyReady([]string{"--addr", "a=" + a.Addr() + ",b=" + b.Addr(), "--listen", "unix://" + sock, "--segment", ":"},
			&logs, &logs, func(p *proxy.Proxy, address string, stop func()) { ready <- stop })
	}()
	stop := <-ready
	c, err := client.Dial(context.Background(), "unix://"+sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{"user:1", "user:2", "cart:1"} {
		if err := c.Set(ctx, k, []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.Count(ctx, "user:"); err != nil || n != 2 {
		t.Fatalf("COUNT user: through the proxy = %d, %v", n, err)
	}
	if len(a.Keys(""))+len(b.Keys("")) != 3 || (len(a.Keys("user:")) != 2 && len(b.Keys("user:")) != 2) {
		t.Fatalf("the shards hold %v and %v; want the user: segment on one", a.Keys(""), b.Keys(""))
	}
	c.Close()
	stop()
	if code := <-done; code != 0 || !strings.Contains(logs.String(), "gibson proxy started") || !strings.Contains(logs.String(), "stopped") {
		t.Fatalf("exit %d, log:\n%s", code, logs.String())
	}
	var out bytes.Buffer
	if code := runProxy([]string{"--listen", "unix://" + sock}, &out, &out); code != 2 || !strings.Contains(out.String(), "--addr") {
		t.Errorf("no --addr: exit %d: %s", code, out.String())
	}
	out.Reset()
	if code := runProxy([]string{"--addr", "a=x:1,a=y:2"}, &out, &out); code != 2 || !strings.Contains(out.String(), "twice") {
		t.Errorf("a shard named twice: exit %d: %s", code, out.String())
	}
}
