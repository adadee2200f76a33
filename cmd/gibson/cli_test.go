package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/gibsontest"
)

// testApp is the real tool with nothing reachable at the default addresses, no
// GIBSON_ADDR, no terminal and no history file, so tests do not depend on the machine.
func testApp(t *testing.T) *app {
	a := newApp()
	dir := t.TempDir()
	a.defaults = []string{"unix://" + filepath.Join(dir, "none.sock"), "unix://" + filepath.Join(dir, "none2.sock")}
	a.getenv = func(string) string { return "" }
	a.isTerminal = func(f any) bool { _, ok := f.(*termBuffer); return ok }
	a.home = func() (string, error) { return dir, nil }
	a.ticker = func(time.Duration) (<-chan time.Time, func()) { return nil, func() {} } // progress never ticks
	return a
}

// termBuffer stands for a terminal on stdout: run prints as a user at a terminal sees.
type termBuffer struct{ bytes.Buffer }

type run struct {
	code           int
	stdout, stderr string
}

// run runs gibson with stdout on a (pretend) terminal.
func (a *app) run(stdin string, args ...string) run {
	var out termBuffer
	var errOut bytes.Buffer
	code := a.runCLI(args, strings.NewReader(stdin), &out, &errOut)
	return run{code, out.String(), errOut.String()}
}

// runPiped runs gibson with stdout on a pipe.
func (a *app) runPiped(stdin string, args ...string) run {
	var out, errOut bytes.Buffer
	code := a.runCLI(args, strings.NewReader(stdin), &out, &errOut)
	return run{code, out.String(), errOut.String()}
}

func TestOneShot(t *testing.T) {
	srv := gibsontest.NewServer(t)
	a := testApp(t)
	for _, tc := range []struct {
		args       []string
		code       int
		out, errIs string
	}{
		{[]string{"--addr", srv.Addr(), "set", "0", "foo", "hello world"}, 0, "OK\n", ""},
		{[]string{"--addr", srv.Addr(), "GET", "foo"}, 0, "\"hello world\"\n", ""},
		{[]string{"--addr", srv.Addr(), "--raw", "get", "foo"}, 0, "hello world\n", ""},
		{[]string{"--addr", srv.Addr(), "--json", "get", "foo"}, 0, "\"hello world\"\n", ""},
		{[]string{"--addr", srv.Addr(), "set", "0", "two", "words", "joined"}, 0, "OK\n", ""},
		{[]string{"--addr", srv.Addr(), "get", "two"}, 0, "\"words joined\"\n", ""},
		{[]string{"--addr", srv.Addr(), "get", "missing"}, 0, "(nil)\n", ""},
		{[]string{"--addr", srv.Addr(), "inc", "foo"}, 1, "", "(error) gibson: INC: not a number\n"},
		{[]string{"--addr", srv.Addr(), "set", "0", "a b", "v"}, 1, "", "contains a space"},
		{[]string{"--addr", srv.Addr(), "frob"}, 1, "", `unknown command "frob"`},
		{[]string{"--addr", srv.Addr(), "--max-value-size", "3", "set", "0", "big", "1234"}, 1, "", "max_value_size 3"},
		{[]string{"--addr", srv.Addr(), "count", "foo"}, 0, "(integer) 1\n", ""},
		{[]string{"--addr", srv.Addr(), "meta", "foo", "size"}, 0, "(integer) 11\n", ""},
		{[]string{"--addr", srv.Addr(), "--raw", "--json", "ping"}, 2, "", "exclude each other"},
	} {
		r := a.run("", tc.args...)
		if r.code != tc.code || r.stdout != tc.out || !strings.Contains(r.stderr, tc.errIs) || (tc.errIs == "" && r.stderr != "") {
			t.Errorf("gibson %q = %d, stdout %q, stderr %q; want %d, %q, stderr containing %q", tc.args[2:], r.code, r.stdout, r.stderr, tc.code, tc.out, tc.errIs)
		}
	}
	// The rejected SET sent nothing: the key does not exist.
	if r := a.run("", "--addr", srv.Addr(), "--max-value-size", "3", "get", "big"); r.stdout != "(nil)\n" {
		t.Errorf("a SET refused by the client reached the server: %+v", r)
	}
}

func TestAddressFlags(t *testing.T) {
	srv := gibsontest.NewServer(t, gibsontest.WithTCP())
	unix := gibsontest.NewServer(t)
	host, port, _ := strings.Cut(srv.Addr(), ":")
	unixPath := strings.TrimPrefix(unix.Addr(), "unix://")
	a := testApp(t)
	a.run("", "--addr", srv.Addr(), "set", "0", "where", "tcp")
	a.run("", "--addr", unix.Addr(), "set", "0", "where", "unix")
	for _, args := range [][]string{
		{"-a", host, "-p", port},
		{"--address", host, "--port", port},
		{"--addr", "tcp://" + srv.Addr()},
		{"-u", unixPath},
		{"--unix", unixPath},
		{"--addr", unixPath},
	} {
		want := "\"tcp\"\n"
		if strings.Contains(strings.Join(args, " "), unixPath) {
			want = "\"unix\"\n"
		}
		if r := a.run("", append(args, "get", "where")...); r.code != 0 || r.stdout != want {
			t.Errorf("%q: %+v, want %q", args, r, want)
		}
	}
	a.getenv = func(k string) string {
		if k == "GIBSON_ADDR" {
			return srv.Addr()
		}
		return ""
	}
	if r := a.run("", "get", "where"); r.stdout != "\"tcp\"\n" || r.stderr != "" {
		t.Errorf("GIBSON_ADDR: %+v", r)
	}
	if r := a.run("", "--addr", "ftp://x", "ping"); r.code != 2 || !strings.Contains(r.stderr, "unsupported scheme") {
		t.Errorf("bad address: %+v", r)
	}
	missing := "unix://" + filepath.Join(t.TempDir(), "missing.sock")
	if r := a.run("", "--addr", missing, "ping"); r.code != 1 || !strings.Contains(r.stderr, "cannot connect to "+missing) || strings.Contains(r.stderr, "embedded") {
		t.Errorf("an explicit address that does not answer must fail, not fall back: %+v", r)
	}
}

func TestTimeoutFlag(t *testing.T) {
	for _, tc := range []struct {
		in               string
		connect, command string
	}{{"", "1s", "10s"}, {"2", "2s", "2s"}, {"0.25", "250ms", "250ms"}, {"1m", "1m0s", "1m0s"}} {
		c, cmd, err := addrFlags{timeout: tc.in}.timeouts()
		if err != nil || c.String() != tc.connect || cmd.String() != tc.command {
			t.Errorf("timeout %q = %v, %v, %v; want %s, %s", tc.in, c, cmd, err, tc.connect, tc.command)
		}
	}
	for _, bad := range []string{"soon", "0", "-1"} {
		if _, _, err := (addrFlags{timeout: bad}).timeouts(); err == nil || !strings.Contains(err.Error(), "--timeout") {
			t.Errorf("timeout %q: %v, want an error naming --timeout", bad, err)
		}
	}
}

// script is a session exercising every reply kind but STATS (whose figures change).
const script = `# comments and blank lines are skipped

set 0 user:1 alice
set 0 user:2 "bob \"the builder\"\n"
SET 0 user:3 it's fine
get user:2
get user:9
inc counter
inc counter
get counter
inc user:1
del user:9
del user:3
mget user:
mget user: 1
keys user:
count user:
count nobody:
mset user: x
mset nobody: x
mdel nobody:
meta user:1 size
meta user:1 SIZE
meta user:1 bogus
lock user:1 0
lock user:1 -1
set 0 user:1 again
unlock user:1
ping
set 0 "a b" v
frob
`

func TestScriptGolden(t *testing.T) {
	for _, mode := range []struct{ name, flag string }{{"text", ""}, {"raw", "--raw"}, {"json", "--json"}, {"csv", "--csv"}} {
		srv := gibsontest.NewServer(t)
		args := []string{"--addr", srv.Addr()}
		if mode.flag != "" {
			args = append(args, mode.flag)
		}
		r := testApp(t).run(script, args...)
		if r.code != 1 {
			t.Errorf("%s: exit %d, want 1 (some commands fail)", mode.name, r.code)
		}
		if r.stderr != "" {
			t.Errorf("%s: stderr %q", mode.name, r.stderr)
		}
		checkGolden(t, "script."+mode.name, r.stdout)
		if mode.name == "json" {
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if len(lines) != 29 {
				t.Errorf("json: %d lines, want one per command (29)", len(lines))
			}
			for _, l := range lines {
				if !json.Valid([]byte(l)) {
					t.Errorf("json: invalid line %s", l)
				}
			}
		}
	}
}

func TestScriptExitCode(t *testing.T) {
	srv := gibsontest.NewServer(t)
	a := testApp(t)
	if r := a.run("set 0 k v\n\n# note\nget k\nget nothing\n", "--addr", srv.Addr()); r.code != 0 || r.stdout != "OK\n\"v\"\n(nil)\n" {
		t.Errorf("script without failures: %+v", r)
	}
	if r := a.run("get k\n:quit\nfrob\n", "--addr", srv.Addr()); r.code != 0 || r.stdout != "\"v\"\n" {
		t.Errorf(":quit stops the script: %+v", r)
	}
}

func TestStatsLive(t *testing.T) {
	srv := gibsontest.NewServer(t)
	r := testApp(t).run("", "--addr", srv.Addr(), "stats")
	if r.code != 0 {
		t.Fatalf("stats: %+v", r)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 27 {
		t.Fatalf("stats: %d lines, want 27:\n%s", len(lines), r.stdout)
	}
	col := strings.Index(lines[0], "1.2.1")
	for _, l := range lines {
		if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("stats values not aligned at column %d: %q", col, l)
		}
	}
	var doc map[string]any
	r = testApp(t).run("", "--addr", srv.Addr(), "--json", "stats")
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc["server_version"] != "1.2.1" {
		t.Errorf("stats --json: %v, %v", err, doc)
	}
	if _, ok := doc["total_requests"].(float64); !ok {
		t.Errorf("stats --json: total_requests is %T, want a number", doc["total_requests"])
	}
}

// With no server, a command or a script fails instead of writing to a throw-away server;
// --embedded asks for one.
func TestNoSilentEmbeddedServer(t *testing.T) {
	a := testApp(t)
	want := "gibson: no Gibson server at " + a.defaults[0] + " or " + a.defaults[1] + "; start one with `gibson serve`"
	for _, tc := range []struct {
		stdin string
		args  []string
	}{
		{"", []string{"set", "0", "k", "v"}},
		{"set 0 k v\nget k\n", nil},
	} {
		r := a.run(tc.stdin, tc.args...)
		if r.code != 1 || r.stdout != "" || !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "--embedded") {
			t.Errorf("%q %q without a server: %+v; want exit 1 and %q", tc.args, tc.stdin, r, want)
		}
	}
	if r := a.run("set 0 k v\nget k\n", "--embedded"); r.code != 0 || r.stdout != "OK\n\"v\"\n" || r.stderr != "" {
		t.Errorf("script --embedded: %+v", r)
	}
	if r := a.run("", "--embedded", "ping"); r.code != 0 || r.stdout != "OK\n" {
		t.Errorf("one-shot --embedded: %+v", r)
	}
	// A fresh process gets a fresh embedded server: the data is gone.
	if r := a.run("", "--embedded", "get", "k"); r.stdout != "(nil)\n" {
		t.Errorf("second run: %+v", r)
	}
	if r := a.run("", "--embedded", "--addr", "/tmp/x.sock", "ping"); r.code != 2 || !strings.Contains(r.stderr, "leave out the address flags") {
		t.Errorf("--embedded with an address: %+v", r)
	}
}

// The REPL on a terminal keeps its fallback, and says that the data is temporary.
func TestREPLFallbackBanner(t *testing.T) {
	a := testApp(t)
	var errOut bytes.Buffer
	tg, err := a.connect(context.Background(), connectRequest{fallback: true, cfg: gibsontest.DefaultConfig()}, dialOptions{timeout: time.Second}, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.stop()
	defer tg.first.Close()
	if !strings.Contains(errOut.String(), "using an embedded server for this session: its data is temporary and is lost when you quit") {
		t.Errorf("banner: %q", errOut.String())
	}
	if _, err := tg.first.Do(context.Background(), generated.ByVerb("PING").Op); err != nil {
		t.Errorf("the embedded server does not answer: %v", err)
	}
}

func TestDefaultProbeFindsServer(t *testing.T) {
	srv := gibsontest.NewServer(t)
	a := testApp(t)
	a.defaults = append(a.defaults[:1], srv.Addr())
	a.run("", "--addr", srv.Addr(), "set", "0", "k", "from-default")
	r := a.run("", "get", "k")
	if r.code != 0 || r.stdout != "\"from-default\"\n" || r.stderr != "" {
		t.Errorf("default address probing: %+v", r)
	}
}
