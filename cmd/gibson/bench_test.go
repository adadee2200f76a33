package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/gibsontest"
)

func (a *app) benchRun(args ...string) run {
	var out, errOut bytes.Buffer
	code := a.runBench(args, &out, &errOut)
	return run{code, out.String(), errOut.String()}
}

func TestBenchPrintsEveryField(t *testing.T) {
	srv := gibsontest.NewServer(t)
	tests := []string{"SET", "GET", "MGET", "META", "KEYS", "COUNT", "PING"}
	r := testApp(t).benchRun("--addr", srv.Addr(), "-n", "200", "-c", "4", "--keyspace", "10", "--compare", "-t", strings.ToLower(strings.Join(tests, ",")))
	if r.code != 0 {
		t.Fatalf("bench: %+v", r)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if want := fmt.Sprintf("server %s; 4 callers, %d connections, 3-byte values, keyspace 10", srv.Addr(), client.DefaultPoolSize); lines[0] != want {
		t.Errorf("header %q, want %q", lines[0], want)
	}
	if got := strings.Fields(lines[1]); strings.Join(got, " ") != "test mode requests errors seconds ops/s avg ms min ms p50 ms p90 ms p99 ms p99.9 ms max ms" {
		t.Errorf("columns %q", lines[1])
	}
	rows := lines[2 : 2+2*len(tests)]
	for i, row := range rows {
		f := strings.Fields(row)
		mode := []string{"client", "raw"}[i%2]
		if len(f) != 13 || f[0] != tests[i/2] || f[1] != mode || f[2] != "200" || f[3] != "0" {
			t.Errorf("row %q: want %s %s 200 requests, 0 errors, 13 fields", row, tests[i/2], mode)
			continue
		}
		var vals []float64
		for _, s := range f[4:] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Errorf("row %q: %q is not a number", row, s)
			}
			vals = append(vals, v)
		}
		// 200 requests may take under a millisecond: seconds (3 decimals) may print as 0.000.
		// vals: seconds, ops/s, avg, min, p50, p90, p99, p99.9, max.
		avg, lo, hi := vals[2], vals[3], vals[8]
		if vals[0] < 0 || vals[1] <= 0 || !(lo <= vals[4] && vals[4] <= vals[5] && vals[5] <= vals[6] && vals[6] <= vals[7]) || lo > avg || avg > hi {
			t.Errorf("row %q: seconds must not be negative, ops/s positive, min <= avg <= max, percentiles ordered", row)
		}
	}
	ratios := lines[2+2*len(tests):]
	if len(ratios) != len(tests) || !strings.HasPrefix(ratios[0], "SET: client/raw = ") {
		t.Errorf("ratio lines %q", ratios)
	}
}

func TestBenchJSON(t *testing.T) {
	srv := gibsontest.NewServer(t)
	r := testApp(t).benchRun("--addr", srv.Addr(), "-n", "200", "-c", "3", "--conns", "1", "-d", "4000", "--raw", "--json")
	if r.code != 0 {
		t.Fatalf("bench: %+v", r)
	}
	var doc struct {
		Addr      string
		Embedded  bool
		Callers   int
		Conns     int
		ValueSize int `json:"value_size"`
		Keyspace  int
		Results   []map[string]any
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if doc.Addr != srv.Addr() || doc.Embedded || doc.Callers != 3 || doc.Conns != 1 || doc.ValueSize != 4000 || doc.Keyspace != 1 || len(doc.Results) != 2 {
		t.Fatalf("document %+v", doc)
	}
	for i, res := range doc.Results {
		if res["test"] != []string{"SET", "GET"}[i] || res["mode"] != "raw" || res["requests"] != 200.0 || res["errors"] != 0.0 {
			t.Errorf("result %v", res)
		}
		for _, k := range []string{"seconds", "ops_per_sec", "avg_ms", "min_ms", "p50_ms", "p90_ms", "p99_ms", "p99_9_ms", "max_ms"} {
			if v, ok := res[k].(float64); !ok || v <= 0 {
				t.Errorf("result %s: %s = %v, want a positive number", res["test"], k, res[k])
			}
		}
	}
}

// One caller per connection takes the lock-step path (write, read, in one goroutine).
func TestBenchRawLockstep(t *testing.T) {
	srv := gibsontest.NewServer(t)
	r := testApp(t).benchRun("--addr", srv.Addr(), "-n", "300", "-c", "2", "--conns", "2", "-t", "set,get", "--raw", "--json", "--keep")
	if r.code != 0 {
		t.Fatalf("bench: %+v", r)
	}
	var doc struct{ Results []map[string]any }
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if len(doc.Results) != 2 {
		t.Fatalf("results %v", doc.Results)
	}
	for _, res := range doc.Results {
		if res["requests"] != 300.0 || res["errors"] != 0.0 {
			t.Errorf("result %v; want 300 requests, no errors", res)
		}
	}
	// Every SET reached the server: the lock-step path sends what it counts.
	if v, ok := srv.Get("gibson-bench:set:000000000000"); !ok || string(v) != "xxx" {
		t.Errorf("server has no value from the SETs under gibson-bench:set:000000000000 (%q, %v)", v, ok)
	}
}

func TestBenchEmbedded(t *testing.T) {
	r := testApp(t).benchRun("-n", "200", "-c", "2", "-t", "ping")
	if r.code != 0 || !strings.Contains(r.stdout, "(embedded, in-process)") || !strings.Contains(r.stdout, "PING  client") {
		t.Errorf("bench without an address: %+v", r)
	}
}

// Each test has its own keys, stored before it runs: INC counts from the stored text and
// DEL finds its items, whatever SET and LOCK did before, and every mode starts unlocked.
// LOCK locks each of its -n keys once, so none of its requests fails.
func TestBenchKeySpacesAndLocks(t *testing.T) {
	srv := gibsontest.NewServer(t)
	srv.FastForward(0) // a manual clock: the bench's 1 s locks do not run out
	r := testApp(t).benchRun("--addr", srv.Addr(), "-n", "50", "-c", "2", "-t", "set,lock,inc,del,get", "--compare", "--json", "--keep")
	var doc struct {
		Results []benchResult
		Compare []benchRatio
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Results) != 10 || r.code != 0 {
		t.Fatalf("%v: %+v", err, r)
	}
	for _, res := range doc.Results {
		if res.Errors != 0 || res.OpsPerSec <= 0 {
			t.Errorf("%s (%s): %d errors %v, %.0f ops/s; want none, and a positive rate", res.Test, res.Mode, res.Errors, res.ErrorReasons, res.OpsPerSec)
		}
	}
	if len(doc.Compare) != 5 || doc.Compare[0].Test != "SET" || doc.Compare[0].ClientOverRaw <= 0 {
		t.Errorf("--compare --json ratios: %+v", doc.Compare)
	}
	// Every LOCK locked a key of its own (a LOCK of a missing key would have answered
	// NOT_FOUND, which is not a failure): 50 keys, none of them left to lock.
	c, err := client.Dial(context.Background(), srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n, err := c.Count(context.Background(), "gibson-bench:lock:"); err != nil || n != 50 {
		t.Errorf("LOCK's keys: %d, %v; want 50", n, err)
	}
	if n, err := c.MLock(context.Background(), "gibson-bench:lock:", time.Minute); err != nil || n != 0 {
		t.Errorf("MLOCK of LOCK's keys newly locked %d (%v); want 0, every one locked by the bench", n, err)
	}
}

// Failed requests are counted by reason, never as throughput or latency; the test says
// so and the exit status is 1, in every format.
func TestBenchFailuresAreNotThroughput(t *testing.T) {
	cfg := gibsontest.DefaultConfig()
	cfg.MaxMemory = 1 // the first SET (the bench's setup) fits, every later one answers MEM
	srv := gibsontest.NewServer(t, gibsontest.WithConfig(cfg))
	a := testApp(t)
	r := a.benchRun("--addr", srv.Addr(), "-n", "100", "-c", "2", "-t", "set")
	var row []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) == 13 && f[0] == "SET" {
			row = f
		}
	}
	if r.code != 1 || len(row) != 13 || row[3] != "100" || row[5] != "0" || row[6] != "0.000" {
		t.Errorf("every request failed: exit %d, row %q; want exit 1, 100 errors, 0 ops/s, no latency\n%s", r.code, row, r.stdout)
	}
	if !strings.Contains(r.stdout, "\nSET (client): 100 of 100 requests failed: 100 server memory limit reached\n") {
		t.Errorf("the failures are not explained:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "gibson bench: requests failed in SET (client); ops/s counts only those that succeeded") {
		t.Errorf("stderr %q", r.stderr)
	}
	for _, tc := range []struct{ format, want string }{
		{"--json", `"errors":100,"error_reasons":{"server memory limit reached":100},`},
		{"--csv", "\nSET,client,100,100,"},
		{"-q", "SET: 0 requests per second, p50=0.000 ms\nSET (client): 100 of 100 requests failed: 100 server memory limit reached\n"},
	} {
		srv := gibsontest.NewServer(t, gibsontest.WithConfig(cfg)) // the index keeps every key: a fresh server
		r := a.benchRun("--addr", srv.Addr(), "-n", "100", "-c", "2", "-t", "set", tc.format)
		if r.code != 1 || !strings.Contains(r.stdout, tc.want) {
			t.Errorf("%s: exit %d, %s; want 1 and %q", tc.format, r.code, r.stdout, tc.want)
		}
		if tc.format == "--json" && !strings.Contains(r.stdout, `"ops_per_sec":0,`) {
			t.Errorf("--json counts failures as throughput: %s", r.stdout)
		}
		if tc.format == "--csv" && !strings.Contains(r.stdout, ",0,0.000,0.000,") {
			t.Errorf("--csv counts failures as throughput: %s", r.stdout)
		}
	}
}

// The keys a run wrote are removed afterwards, even locked ones; --keep keeps them.
func TestBenchRemovesItsKeys(t *testing.T) {
	srv := gibsontest.NewServer(t)
	srv.Set("user:1", []byte("mine"), 0)
	a := testApp(t)
	if r := a.benchRun("--addr", srv.Addr(), "-n", "20", "-c", "2", "--keyspace", "5", "-t", "set,lock,mset"); r.code != 0 {
		t.Fatalf("bench: %+v", r)
	}
	if keys := srv.Keys("gibson-bench:"); len(keys) != 0 {
		t.Errorf("left behind: %q", keys)
	}
	if v, ok := srv.Get("user:1"); !ok || string(v) != "mine" {
		t.Errorf("the bench touched a key of its own: %q %v", v, ok)
	}
	if r := a.benchRun("--addr", srv.Addr(), "-n", "20", "-c", "2", "-t", "set", "--keep"); r.code != 0 {
		t.Fatalf("bench --keep: %+v", r)
	}
	if keys := srv.Keys("gibson-bench:set:"); len(keys) != 1 {
		t.Errorf("--keep: keys %q, want the one SET key", keys)
	}
}

// -d above the default max_value_size works once --max-value-size (with a suffix) allows
// it, on the embedded server and on a server configured for it.
func TestBenchLargeValues(t *testing.T) {
	cfg := gibsontest.DefaultConfig()
	cfg.MaxValueSize = 8 << 10
	srv := gibsontest.NewServer(t, gibsontest.WithConfig(cfg))
	a := testApp(t)
	for _, args := range [][]string{
		{"--addr", srv.Addr(), "-d", "5K", "--max-value-size", "8K", "--keep"},
		{"-d", "6000", "--max-value-size", "8k"},
	} {
		r := a.benchRun(append(args, "-n", "20", "-c", "2", "-t", "set,get", "--json")...)
		var doc struct {
			ValueSize int `json:"value_size"`
			Results   []benchResult
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Results) != 2 {
			t.Fatalf("%q: %v: %+v", args, err, r)
		}
		for _, res := range doc.Results {
			if res.Errors != 0 {
				t.Errorf("%q: %s: %d errors %v", args, res.Test, res.Errors, res.ErrorReasons)
			}
		}
	}
	if v, _ := srv.Get("gibson-bench:set:000000000000"); len(v) != 5<<10 {
		t.Errorf("stored value of %d bytes, want 5K", len(v))
	}
}

func TestBenchOutputFormats(t *testing.T) {
	srv := gibsontest.NewServer(t)
	a := testApp(t)
	r := a.benchRun("--addr", srv.Addr(), "-n", "30", "-c", "2", "-t", "set,get", "-q")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "SET: ") || !strings.Contains(lines[0], " requests per second, p50=") {
		t.Errorf("-q: %+v", r)
	}
	r = a.benchRun("--addr", srv.Addr(), "-n", "30", "-c", "2", "-t", "set,get", "--csv")
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][0] != "test" || recs[0][6] != "avg_ms" || recs[1][0] != "SET" || recs[2][1] != "client" || len(recs[1]) != 14 {
		t.Errorf("--csv: %v %q", err, r.stdout)
	}
	if r := a.benchRun("-q", "--json"); r.code != 2 || !strings.Contains(r.stderr, "exclude each other") {
		t.Errorf("-q --json: %+v", r)
	}
}

// On a terminal the bench shows a progress line on stderr and clears it.
func TestBenchProgress(t *testing.T) {
	srv := gibsontest.NewServer(t)
	a := testApp(t)
	a.isTerminal = func(f any) bool { _, ok := f.(*bytes.Buffer); return ok }
	r := a.benchRun("--addr", srv.Addr(), "-n", "30", "-c", "2", "-t", "ping")
	if !strings.Contains(r.stderr, "\rPING (client): 0/30") || !strings.HasSuffix(r.stderr, "\r\033[K") {
		t.Errorf("progress on a terminal: %q", r.stderr)
	}
	if r := testApp(t).benchRun("--addr", srv.Addr(), "-n", "30", "-c", "2", "-t", "ping"); r.stderr != "" {
		t.Errorf("progress without a terminal: %q", r.stderr)
	}
}

func TestBenchFlags(t *testing.T) {
	a := testApp(t)
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"-t", "frob", "-n", "10"}, 2, `unknown test "frob"; the tests are set, ttl, get,`},
		{[]string{"-c", "0"}, 2, "at least 1"},
		{[]string{"extra"}, 2, "unexpected argument"},
		{[]string{"-d", "5000", "-n", "10"}, 2, "-d 5000 is over the server's max_value_size 4K: raise --max-value-size"},
		{[]string{"-d", "lots"}, 2, "want a whole number of bytes"},
		{[]string{"--help"}, 0, ""},
	} {
		if r := a.benchRun(tc.args...); r.code != tc.code || !strings.Contains(r.stderr, tc.err) {
			t.Errorf("bench %q: %+v; want exit %d and %q", tc.args, r, tc.code, tc.err)
		}
	}
}

// -P 16 sends every request exactly once, in batches (the last one short: 1000 is not a
// multiple of 16), with the client and with --raw: each INC of the one key reaches the
// server, so the key counts to 1000, and the JSON says the pipeline.
func TestBenchPipeline(t *testing.T) {
	for _, mode := range [][]string{{"-P", "16"}, {"--pipeline", "16", "--raw"}} {
		t.Run(strings.Join(mode, " "), func(t *testing.T) {
			srv := gibsontest.NewServer(t)
			args := append([]string{"--addr", srv.Addr(), "-n", "1000", "-c", "3", "--conns", "2", "-t", "inc", "--json", "--keep"}, mode...)
			before := srv.Requests()
			r := testApp(t).benchRun(args...)
			if r.code != 0 {
				t.Fatalf("bench: %+v", r)
			}
			var doc struct {
				Pipeline int
				Results  []map[string]any
			}
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
				t.Fatalf("%v: %s", err, r.stdout)
			}
			if doc.Pipeline != 16 || len(doc.Results) != 1 {
				t.Fatalf("document %s: want pipeline 16 and one result", r.stdout)
			}
			if res := doc.Results[0]; res["requests"] != 1000.0 || res["errors"] != 0.0 {
				t.Errorf("result %v; want 1000 requests, no errors", res)
			}
			if v, ok := srv.Get("gibson-bench:inc:000000000000"); !ok || string(v) != "1000" {
				t.Errorf("the key counted to %q (%v), want 1000: not every INC was sent once", v, ok)
			}
			// 1000 INCs plus the setup (MUNLOCK, MDEL, SET): nothing sent twice or left out.
			if n := srv.Requests() - before; n != 1003 {
				t.Errorf("server processed %d requests, want 1003", n)
			}
		})
	}
}

func TestBenchPipelineMustBePositive(t *testing.T) {
	r := testApp(t).benchRun("-P", "0", "-n", "10")
	if r.code != 2 || !strings.Contains(r.stderr, "-P/--pipeline must be at least 1") {
		t.Errorf("-P 0: %+v", r)
	}
}

// closeOnRow is stdout that closes a server once the report has printed a row for test.
type closeOnRow struct {
	buf  bytes.Buffer
	test string
	srv  *gibsontest.Server
	done bool
}

func (w *closeOnRow) Write(p []byte) (int, error) {
	for _, l := range strings.Split(string(p), "\n") {
		if f := strings.Fields(l); !w.done && len(f) == 13 && f[0] == w.test {
			w.done = true
			w.srv.Close()
		}
	}
	return w.buf.Write(p)
}

// Each test is printed as it completes: when the server dies after the first test, its
// row is there, the run says what stopped it, and the exit status is 1.
func TestBenchReportsEachTestAsItCompletes(t *testing.T) {
	srv := gibsontest.NewServer(t)
	out := &closeOnRow{test: "SET", srv: srv}
	var errOut bytes.Buffer
	code := testApp(t).runBench([]string{"--addr", srv.Addr(), "-n", "50", "-c", "2", "-t", "set,get"}, out, &errOut)
	if code != 1 || !out.done || !strings.Contains(errOut.String(), "gibson bench: GET: clearing its keys before the test: ") {
		t.Errorf("server closed after SET: exit %d, stdout %q, stderr %q; want 1, the SET row, and why GET did not run", code, out.buf.String(), errOut.String())
	}

	// --json, one document, still holds the tests that completed, and the error.
	cfg := gibsontest.DefaultConfig()
	cfg.MaxMemory = 1 // GET's setup (a SET) is refused once SET's test has filled the memory
	srv = gibsontest.NewServer(t, gibsontest.WithConfig(cfg))
	r := testApp(t).benchRun("--addr", srv.Addr(), "-n", "50", "-c", "2", "-t", "set,get", "--json")
	var doc struct {
		Results []benchResult
		Error   string
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 1 || len(doc.Results) != 1 || doc.Results[0].Test != "SET" ||
		doc.Error != "GET: storing its keys before the test: SET: server memory limit reached" {
		t.Errorf("--json of a run stopped early: %v, %+v", err, r)
	}
}

// When stdout is not a terminal, progress goes to stderr as lines, at most once a second.
func TestBenchProgressOnAPipe(t *testing.T) {
	h := gibsontest.NewHostile(t)
	h.StallAt(5) // the test cannot end before the tick below has been taken
	a := testApp(t)
	tick := make(chan time.Time)
	var every time.Duration
	a.ticker = func(d time.Duration) (<-chan time.Time, func()) { every = d; return tick, func() {} }
	res := make(chan run, 1)
	go func() { res <- a.benchRun("--addr", h.Addr(), "-n", "20", "-c", "1", "-t", "ping") }()
	tick <- time.Now() // taken by the running test's progress reporter
	h.Disarm()
	h.CloseClientConnections() // the stalled PING is retried on a new connection
	r := <-res
	if r.code != 0 || every != time.Second {
		t.Errorf("bench: %+v; progress every %v, want 1s", r, every)
	}
	if !regexp.MustCompile(`^gibson bench: PING \(client\): [0-4]/20 requests after \d+ s\n$`).MatchString(r.stderr) {
		t.Errorf("progress on a pipe: %q", r.stderr)
	}
}

// --raw and --compare measure one server; several addresses are a clear error.
func TestBenchCompareNeedsOneServer(t *testing.T) {
	for _, mode := range []string{"--compare", "--raw"} {
		r := testApp(t).benchRun("--addr", "/tmp/a.sock,/tmp/b.sock", mode)
		if r.code != 2 || !strings.Contains(r.stderr, "gibson bench: --raw and --compare measure one server, and --addr names 2; give one address") {
			t.Errorf("%s over two servers: %+v", mode, r)
		}
	}
}
