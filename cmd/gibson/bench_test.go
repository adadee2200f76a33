package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

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
	if got := strings.Fields(lines[1]); strings.Join(got, " ") != "test mode requests errors seconds ops/s p50 ms p90 ms p99 ms p99.9 ms" {
		t.Errorf("columns %q", lines[1])
	}
	rows := lines[2 : 2+2*len(tests)]
	for i, row := range rows {
		f := strings.Fields(row)
		mode := []string{"client", "raw"}[i%2]
		if len(f) != 10 || f[0] != tests[i/2] || f[1] != mode || f[2] != "200" || f[3] != "0" {
			t.Errorf("row %q: want %s %s 200 requests, 0 errors, 10 fields", row, tests[i/2], mode)
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
		if vals[0] < 0 || vals[1] <= 0 || !(vals[2] <= vals[3] && vals[3] <= vals[4] && vals[4] <= vals[5]) {
			t.Errorf("row %q: seconds must not be negative, ops/s positive, percentiles ordered", row)
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
		for _, k := range []string{"seconds", "ops_per_sec", "p50_ms", "p90_ms", "p99_ms", "p99_9_ms"} {
			if v, ok := res[k].(float64); !ok || v <= 0 {
				t.Errorf("result %s: %s = %v, want a positive number", res["test"], k, res[k])
			}
		}
	}
}

// One caller per connection takes the lock-step path (write, read, in one goroutine).
func TestBenchRawLockstep(t *testing.T) {
	srv := gibsontest.NewServer(t)
	r := testApp(t).benchRun("--addr", srv.Addr(), "-n", "300", "-c", "2", "--conns", "2", "-t", "set,get", "--raw", "--json")
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
	if v, ok := srv.Get("key:000000000000"); !ok || len(v) == 0 {
		t.Errorf("server has no value for key:000000000000 after the SETs (%q, %v)", v, ok)
	}
}

func TestBenchEmbedded(t *testing.T) {
	r := testApp(t).benchRun("-n", "200", "-c", "2", "-t", "ping")
	if r.code != 0 || !strings.Contains(r.stdout, "(embedded, in-process)") || !strings.Contains(r.stdout, "PING  client") {
		t.Errorf("bench without an address: %+v", r)
	}
}

func TestBenchCountsErrors(t *testing.T) {
	srv := gibsontest.NewServer(t)
	a := testApp(t)
	a.run("", "--addr", srv.Addr(), "set", "0", "key:000000000000", "text")
	r := a.benchRun("--addr", srv.Addr(), "-n", "50", "-c", "2", "-t", "inc", "--compare", "--json")
	var doc struct{ Results []struct{ Errors int } }
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Results) != 2 {
		t.Fatalf("%v: %+v", err, r)
	}
	for _, res := range doc.Results {
		if res.Errors != 50 {
			t.Errorf("INC of a text value: %d errors, want 50 (every reply is NAN)", res.Errors)
		}
	}
}

func TestBenchFlags(t *testing.T) {
	a := testApp(t)
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"-t", "frob", "-n", "10"}, 1, `unknown command "frob"`},
		{[]string{"-c", "0"}, 2, "at least 1"},
		{[]string{"extra"}, 2, "unexpected argument"},
		{[]string{"-d", "5000", "-n", "10"}, 1, "max_value_size"},
	} {
		if r := a.benchRun(tc.args...); r.code != tc.code || !strings.Contains(r.stderr, tc.err) {
			t.Errorf("bench %q: %+v; want exit %d and %q", tc.args, r, tc.code, tc.err)
		}
	}
}
