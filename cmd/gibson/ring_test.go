package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/gogibson/gogibson/gibsontest"
)

// TestCLIRing: --addr a,b (or repeated) runs commands over a Ring, gibson shard KEY names the
// server a key lives on, and :shards lists the shards.
func TestCLIRing(t *testing.T) {
	s1, s2, s3 := gibsontest.NewServer(t), gibsontest.NewServer(t), gibsontest.NewServer(t)
	list := s1.Addr() + "," + s2.Addr() + "," + s3.Addr()
	a := testApp(t)
	for i := range 30 {
		k := "user:" + string(rune('a'+i))
		if r := a.runPiped("", "--addr", list, "set", "0", k, "v"); r.code != 0 {
			t.Fatalf("set %s: %+v", k, r)
		}
		r := a.runPiped("", "--addr", s1.Addr(), "--addr", s2.Addr(), "--addr", s3.Addr(), "shard", k)
		home := strings.TrimSpace(r.stdout)
		if r.code != 0 || home == "" {
			t.Fatalf("shard %s: %+v", k, r)
		}
		for _, s := range []*gibsontest.Server{s1, s2, s3} {
			if _, ok := s.Get(k); ok != (s.Addr() == home) {
				t.Fatalf("%s on %s: %v, but gibson shard says %s", k, s.Addr(), ok, home)
			}
		}
	}
	if len(s1.Keys("")) == 30 || len(s2.Keys("")) == 30 || len(s3.Keys("")) == 30 {
		t.Fatal("every key went to one server")
	}
	if r := a.runPiped("", "--addr", list, "count", "user:"); r.code != 0 || strings.TrimSpace(r.stdout) != "30" {
		t.Fatalf("count over the ring: %+v", r)
	}
	r := a.runPiped(":shards\ncount user:\n", "--addr", list)
	if r.code != 0 || strings.Count(r.stdout, "  up") != 3 || !strings.Contains(r.stdout, "30") {
		t.Fatalf(":shards and count in a script: %+v", r)
	}
	if r := a.runPiped("", "--addr", list, "end"); r.code == 0 || !strings.Contains(r.stderr, "refused on a Ring") {
		t.Fatalf("end over a ring: %+v", r)
	}
	if r := a.runPiped("", "--addr", s1.Addr()+",nonsense://x", "ping"); r.code != 2 {
		t.Fatalf("a bad address in the list: %+v", r)
	}
	// --segment: a segment's keys live on one server, and a prefix command on it asks that
	// server alone.
	for i := range 10 {
		if r := a.runPiped("", "--addr", list, "--segment", ":", "set", "0", fmt.Sprint("seg:", i), "v"); r.code != 0 {
			t.Fatalf("set with --segment: %+v", r)
		}
	}
	home := ""
	for _, s := range []*gibsontest.Server{s1, s2, s3} {
		if n := len(s.Keys("seg:")); n == 10 {
			home = s.Addr()
		} else if n != 0 {
			t.Fatalf("--segment : spread seg: keys: %d on %s", n, s.Addr())
		}
	}
	if r := a.runPiped("", "--addr", list, "--segment", ":", "shard", "seg:anything"); strings.TrimSpace(r.stdout) != home {
		t.Fatalf("shard with --segment: %+v; want %s", r, home)
	}
	if r := a.runPiped("", "--addr", list, "--segment", ":", "count", "seg:"); r.code != 0 || strings.TrimSpace(r.stdout) != "10" {
		t.Fatalf("count seg: with --segment: %+v", r)
	}

	// A shard down at start: the others serve, the down one is named on stderr.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := l.Addr().String()
	l.Close()
	r = a.runPiped("", "--addr", s1.Addr()+","+gone, "count", "user:")
	if r.code != 0 || strings.TrimSpace(r.stdout) != strconv.Itoa(len(s1.Keys("user:"))) || !strings.Contains(r.stderr, "shard "+gone+" is down") {
		t.Fatalf("count with a shard down at start: %+v", r)
	}
	if r := a.runPiped("", "--addr", gone+","+gone+"0", "ping"); r.code == 0 || !strings.Contains(r.stderr, "no shard answered") {
		t.Fatalf("ping with every shard down: %+v", r)
	}
	if r := a.runPiped("", "shard", "k"); r.code != 2 || !strings.Contains(r.stderr, "--addr") {
		t.Fatalf("shard without addresses: %+v", r)
	}
}
