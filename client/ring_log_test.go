package client

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
)

// withClock replaces the clock of the log's rate limits.
func withClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// A shard that stays down used to log a warning per heartbeat (22–33 lines in 4 s). Its
// change of state is logged once; while it stays down, one line per minute (of the injected
// clock) says how many heartbeats failed since; its return is logged once.
func TestShardDownLogsOncePerMinute(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	a := gibsontest.NewServer(t)
	downAddr := refusingAddr(t)
	var logs syncLog
	r, err := NewRing(context.Background(), RingConfig{Shards: map[string]string{"a": a.Addr(), "b": downAddr}, HeartbeatInterval: 2 * time.Millisecond},
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))), WithRedialBackoff(time.Millisecond, time.Millisecond), withClock(now))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	failures := func() int { return shardInfo(r, "b").Failures }
	waitFor(t, "40 failed heartbeats", func() bool { return failures() >= 40 })
	if out := logs.String(); strings.Count(out, "level=WARN") != 1 || !strings.Contains(out, "ring shard left the hash") {
		t.Fatalf("log after 40 failed heartbeats:\n%s\nwant one warning: b left the hash", out)
	}

	clock.Add(int64(time.Minute + time.Second))
	waitFor(t, "the once-a-minute reminder", func() bool { return strings.Contains(logs.String(), "ring shard still down") })
	base := failures()
	waitFor(t, "20 more failed heartbeats", func() bool { return failures() >= base+20 })
	out := logs.String()
	if strings.Count(out, "ring shard still down") != 1 || strings.Count(out, "reconnecting still fails") > 1 {
		t.Fatalf("log a minute and 60 heartbeats later:\n%s\nwant one reminder of each kind", out)
	}
	if !strings.Contains(out, "failures=") {
		t.Errorf("the reminder does not say how many failures:\n%s", out)
	}

	gibsontest.NewServer(t, gibsontest.WithAddr(downAddr))
	waitFor(t, "b to answer again", func() bool { return strings.Contains(logs.String(), "ring shard answers again") })
	if out := logs.String(); strings.Count(out, "level=WARN") > 3 {
		t.Fatalf("%d warnings for one outage:\n%s", strings.Count(out, "level=WARN"), out)
	}
}
