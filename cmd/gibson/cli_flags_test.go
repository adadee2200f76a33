package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
)

// redis-cli's -h, -p and -s, gibson-cli's -u with any address form, and refusing flags
// that name two places.
func TestRedisCliAddressFlags(t *testing.T) {
	tcp := gibsontest.NewServer(t, gibsontest.WithTCP())
	unix := gibsontest.NewServer(t)
	tcp.Set("where", []byte("tcp"), 0)
	unix.Set("where", []byte("unix"), 0)
	host, port, _ := strings.Cut(tcp.Addr(), ":")
	path := strings.TrimPrefix(unix.Addr(), "unix://")
	a := testApp(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-h", host, "-p", port}, "tcp"},
		{[]string{"-s", path}, "unix"},
		{[]string{"-u", "tcp://" + tcp.Addr()}, "tcp"},
		{[]string{"-u", unix.Addr()}, "unix"},
	} {
		if r := a.run("", append(tc.args, "--raw", "get", "where")...); r.code != 0 || r.stdout != tc.want+"\n" {
			t.Errorf("%q: %+v, want %s", tc.args, r, tc.want)
		}
	}
	if r := a.run("", "--addr", tcp.Addr(), "-s", path, "ping"); r.code != 2 || !strings.Contains(r.stderr, "give the server one way") {
		t.Errorf("--addr with -s: %+v", r)
	}
	if r := a.run("", "-h"); r.code != 2 || !strings.Contains(r.stderr, "flag needs an argument: -h") {
		t.Errorf("-h is the host now: %+v", r)
	}
}

// --timeout bounds the wait for a reply, not only the connect.
func TestCommandTimeout(t *testing.T) {
	srv := gibsontest.NewServer(t)
	srv.SetReplyDelay(time.Minute)
	start := time.Now()
	r := testApp(t).run("", "--addr", srv.Addr(), "--timeout", "0.2", "get", "k")
	if time.Since(start) > 10*time.Second {
		t.Fatalf("gibson get took %v with --timeout 0.2", time.Since(start))
	}
	if r.code != 1 || !strings.Contains(r.stderr, "GET: no reply from "+srv.Addr()+" within 200ms (--timeout)") {
		t.Errorf("timeout: %+v", r)
	}
}

// A reply no Gibson server sends (an HTTP server's) says so, with the bytes it began with.
func TestNotAGibsonServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// Like an HTTP server, answer what was sent (a Gibson frame) with a 400.
			_, _ = c.Read(make([]byte, 64))
			_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
			_, _ = io.Copy(io.Discard, c) // keep the connection open until the client closes it
			c.Close()
		}
	}()
	r := testApp(t).run("", "--addr", ln.Addr().String(), "get", "k")
	want := `(the reply began with "HT"); is ` + ln.Addr().String() + ` a Gibson server?`
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("HTTP server: %+v; want %q", r, want)
	}
	if strings.Count(r.stderr, "gibson:") != 1 {
		t.Errorf("want one gibson: prefix: %q", r.stderr)
	}
}

// Errors from several layers carry one "gibson:" prefix.
func TestOneErrorPrefix(t *testing.T) {
	missing := "unix://" + filepath.Join(t.TempDir(), "missing.sock")
	r := testApp(t).run("", "--addr", missing, "ping")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "gibson: cannot connect to "+missing) || strings.Count(r.stderr, "gibson:") != 1 {
		t.Errorf("connect error: %+v", r)
	}
}

func TestRepeatAndInterval(t *testing.T) {
	srv := gibsontest.NewServer(t)
	a := testApp(t)
	if r := a.run("", "--addr", srv.Addr(), "-r", "3", "-i", "0.01", "inc", "n"); r.code != 0 || r.stdout != "(integer) 1\n(integer) 2\n(integer) 3\n" {
		t.Errorf("-r 3: %+v", r)
	}
	if r := a.run("", "--addr", srv.Addr(), "-r", "2", "inc"); r.code != 1 || !strings.Contains(r.stderr, "takes 1 argument") {
		t.Errorf("-r with a bad command: %+v", r)
	}
	if r := a.run("get k\n", "--addr", srv.Addr(), "-r", "2"); r.code != 2 || !strings.Contains(r.stderr, "-r, -i and -x apply to a command") {
		t.Errorf("-r without a command: %+v", r)
	}
	if r := a.run("", "--addr", srv.Addr(), "-i", "soon", "ping"); r.code != 2 || !strings.Contains(r.stderr, "-i \"soon\"") {
		t.Errorf("-i soon: %+v", r)
	}
}

// -x takes the last argument from stdin byte for byte.
func TestStdinArgument(t *testing.T) {
	srv := gibsontest.NewServer(t)
	a := testApp(t)
	data := "line 1\n\x00\xff trailing  \n"
	if r := a.run(data, "--addr", srv.Addr(), "-x", "set", "0", "blob"); r.code != 0 || r.stdout != "OK\n" {
		t.Fatalf("-x set: %+v", r)
	}
	if v, _ := srv.Get("blob"); string(v) != data {
		t.Errorf("stored %q, want %q", v, data)
	}
	if r := a.run("x", "--addr", srv.Addr(), "-x", "set", "0", "blob", "extra"); r.code != 1 || !strings.Contains(r.stderr, "-x reads the last argument from stdin, so give the 2 before it") {
		t.Errorf("-x with every argument given: %+v", r)
	}
}

// Output: text on a terminal, raw on a pipe (as redis-cli), --no-raw and --csv forced.
func TestOutputModes(t *testing.T) {
	srv := gibsontest.NewServer(t)
	srv.Set("k", []byte("v w"), 0)
	a := testApp(t)
	for _, tc := range []struct {
		piped bool
		args  []string
		want  string
	}{
		{false, nil, "\"v w\"\n"},
		{true, nil, "v w\n"},
		{true, []string{"--no-raw"}, "\"v w\"\n"},
		{false, []string{"--raw"}, "v w\n"},
		{true, []string{"--csv"}, "\"v w\"\n"},
		{true, []string{"--json"}, "\"v w\"\n"},
	} {
		args := append([]string{"--addr", srv.Addr()}, append(tc.args, "get", "k")...)
		r := a.run("", args...)
		if tc.piped {
			r = a.runPiped("", args...)
		}
		if r.code != 0 || r.stdout != tc.want {
			t.Errorf("piped=%v %q: %+v, want %q", tc.piped, tc.args, r, tc.want)
		}
	}
	if r := a.run("", "--csv", "--no-raw", "ping"); r.code != 2 || !strings.Contains(r.stderr, "--no-raw and --csv exclude each other") {
		t.Errorf("two formats: %+v", r)
	}
}

// --json gives every value as a JSON string; bytes that are not UTF-8 become \udcXX.
func TestJSONValuesAreStrings(t *testing.T) {
	srv := gibsontest.NewServer(t)
	srv.Set("bin", []byte("a\xff\xfeb\"é"), 0)
	srv.Set("txt", []byte("plain"), 0)
	a := testApp(t)
	r := a.run("", "--addr", srv.Addr(), "--json", "get", "bin")
	if r.stdout != `"a\udcff\udcfeb\"é"`+"\n" || !json.Valid([]byte(r.stdout)) {
		t.Errorf("non-UTF-8 value: %q", r.stdout)
	}
	r = a.run("", "--addr", srv.Addr(), "--json", "mget", "")
	r = a.run("", "--addr", srv.Addr(), "--json", "keys", "bi")
	var keys []string
	if err := json.Unmarshal([]byte(r.stdout), &keys); err != nil || len(keys) != 1 || keys[0] != "bin" {
		t.Errorf("keys: %v %q", err, r.stdout)
	}
	r = a.run("", "--addr", srv.Addr(), "--json", "get", "txt")
	var s string
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || s != "plain" {
		t.Errorf("text value: %v %q", err, r.stdout)
	}
	if r := a.run("", "help", "json"); r.code != 0 || !strings.Contains(r.stdout, `\udc80 … \udcff`) {
		t.Errorf("gibson help json: %+v", r)
	}
}

// Sizes take suffixes, errors name the CLI flag, and --config reads the server's limits
// and address from its gibson.conf.
func TestSizesAndConfig(t *testing.T) {
	cfg := gibsontest.DefaultConfig()
	cfg.MaxValueSize = 8 << 10
	srv := gibsontest.NewServer(t, gibsontest.WithConfig(cfg))
	a := testApp(t)
	big := strings.Repeat("v", 5000)
	r := a.run("", "--addr", srv.Addr(), "set", "0", "big", big)
	if r.code != 1 || !strings.Contains(r.stderr, "raise --max-value-size to the server's max_value_size (or pass --config with its gibson.conf)") || strings.Contains(r.stderr, "client's") {
		t.Errorf("value over the default limit: %+v", r)
	}
	if r := a.run("", "--addr", srv.Addr(), "--max-value-size", "8K", "set", "0", "big", big); r.code != 0 {
		t.Errorf("--max-value-size 8K: %+v", r)
	}
	if r := a.run("", "--max-value-size", "lots", "ping"); r.code != 2 || !strings.Contains(r.stderr, "--max-value-size") || !strings.Contains(r.stderr, "optional B, K, M or G suffix") {
		t.Errorf("--max-value-size lots: %+v", r)
	}
	conf := filepath.Join(t.TempDir(), "gibson.conf")
	text := "unix_socket " + strings.TrimPrefix(srv.Addr(), "unix://") + "\nmax_key_size 1K\nmax_value_size 8K\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := a.run("", "--config", conf, "set", "0", "big2", big); r.code != 0 || r.stdout != "OK\n" {
		t.Errorf("--config: %+v", r)
	}
	if v, _ := srv.Get("big2"); len(v) != 5000 {
		t.Errorf("--config did not reach the configured server: %d bytes stored", len(v))
	}
	if r := a.run("", "--config", conf, "--max-value-size", "4K", "set", "0", "big3", big); r.code != 1 {
		t.Errorf("an explicit --max-value-size must win over --config: %+v", r)
	}
	if err := os.WriteFile(conf, []byte("max_value_size lots\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := a.run("", "--config", conf, "ping"); r.code != 2 || !strings.Contains(r.stderr, "gibson.conf:1") {
		t.Errorf("bad config: %+v", r)
	}
}

// META fields are checked in any case before anything is sent.
func TestMetaFieldChecked(t *testing.T) {
	srv := gibsontest.NewServer(t)
	srv.Set("k", []byte("hello"), 0)
	a := testApp(t)
	if r := a.run("", "--addr", srv.Addr(), "meta", "k", "SIZE"); r.code != 0 || r.stdout != "(integer) 5\n" {
		t.Errorf("meta k SIZE: %+v", r)
	}
	before := srv.Requests()
	r := a.run("", "--addr", srv.Addr(), "meta", "k", "l")
	if r.code != 1 || !strings.Contains(r.stderr, `unknown field "l"; the fields are size, encoding, access, created, ttl, left, lock`) {
		t.Errorf("meta k l: %+v", r)
	}
	if srv.Requests() != before {
		t.Errorf("a refused META reached the server (%d requests, was %d)", srv.Requests(), before)
	}
}

// A script keeps a value's trailing spaces, as one-shot mode does with a quoted value.
func TestScriptKeepsTrailingSpaces(t *testing.T) {
	srv := gibsontest.NewServer(t)
	a := testApp(t)
	a.run("set 0 s v  \nset 0 q \"w\"  \r\nset 0 t x y \t\n", "--addr", srv.Addr())
	a.run("", "--addr", srv.Addr(), "set", "0", "o", "v  ")
	for key, want := range map[string]string{"s": "v  ", "o": "v  ", "q": "w", "t": "x y \t"} {
		if v, _ := srv.Get(key); string(v) != want {
			t.Errorf("%s = %q, want %q", key, v, want)
		}
	}
}

func TestHelpCommandsVersion(t *testing.T) {
	a := testApp(t)
	if r := a.run("", "--help"); r.code != 0 || !strings.Contains(r.stdout, "usage: gibson") {
		t.Errorf("--help: %+v", r)
	}
	if r := a.run("", "help"); r.code != 0 || !strings.Contains(r.stdout, "usage: gibson") {
		t.Errorf("help: %+v", r)
	}
	if r := a.run("", "help", "lock"); r.code != 0 || !strings.HasPrefix(r.stdout, "LOCK <key> <seconds>\n") || !strings.Contains(r.stdout, "-1 = until UNLOCK") {
		t.Errorf("help lock: %+v", r)
	}
	if r := a.run("", "help", "frob"); r.code != 1 || !strings.Contains(r.stderr, `unknown command "frob"`) {
		t.Errorf("help frob: %+v", r)
	}
	r := a.run("", "commands")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 22 || !strings.Contains(r.stdout, "MGET <prefix> [limit]") {
		t.Errorf("commands: %+v", r)
	}
	r = a.run("", "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "gibson ") || !strings.HasSuffix(r.stdout, ", Gibson protocol 1.2\n") {
		t.Errorf("--version: %+v", r)
	}
	// Every flag is documented in the usage text.
	var o cliOptions
	cliFlags(&o).VisitAll(func(f *flag.Flag) {
		prefix := "--"
		if len(f.Name) == 1 {
			prefix = "-"
		}
		if !strings.Contains(cliUsage, prefix+f.Name+" ") && !strings.Contains(cliUsage, prefix+f.Name+",") {
			t.Errorf("flag %s%s is not in the usage text", prefix, f.Name)
		}
	})
}

func TestLockZeroExplained(t *testing.T) {
	srv := gibsontest.NewServer(t)
	srv.Set("k", []byte("v"), 0)
	var out bytes.Buffer
	r := testApp(t).run("", "--addr", srv.Addr(), "lock", "k", "0")
	if r.code != 1 || !strings.Contains(r.stderr, "or -1 to lock until UNLOCK") {
		t.Errorf("lock k 0: %+v %s", r, out.String())
	}
}

// countingReader serves n bytes of 'x' and counts what was read.
type countingReader struct{ left, read int }

func (r *countingReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.left)
	for i := range n {
		p[i] = 'x'
	}
	r.left -= n
	r.read += n
	return n, nil
}

// -x reads at most one byte more than an argument may hold: a huge stdin is refused, with
// what to change, without being read into memory.
func TestStdinArgumentReadsAtMostTheLimit(t *testing.T) {
	srv := gibsontest.NewServer(t)
	a := testApp(t)
	in := &countingReader{left: 16 << 20}
	var out, errOut bytes.Buffer
	code := a.runCLI([]string{"--addr", srv.Addr(), "-x", "set", "0", "big"}, in, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "SET: invalid argument: -x: stdin holds more than 4096 bytes") || !strings.Contains(errOut.String(), "raise --max-value-size") {
		t.Errorf("-x with 16 MiB of stdin: exit %d, %q", code, errOut.String())
	}
	if in.read > 4097 {
		t.Errorf("-x read %d bytes of stdin; the limit is 4096, so at most 4097 need reading", in.read)
	}
	if _, ok := srv.Get("big"); ok {
		t.Error("the refused value was stored")
	}
	// Exactly the limit is read whole and sent.
	in = &countingReader{left: 4096}
	if code := a.runCLI([]string{"--addr", srv.Addr(), "-x", "set", "0", "big"}, in, &out, &errOut); code != 0 {
		t.Errorf("-x with 4096 bytes: exit %d, %q", code, errOut.String())
	}
	if v, _ := srv.Get("big"); len(v) != 4096 {
		t.Errorf("stored %d bytes, want 4096", len(v))
	}
}
