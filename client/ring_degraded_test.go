package client

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
)

// refusingAddr returns a loopback TCP address nothing listens on (connections are refused),
// for a shard that is down; a server can be started on it later.
func refusingAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func shardInfo(r *Ring, name string) ShardInfo {
	for _, sh := range r.Shards() {
		if sh.Name == name {
			return sh
		}
	}
	return ShardInfo{}
}

// A Ring starts with a shard down: the shard is out of the hash, every key and fanned-out
// command is served by the others without an error, Shards shows it, and the heartbeat
// brings it in once a server answers on its address.
func TestRingStartsDegraded(t *testing.T) {
	ctx := context.Background()
	up := gibsontest.NewServer(t, gibsontest.WithTCP())
	downAddr := refusingAddr(t)
	r, err := NewRing(ctx, RingConfig{Shards: map[string]string{"a": up.Addr(), "b": downAddr},
		HeartbeatInterval: 10 * time.Millisecond}, WithPoolSize(2))
	if err != nil {
		t.Fatalf("NewRing with one shard down: %v", err)
	}
	defer r.Close()
	if sh := shardInfo(r, "b"); !sh.Down || sh.InHash || sh.Failures != DefaultHeartbeatFailures || sh.LastErr == nil {
		t.Fatalf("shard b at start: %+v; want down, out of the hash, with its dial error", sh)
	}
	for i := range 50 {
		key := "k" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		if got := r.ShardFor(key); got != "a" {
			t.Fatalf("ShardFor(%q) = %q with b down", key, got)
		}
		if err := r.Set(ctx, key, []byte("v"), 0); err != nil {
			t.Fatalf("SET %s with b down: %v", key, err)
		}
	}
	if n, err := r.Count(ctx, "k"); err != nil || n != 50 {
		t.Fatalf("COUNT with b down = %d, %v; want 50 and no error (b is not in the hash)", n, err)
	}

	back := gibsontest.NewServer(t, gibsontest.WithAddr(downAddr))
	waitFor(t, "the heartbeat to bring b in", func() bool { sh := shardInfo(r, "b"); return !sh.Down && sh.InHash })
	onB := ""
	for i := 0; onB == ""; i++ {
		if k := "x" + strings.Repeat("y", i); r.ShardFor(k) == "b" {
			onB = k
		}
	}
	if err := r.Set(ctx, onB, []byte("here"), 0); err != nil {
		t.Fatalf("SET on b once it answers: %v", err)
	}
	if v, ok := back.Get(onB); !ok || string(v) != "here" {
		t.Fatalf("b's server holds %q, %v for %s; want the value set through the Ring", v, ok, onB)
	}
}

// With FailFast a shard down at start stays in the hash: its keys fail at once with an error
// naming it, and a fanned-out command reports it in an ErrPartial error.
func TestRingStartsDegradedFailFast(t *testing.T) {
	ctx := context.Background()
	up := gibsontest.NewServer(t)
	r, err := NewRing(ctx, RingConfig{Shards: map[string]string{"a": up.Addr(), "b": refusingAddr(t)},
		HeartbeatInterval: time.Hour, FailFast: true})
	if err != nil {
		t.Fatalf("NewRing with one shard down: %v", err)
	}
	defer r.Close()
	if sh := shardInfo(r, "b"); !sh.Down || !sh.InHash {
		t.Fatalf("shard b at start: %+v; want down and in the hash (FailFast)", sh)
	}
	key := ""
	for i := 0; key == ""; i++ {
		if k := "f" + strings.Repeat("o", i); r.ShardFor(k) == "b" {
			key = k
		}
	}
	err = within(t, "a key of the down shard", time.Second, func() error { return r.Set(ctx, key, []byte("v"), 0) })
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "shard b") {
		t.Fatalf("SET on the down shard: %v; want ErrClosed naming shard b", err)
	}
	if _, err := r.Count(ctx, "f"); !errors.Is(err, ErrPartial) {
		t.Fatalf("COUNT with b down (FailFast): %v; want ErrPartial", err)
	}
}

// TestNewRingErrors: bad configurations are refused with errors that say what to change, and
// a Ring whose every shard is unreachable is refused, naming each shard.
func TestNewRingErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := NewRing(ctx, RingConfig{}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("no shards: %v", err)
	}
	s := gibsontest.NewServer(t)
	if _, err := NewRing(ctx, RingConfig{Shards: map[string]string{"": s.Addr()}}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("empty name: %v", err)
	}
	_, err := NewRing(ctx, RingConfig{Shards: map[string]string{"ok": s.Addr(), "bad": "tcp://"}})
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "shard bad") {
		t.Errorf("bad address: %v; want ErrInvalidArgument naming shard bad", err)
	}
	_, err = NewRing(ctx, RingConfig{Shards: map[string]string{"x": refusingAddr(t), "y": refusingAddr(t)}}, WithDialTimeout(time.Second))
	if err == nil || !strings.Contains(err.Error(), "shard x") || !strings.Contains(err.Error(), "shard y") || errors.Is(err, ErrPartial) {
		t.Errorf("no shard reachable: %v; want an error naming x and y, not ErrPartial", err)
	}
}
