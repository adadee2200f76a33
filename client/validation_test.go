package client

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
)

// TestValidationSendsNothing checks every client-side refusal of docs/protocol.md §11: each returns
// ErrInvalidArgument naming the command, and the server sees no request at all.
func TestValidationSendsNothing(t *testing.T) {
	s := gibsontest.NewServer(t)
	c := dialClient(t, s.Addr())
	ctx := context.Background()
	key := func(n int) string { return strings.Repeat("k", n) }
	val := func(n int) []byte { return []byte(strings.Repeat("v", n)) }
	bad := []struct {
		name, verb string
		call       func() error
	}{
		{"Get empty key", "GET", func() error { _, err := c.Get(ctx, ""); return err }},
		{"Get key with space", "GET", func() error { _, err := c.Get(ctx, "a b"); return err }},
		{"Get key of 512 bytes", "GET", func() error { _, err := c.Get(ctx, key(512)); return err }},
		{"Set empty key", "SET", func() error { return c.Set(ctx, "", val(1), 0) }},
		{"Set key with space", "SET", func() error { return c.Set(ctx, "a b", val(1), 0) }},
		{"Set nil value", "SET", func() error { return c.Set(ctx, "k", nil, 0) }},
		{"Set empty value", "SET", func() error { return c.Set(ctx, "k", []byte{}, 0) }},
		{"Set value over 4096", "SET", func() error { return c.Set(ctx, "k", val(4097), 0) }},
		// SET's key shares max_key_size with "0 ": 510 bytes fit, 511 do not.
		{"Set key of 511 with ttl 0", "SET", func() error { return c.Set(ctx, key(511), val(1), 0) }},
		// With ttl 100 the prefix "100 " takes 4 bytes: 508 fit, 509 do not.
		{"Set key of 509 with ttl 100", "SET", func() error { return c.Set(ctx, key(509), val(1), 100*time.Second) }},
		{"Set ttl over 32767 s", "SET", func() error { return c.Set(ctx, "k", val(1), 32768*time.Second) }},
		{"Set ttl rounding over 32767 s", "SET", func() error { return c.Set(ctx, "k", val(1), 32767*time.Second+time.Millisecond) }},
		{"Set bare-number ttl (60 ns)", "SET", func() error { return c.Set(ctx, "k", val(1), 60) }},
		{"Set ttl of 500 ms", "SET", func() error { return c.Set(ctx, "k", val(1), 500*time.Millisecond) }},
		{"Lock of 1 ms", "LOCK", func() error { _, err := c.Lock(ctx, "k", time.Millisecond); return err }},
		{"MTTL of 10 ns", "MTTL", func() error { _, err := c.MTTL(ctx, "k", 10); return err }},
		{"Set negative ttl", "SET", func() error { return c.Set(ctx, "k", val(1), -time.Second) }},
		{"Delete empty key", "DEL", func() error { _, err := c.Delete(ctx, ""); return err }},
		{"TTL empty key", "TTL", func() error { _, err := c.TTL(ctx, "", time.Second); return err }},
		{"TTL over 32767 s", "TTL", func() error { _, err := c.TTL(ctx, "k", 40000*time.Second); return err }},
		{"TTL negative", "TTL", func() error { _, err := c.TTL(ctx, "k", -time.Second); return err }},
		{"Inc key with space", "INC", func() error { _, err := c.Inc(ctx, "a b"); return err }},
		{"Dec empty key", "DEC", func() error { _, err := c.Dec(ctx, ""); return err }},
		{"Lock empty key", "LOCK", func() error { _, err := c.Lock(ctx, "", time.Second); return err }},
		{"Lock zero", "LOCK", func() error { _, err := c.Lock(ctx, "k", 0); return err }},
		{"Lock negative", "LOCK", func() error { _, err := c.Lock(ctx, "k", -2*time.Second); return err }},
		{"Lock over 32767 s", "LOCK", func() error { _, err := c.Lock(ctx, "k", 32768*time.Second); return err }},
		{"Unlock key with space", "UNLOCK", func() error { _, err := c.Unlock(ctx, "a b"); return err }},
		{"MSet empty prefix", "MSET", func() error { _, err := c.MSet(ctx, "", val(1)); return err }},
		{"MSet empty value", "MSET", func() error { _, err := c.MSet(ctx, "p", nil); return err }},
		{"MSet value over 4096", "MSET", func() error { _, err := c.MSet(ctx, "p", val(4097)); return err }},
		{"MTTL prefix with space", "MTTL", func() error { _, err := c.MTTL(ctx, "a b", time.Second); return err }},
		{"MTTL over 32767 s", "MTTL", func() error { _, err := c.MTTL(ctx, "p", 32768*time.Second); return err }},
		{"MTTL negative", "MTTL", func() error { _, err := c.MTTL(ctx, "p", -time.Second); return err }},
		{"MGet empty prefix", "MGET", func() error { _, err := c.MGet(ctx, "", 0); return err }},
		{"MGet negative limit", "MGET", func() error { _, err := c.MGet(ctx, "p", -1); return err }},
		{"MGet prefix of 512", "MGET", func() error { _, err := c.MGet(ctx, key(512), 0); return err }},
		{"MDelete empty prefix", "MDEL", func() error { _, err := c.MDelete(ctx, ""); return err }},
		{"MInc empty prefix", "MINC", func() error { _, err := c.MInc(ctx, ""); return err }},
		{"MDec empty prefix", "MDEC", func() error { _, err := c.MDec(ctx, ""); return err }},
		{"MLock zero", "MLOCK", func() error { _, err := c.MLock(ctx, "p", 0); return err }},
		{"MLock over 32767 s", "MLOCK", func() error { _, err := c.MLock(ctx, "p", 32768*time.Second); return err }},
		{"MUnlock empty prefix", "MUNLOCK", func() error { _, err := c.MUnlock(ctx, ""); return err }},
		{"Count empty prefix", "COUNT", func() error { _, err := c.Count(ctx, ""); return err }},
		{"Keys prefix with space", "KEYS", func() error { _, err := c.Keys(ctx, "a b"); return err }},
		{"MetaSize empty key", "META", func() error { _, err := c.MetaSize(ctx, ""); return err }},
		{"MetaTTL key with space", "META", func() error { _, err := c.MetaTTL(ctx, "a b"); return err }},
		{"MetaLock key of 512", "META", func() error { _, err := c.MetaLock(ctx, key(512)); return err }},
	}
	before := s.Requests()
	for _, b := range bad {
		err := b.call()
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), b.verb) {
			t.Errorf("%s: %v; want ErrInvalidArgument naming %s", b.name, err, b.verb)
		}
	}
	if after := s.Requests(); after != before {
		t.Fatalf("the server saw %d requests for refused calls; want none", after-before)
	}

	// The limits are inclusive of what the server keeps, and sub-second durations round up.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Set(ctx, key(510), val(4096), 0))
	must(c.Set(ctx, "k"+key(507), val(1), 100*time.Second))
	if v, err := c.Get(ctx, key(510)); err != nil || len(v) != 4096 {
		t.Fatalf("Get of the largest value = %d bytes, %v", len(v), err)
	}
	must(c.Set(ctx, "r", val(1), 1500*time.Millisecond))
	if ttl, _ := c.MetaTTL(ctx, "r"); ttl != 2 {
		t.Fatalf("1.5 s TTL stored as %d; want 2 (rounded up)", ttl)
	}
	if ok, err := c.Lock(ctx, "r", time.Second+time.Millisecond); err != nil || !ok {
		t.Fatalf("Lock 1.001s = %v, %v", ok, err)
	}
	if l, _ := c.MetaLock(ctx, "r"); l != 2 {
		t.Fatalf("1.001 s lock stored as %d; want 2", l)
	}
	must(c.Set(ctx, "m", val(1), 32767*time.Second))
	if ttl, _ := c.MetaTTL(ctx, "m"); ttl != 32767 {
		t.Fatalf("32767 s TTL stored as %d", ttl)
	}
}

// TestValidationFollowsOptions checks that raised limits let bigger keys and values through
// to a server configured to match.
func TestValidationFollowsOptions(t *testing.T) {
	cfg := gibsontest.DefaultConfig()
	cfg.MaxKeySize, cfg.MaxValueSize = 1024, 10000
	s := gibsontest.NewServer(t, gibsontest.WithConfig(cfg))
	c := dialClient(t, s.Addr(), WithMaxKeySize(1024), WithMaxValueSize(10000))
	ctx := context.Background()
	k := strings.Repeat("k", 1022)
	v := []byte(strings.Repeat("v", 10000))
	if err := c.Set(ctx, k, v, 0); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, k); err != nil || len(got) != len(v) {
		t.Fatalf("Get = %d bytes, %v", len(got), err)
	}
	if err := c.Set(ctx, k+"k", v, 0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Set of a key over the raised limit = %v", err)
	}
	// A client whose limit is above the server's is told by Set's echo check.
	s2 := gibsontest.NewServer(t)
	c2 := dialClient(t, s2.Addr(), WithMaxValueSize(10000))
	if err := c2.Set(ctx, "k", v, 0); !errors.Is(err, ErrServer) || !strings.Contains(err.Error(), "4096") {
		t.Fatalf("Set truncated by the server = %v; want ErrServer mentioning 4096", err)
	}
}
