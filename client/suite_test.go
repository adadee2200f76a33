package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/wire"
)

// target is what the behaviour suite runs against: the typed commands of a Client, Conn or
// Pool, and a way to let time pass on the server.
type target struct {
	cmds  *generated.Commands
	do    func(ctx context.Context, op wire.Opcode, args ...[]byte) (wire.Reply, error)
	sleep func(d time.Duration) // FastForward on the embedded server, a real sleep otherwise
}

// TestSuiteEmbedded runs the behaviour suite against gibsontest through a Client, a Conn
// and a Pool.
func TestSuiteEmbedded(t *testing.T) {
	for _, kind := range []string{"Client", "Conn", "Pool"} {
		t.Run(kind, func(t *testing.T) {
			s := gibsontest.NewServer(t)
			runSuite(t, newTarget(t, kind, s.Addr(), s.FastForward))
		})
	}
}

// TestSuiteReal runs the same suite against a real Gibson server at GIBSON_TEST_ADDR.
func TestSuiteReal(t *testing.T) {
	a := os.Getenv("GIBSON_TEST_ADDR")
	if a == "" {
		t.Skip("GIBSON_TEST_ADDR is not set; set it to a real Gibson server's address to run the suite against it")
	}
	for _, kind := range []string{"Client", "Conn"} {
		t.Run(kind, func(t *testing.T) {
			// A real server's clock cannot be moved: its TTLs pass in real time, and it
			// expires keys in a cron pass (up to a second late), hence the margin.
			runSuite(t, newTarget(t, kind, a, func(d time.Duration) { time.Sleep(d + 1200*time.Millisecond) }))
		})
	}
}

func newTarget(t *testing.T, kind, address string, sleep func(time.Duration)) target {
	ctx := context.Background()
	switch kind {
	case "Conn":
		c, err := DialConn(ctx, address)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return target{&c.cmds, c.Do, sleep}
	case "Pool":
		p, err := NewPool(ctx, address, PoolConfig{MinSize: 1, MaxSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return target{&p.cmds, p.Do, sleep}
	}
	c, err := Dial(ctx, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return target{&c.cmds, c.Do, sleep}
}

func runSuite(t *testing.T, tg target) {
	c := tg.cmds
	ctx := context.Background()
	// Each subtest works under its own prefix, so a shared real server is fine.
	run := 0
	prefix := func() string {
		run++
		return fmt.Sprintf("gg%x.%d:", time.Now().UnixNano(), run)
	}
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	wantErr := func(t *testing.T, err, kind error, verb string) {
		t.Helper()
		if !errors.Is(err, kind) {
			t.Fatalf("error %v; want %v", err, kind)
		}
		if !strings.Contains(err.Error(), verb) {
			t.Fatalf("error %q does not name %s", err, verb)
		}
	}

	t.Run("SetGet", func(t *testing.T) {
		p := prefix()
		must(t, c.Set(ctx, p+"a", []byte("alice"), 0))
		must(t, c.Set(ctx, p+"b", []byte("value with spaces"), time.Minute))
		if v, err := c.Get(ctx, p+"a"); err != nil || string(v) != "alice" {
			t.Fatalf("Get = %q, %v", v, err)
		}
		if v, err := c.Get(ctx, p+"b"); err != nil || string(v) != "value with spaces" {
			t.Fatalf("Get = %q, %v", v, err)
		}
		must(t, c.Set(ctx, p+"a", []byte("bob"), 0))
		if v, _ := c.Get(ctx, p+"a"); string(v) != "bob" {
			t.Fatalf("Get after overwrite = %q", v)
		}
		_, err := c.Get(ctx, p+"missing")
		wantErr(t, err, ErrNotFound, "GET")
		if !errors.Is(err, wire.ErrNotFound) {
			t.Fatal("client.ErrNotFound and wire.ErrNotFound differ")
		}
		var ge *Error
		if !errors.As(err, &ge) || ge.Command != "GET" {
			t.Fatalf("errors.As(*Error) = %v, %+v", err, ge)
		}
	})

	t.Run("Numbers", func(t *testing.T) {
		p := prefix()
		must(t, c.Set(ctx, p+"n", []byte("41"), 0))
		if v, _ := c.Get(ctx, p+"n"); string(v) != "41" {
			t.Fatalf("Get of stored text = %q", v)
		}
		if enc, err := c.MetaEncoding(ctx, p+"n"); err != nil || enc != 0 {
			t.Fatalf("MetaEncoding of text = %d, %v; want 0 (SET stores text)", enc, err)
		}
		if n, err := c.Inc(ctx, p+"n"); err != nil || n != 42 {
			t.Fatalf("Inc = %d, %v", n, err)
		}
		if v, _ := c.Get(ctx, p+"n"); string(v) != "42" {
			t.Fatalf("Get of a number item = %q; want decimal text", v)
		}
		if enc, _ := c.MetaEncoding(ctx, p+"n"); enc != 2 {
			t.Fatalf("MetaEncoding after Inc = %d; want 2", enc)
		}
		if size, _ := c.MetaSize(ctx, p+"n"); size != 8 {
			t.Fatalf("MetaSize of a number = %d; want 8", size)
		}
		for range 50 {
			if _, err := c.Dec(ctx, p+"n"); err != nil {
				t.Fatal(err)
			}
		}
		if v, _ := c.Get(ctx, p+"n"); string(v) != "-8" {
			t.Fatalf("Get of a negative number = %q; want -8", v)
		}
		if n, err := c.Inc(ctx, p+"new"); err != nil || n != 1 {
			t.Fatalf("Inc of a missing key = %d, %v; want 1", n, err)
		}
		if n, err := c.Dec(ctx, p+"new2"); err != nil || n != 1 {
			t.Fatalf("Dec of a missing key = %d, %v; want 1 (server quirk)", n, err)
		}
		must(t, c.Set(ctx, p+"text", []byte("abc"), 0))
		_, err := c.Inc(ctx, p+"text")
		wantErr(t, err, ErrNaN, "INC")
		_, err = c.Dec(ctx, p+"text")
		wantErr(t, err, ErrNaN, "DEC")
	})

	t.Run("Delete", func(t *testing.T) {
		p := prefix()
		must(t, c.Set(ctx, p+"k", []byte("v"), 0))
		if ok, err := c.Delete(ctx, p+"k"); err != nil || !ok {
			t.Fatalf("Delete = %v, %v; want true", ok, err)
		}
		if ok, err := c.Delete(ctx, p+"k"); err != nil || ok {
			t.Fatalf("Delete of a missing key = %v, %v; want false", ok, err)
		}
		if _, err := c.Get(ctx, p+"k"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get after Delete = %v", err)
		}
	})

	t.Run("TTLAndExpiry", func(t *testing.T) {
		p := prefix()
		must(t, c.Set(ctx, p+"short", []byte("v"), time.Second))
		must(t, c.Set(ctx, p+"sub", []byte("v"), 1100*time.Millisecond)) // rounds up to 2 s
		must(t, c.Set(ctx, p+"keep", []byte("v"), 0))
		if ttl, err := c.MetaTTL(ctx, p+"short"); err != nil || ttl != 1 {
			t.Fatalf("MetaTTL = %d, %v; want 1", ttl, err)
		}
		if ttl, _ := c.MetaTTL(ctx, p+"sub"); ttl != 2 {
			t.Fatalf("MetaTTL of a 1.1s TTL = %d; want 2 (rounded up)", ttl)
		}
		if ttl, _ := c.MetaTTL(ctx, p+"keep"); ttl != -1 {
			t.Fatalf("MetaTTL without TTL = %d; want -1", ttl)
		}
		if left, _ := c.MetaLeft(ctx, p+"keep"); left != -1 {
			t.Fatalf("MetaLeft without TTL = %d; want -1", left)
		}
		if ok, err := c.TTL(ctx, p+"keep", 100*time.Second); err != nil || !ok {
			t.Fatalf("TTL = %v, %v; want true", ok, err)
		}
		if ttl, _ := c.MetaTTL(ctx, p+"keep"); ttl != 100 {
			t.Fatalf("MetaTTL after TTL = %d; want 100", ttl)
		}
		if left, _ := c.MetaLeft(ctx, p+"keep"); left < 99 || left > 100 {
			t.Fatalf("MetaLeft = %d; want 99..100", left)
		}
		if ok, err := c.TTL(ctx, p+"missing", time.Second); err != nil || ok {
			t.Fatalf("TTL of a missing key = %v, %v; want false", ok, err)
		}
		tg.sleep(2 * time.Second)
		for _, k := range []string{"short", "sub"} {
			if _, err := c.Get(ctx, p+k); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get(%s) after its TTL = %v; want ErrNotFound", k, err)
			}
		}
		if v, err := c.Get(ctx, p+"keep"); err != nil || string(v) != "v" {
			t.Fatalf("Get(keep) = %q, %v", v, err)
		}
		if ok, _ := c.TTL(ctx, p+"keep", 0); !ok {
			t.Fatal("TTL 0 failed")
		}
		if ttl, _ := c.MetaTTL(ctx, p+"keep"); ttl != 0 {
			t.Fatalf("MetaTTL after TTL 0 = %d; want 0", ttl)
		}
	})

	t.Run("Locks", func(t *testing.T) {
		p := prefix()
		must(t, c.Set(ctx, p+"k", []byte("v"), 0))
		if l, _ := c.MetaLock(ctx, p+"k"); l != 0 {
			t.Fatalf("MetaLock of an unlocked item = %d; want 0", l)
		}
		if ok, err := c.Lock(ctx, p+"k", 10*time.Second); err != nil || !ok {
			t.Fatalf("Lock = %v, %v", ok, err)
		}
		if l, _ := c.MetaLock(ctx, p+"k"); l != 10 {
			t.Fatalf("MetaLock = %d; want 10", l)
		}
		wantErr(t, c.Set(ctx, p+"k", []byte("w"), 0), ErrLocked, "SET")
		_, err := c.Delete(ctx, p+"k")
		wantErr(t, err, ErrLocked, "DEL")
		_, err = c.Lock(ctx, p+"k", time.Second)
		wantErr(t, err, ErrLocked, "LOCK")
		if v, err := c.Get(ctx, p+"k"); err != nil || string(v) != "v" {
			t.Fatalf("Get of a locked item = %q, %v (locks do not block GET)", v, err)
		}
		if ok, err := c.Unlock(ctx, p+"k"); err != nil || !ok {
			t.Fatalf("Unlock = %v, %v", ok, err)
		}
		must(t, c.Set(ctx, p+"k", []byte("w"), 0))
		if ok, err := c.Lock(ctx, p+"k", LockForever); err != nil || !ok {
			t.Fatalf("Lock forever = %v, %v", ok, err)
		}
		if l, _ := c.MetaLock(ctx, p+"k"); l != -1 {
			t.Fatalf("MetaLock of a lock forever = %d; want -1", l)
		}
		tg.sleep(2 * time.Second)
		wantErr(t, c.Set(ctx, p+"k", []byte("x"), 0), ErrLocked, "SET")
		if ok, err := c.Lock(ctx, p+"missing", time.Second); err != nil || ok {
			t.Fatalf("Lock of a missing key = %v, %v; want false", ok, err)
		}
		if ok, err := c.Unlock(ctx, p+"missing"); err != nil || ok {
			t.Fatalf("Unlock of a missing key = %v, %v; want false", ok, err)
		}
		if _, err := c.Unlock(ctx, p+"k"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("MultiOrder", func(t *testing.T) {
		p := prefix()
		for _, k := range []string{"ob", "oa", "oab", "o", "oaa"} {
			must(t, c.Set(ctx, p+k, []byte("v-"+k), 0))
		}
		want := []string{p + "o", p + "ob", p + "oa", p + "oab", p + "oaa"}
		kvs, err := c.MGet(ctx, p+"o", 0)
		must(t, err)
		var got []string
		for _, kv := range kvs {
			got = append(got, kv.Key)
			if string(kv.Value) != "v-"+strings.TrimPrefix(kv.Key, p) {
				t.Errorf("MGet pair %q = %q", kv.Key, kv.Value)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("MGet order = %q; want server order %q", got, want)
		}
		keys, err := c.Keys(ctx, p+"o")
		must(t, err)
		if !slices.Equal(keys, want) {
			t.Fatalf("Keys = %q; want %q", keys, want)
		}
		kvs, err = c.MGet(ctx, p+"o", 2)
		must(t, err)
		if len(kvs) != 2 || kvs[0].Key != want[0] || kvs[1].Key != want[1] {
			t.Fatalf("MGet limit 2 = %v", kvs)
		}
		if n, err := c.Inc(ctx, p+"oab"); err == nil {
			t.Fatalf("Inc of text = %d", n)
		}
		must(t, c.Set(ctx, p+"oab", []byte("7"), 0))
		if _, err := c.Inc(ctx, p+"oab"); err != nil {
			t.Fatal(err)
		}
		kvs, _ = c.MGet(ctx, p+"oab", 0)
		if len(kvs) != 1 || string(kvs[0].Value) != "8" {
			t.Fatalf("MGet of a number item = %v; want decimal text 8", kvs)
		}
	})

	t.Run("MultiNothing", func(t *testing.T) {
		p := prefix() + "none"
		kvs, err := c.MGet(ctx, p, 0)
		if err != nil || kvs == nil || len(kvs) != 0 {
			t.Fatalf("MGet of nothing = %#v, %v; want an empty slice", kvs, err)
		}
		keys, err := c.Keys(ctx, p)
		if err != nil || keys == nil || len(keys) != 0 {
			t.Fatalf("Keys of nothing = %#v, %v; want an empty slice", keys, err)
		}
		counts := map[string]func() (int64, error){
			"MSet":    func() (int64, error) { return c.MSet(ctx, p, []byte("v")) },
			"MTTL":    func() (int64, error) { return c.MTTL(ctx, p, time.Second) },
			"MDelete": func() (int64, error) { return c.MDelete(ctx, p) },
			"MInc":    func() (int64, error) { return c.MInc(ctx, p) },
			"MDec":    func() (int64, error) { return c.MDec(ctx, p) },
			"MLock":   func() (int64, error) { return c.MLock(ctx, p, time.Second) },
			"MUnlock": func() (int64, error) { return c.MUnlock(ctx, p) },
			"Count":   func() (int64, error) { return c.Count(ctx, p) },
		}
		for name, f := range counts {
			if n, err := f(); err != nil || n != 0 {
				t.Errorf("%s on nothing = %d, %v; want 0, nil", name, n, err)
			}
		}
	})

	t.Run("MultiCounts", func(t *testing.T) {
		p := prefix()
		for _, k := range []string{"a", "b", "c"} {
			must(t, c.Set(ctx, p+k, []byte("1"), 0))
		}
		must(t, c.Set(ctx, p+"t", []byte("text"), 0))
		check := func(name string, n int64, err error, want int64) {
			t.Helper()
			if err != nil || n != want {
				t.Fatalf("%s = %d, %v; want %d", name, n, err, want)
			}
		}
		n, err := c.Count(ctx, p)
		check("Count", n, err, 4)
		n, err = c.MInc(ctx, p)
		check("MInc", n, err, 3) // the text item is not counted
		if v, _ := c.Get(ctx, p+"b"); string(v) != "2" {
			t.Fatalf("after MInc Get = %q", v)
		}
		n, err = c.MDec(ctx, p)
		check("MDec", n, err, 3)
		n, err = c.MTTL(ctx, p, time.Hour)
		check("MTTL", n, err, 4)
		if ttl, _ := c.MetaTTL(ctx, p+"a"); ttl != 3600 {
			t.Fatalf("MetaTTL after MTTL = %d", ttl)
		}
		if ok, _ := c.Lock(ctx, p+"a", time.Minute); !ok {
			t.Fatal("Lock failed")
		}
		n, err = c.MLock(ctx, p, time.Minute)
		check("MLock", n, err, 3) // a was locked already
		n, err = c.MSet(ctx, p, []byte("new value"))
		check("MSet on all locked", n, err, 0)
		n, err = c.MUnlock(ctx, p)
		check("MUnlock", n, err, 4)
		n, err = c.MSet(ctx, p, []byte("new value"))
		check("MSet", n, err, 4)
		if v, _ := c.Get(ctx, p+"c"); string(v) != "new value" {
			t.Fatalf("after MSet Get = %q", v)
		}
		n, err = c.MDelete(ctx, p)
		check("MDelete", n, err, 4)
		n, err = c.Count(ctx, p)
		check("Count after MDelete", n, err, 0)
	})

	t.Run("Meta", func(t *testing.T) {
		p := prefix()
		must(t, c.Set(ctx, p+"k", []byte("alice"), 0))
		st, err := c.Stats(ctx)
		must(t, err)
		if size, err := c.MetaSize(ctx, p+"k"); err != nil || size != 5 {
			t.Fatalf("MetaSize = %d, %v", size, err)
		}
		created, err := c.MetaCreated(ctx, p+"k")
		if err != nil || created < st.ServerTime-5 || created > st.ServerTime {
			t.Fatalf("MetaCreated = %d, %v; server time %d", created, err, st.ServerTime)
		}
		access, err := c.MetaAccess(ctx, p+"k")
		if err != nil || access < created || access > st.ServerTime+5 {
			t.Fatalf("MetaAccess = %d, %v; created %d", access, err, created)
		}
		for name, f := range map[string]func(context.Context, string) (int64, error){
			"MetaSize": c.MetaSize, "MetaEncoding": c.MetaEncoding, "MetaAccess": c.MetaAccess,
			"MetaCreated": c.MetaCreated, "MetaTTL": c.MetaTTL, "MetaLeft": c.MetaLeft, "MetaLock": c.MetaLock,
		} {
			_, err := f(ctx, p+"missing")
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s of a missing key = %v; want ErrNotFound", name, err)
			}
		}
	})

	t.Run("StatsAndPing", func(t *testing.T) {
		must(t, c.Ping(ctx))
		p := prefix()
		must(t, c.Set(ctx, p+"k", []byte("v"), 0))
		st, err := c.Stats(ctx)
		must(t, err)
		if st.ServerVersion == "" || st.ServerArch == "" || st.TotalItems < 1 || st.TotalRequests < 2 || st.ServerTime == 0 || st.TotalConnections < 1 {
			t.Fatalf("Stats typed fields look empty: %+v", st)
		}
		if len(st.All) != 27 || st.All[0].Key != "server_version" || string(st.All[0].Value) != st.ServerVersion {
			t.Fatalf("Stats.All = %d pairs starting %v; want 27 starting with server_version", len(st.All), st.All[:min(1, len(st.All))])
		}
		for _, kv := range st.All {
			if kv.Key == "total_requests" && string(kv.Value) != fmt.Sprint(st.TotalRequests) {
				t.Fatalf("total_requests %q vs typed %d", kv.Value, st.TotalRequests)
			}
		}
	})

	t.Run("ServerErrors", func(t *testing.T) {
		p := prefix()
		must(t, c.Set(ctx, p+"k", []byte("v"), 0))
		rep, err := tg.do(ctx, generated.OpMeta, []byte(p+"k"), []byte("bogus"))
		wantErr(t, err, ErrServer, "META")
		if rep.Code != wire.CodeErr {
			t.Fatalf("Do reply code %v; want ERR", rep.Code)
		}
		rep, err = tg.do(ctx, generated.OpGet, []byte(p+"k"))
		if err != nil || string(rep.Data) != "v" {
			t.Fatalf("Do(GET) = %+v, %v", rep, err)
		}
	})
}

func dialClient(t testing.TB, address string, opts ...Option) *Client {
	t.Helper()
	c, err := Dial(context.Background(), address, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
