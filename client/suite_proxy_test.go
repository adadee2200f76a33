package client

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/internal/proxy"
)

// TestSuiteProxy runs the behaviour suite through gibson proxy in front of a Ring (Segment
// ":") of three embedded servers: a Client, a Conn and a Pool see the same answers as from
// one server. Every subtest works under a prefix holding a ':', so each lives on one shard
// and its prefix commands are exact.
func TestSuiteProxy(t *testing.T) {
	for _, kind := range []string{"Client", "Conn", "Pool"} {
		t.Run(kind, func(t *testing.T) {
			var shards []*gibsontest.Server
			m := map[string]string{}
			for _, n := range []string{"a", "b", "c"} {
				s := gibsontest.NewServer(t)
				shards = append(shards, s)
				m[n] = s.Addr()
			}
			r, err := NewRing(context.Background(), RingConfig{Shards: m, Segment: ":", HeartbeatInterval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			p := proxy.New(proxy.Config{Batch: func() proxy.Batcher { return r.Batch() }, Exec: r})
			path := filepath.Join(t.TempDir(), "proxy.sock")
			l, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			go p.Serve(l)
			t.Cleanup(func() { p.Close() })
			runSuite(t, newTarget(t, kind, path, func(d time.Duration) {
				for _, s := range shards {
					s.FastForward(d)
				}
			}))
		})
	}
}
