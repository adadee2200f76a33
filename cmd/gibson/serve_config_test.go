package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gogibson/gogibson/gibsontest"
)

// docsConf is the shipped example configuration.
var docsConf = filepath.Join("..", "..", "docs", "gibson.conf")

// With no config and no --pidfile, serve writes no pidfile and warns about nothing; a
// config that names one gets one.
func TestServeWritesNoPidfileUnlessNamed(t *testing.T) {
	dir := t.TempDir()
	var out syncBuffer
	_, exit := startServe(t, []string{"--listen", filepath.Join(dir, "a.sock")}, &out, &out)
	sigterm(t, exit)
	if log := out.String(); !strings.Contains(log, `pidfile=""`) || strings.Contains(log, "level=WARN") {
		t.Errorf("serve without a config or --pidfile: log %q; want pidfile=\"\" and no warning", log)
	}

	pidf := filepath.Join(dir, "named.pid")
	conf := filepath.Join(dir, "gibson.conf")
	if err := os.WriteFile(conf, []byte("pidfile "+pidf+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, exit = startServe(t, []string{"--listen", filepath.Join(dir, "b.sock"), "--config", conf}, &out, &out)
	if b, err := os.ReadFile(pidf); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("pidfile named by the config: %q, %v", b, err)
	}
	sigterm(t, exit)
}

// confSetting is a directive line of docs/gibson.conf, active or commented out.
var confSetting = regexp.MustCompile(`^(# )?([a-z_]+)\s+(\S+)$`)

// docs/gibson.conf documents every directive serve reads: each has a comment and a
// setting (commented out only where the default is "none"), the active settings are the
// compiled defaults, and every commented-out setting is valid once uncommented.
func TestDocsConfigDocumentsEveryDirective(t *testing.T) {
	data, err := os.ReadFile(docsConf)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, d := range gibsontest.Directives() {
		known[d] = true
	}
	settings, comments := map[string]string{}, map[string]bool{}
	var uncommented strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := confSetting.FindStringSubmatch(line); m != nil && known[m[2]] {
			if _, dup := settings[m[2]]; dup {
				t.Errorf("gibson.conf:%d: %s is set twice", n, m[2])
			}
			settings[m[2]] = m[1]
			uncommented.WriteString(m[2] + " " + m[3] + "\n")
			continue
		}
		for d := range known {
			if strings.HasPrefix(line, "# "+d+" ") || strings.HasPrefix(line, "# "+d+":") || strings.HasPrefix(line, "# "+d+",") {
				comments[d] = true
			}
		}
	}
	for _, d := range gibsontest.Directives() {
		if _, ok := settings[d]; !ok {
			t.Errorf("gibson.conf has no setting for %s", d)
		}
		if !comments[d] {
			t.Errorf("gibson.conf does not say what %s does (a comment starting \"# %s\")", d, d)
		}
	}
	for d, commented := range settings {
		if commented != "" && d != "unix_socket" && d != "pidfile" {
			t.Errorf("gibson.conf: %s is commented out; only directives without a default may be", d)
		}
	}
	cfg, err := gibsontest.ParseConfig(strings.NewReader(string(data)), docsConf)
	if err != nil {
		t.Fatal(err)
	}
	if cfg != gibsontest.DefaultConfig() {
		t.Errorf("gibson.conf's settings are not the compiled defaults:\n got %+v\nwant %+v", cfg, gibsontest.DefaultConfig())
	}
	if _, err := gibsontest.ParseConfig(strings.NewReader(uncommented.String()), "uncommented"); err != nil {
		t.Errorf("a commented-out setting is not valid: %v", err)
	}
}

// serve starts with the example configuration, as the systemd unit runs it (its paths
// under /run/gibson moved to a temporary directory), and writes the pidfile the unit names.
func TestServeAcceptsDocsConfigAsTheUnitRunsIt(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join("..", "..", "docs", "gibson-serve.service"))
	if err != nil {
		t.Fatal(err)
	}
	var exec string
	for _, l := range strings.Split(string(unit), "\n") {
		if rest, ok := strings.CutPrefix(l, "ExecStart="); ok {
			exec = rest
		}
	}
	fields := strings.Fields(exec)
	if len(fields) < 2 || filepath.Base(fields[0]) != "gibson" || fields[1] != "serve" {
		t.Fatalf("ExecStart %q does not run gibson serve", exec)
	}
	dir := t.TempDir()
	var args []string
	sawConfig := false
	for _, f := range fields[2:] {
		switch {
		case f == "/etc/gibson/gibson.conf":
			f, sawConfig = docsConf, true
		case strings.HasPrefix(f, "/run/gibson/"):
			f = filepath.Join(dir, strings.TrimPrefix(f, "/run/gibson/"))
		}
		args = append(args, f)
	}
	if !sawConfig {
		t.Fatalf("ExecStart %q does not read /etc/gibson/gibson.conf (where docs/gibson.conf is installed)", exec)
	}
	var out syncBuffer
	s, exit := startServe(t, args, &out, &out)
	ping(t, strings.TrimPrefix(s.Addr(), "unix://"))
	if b, err := os.ReadFile(filepath.Join(dir, "gibson.pid")); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("the unit's pidfile: %q, %v", b, err)
	}
	sigterm(t, exit)
	if strings.Contains(out.String(), "level=WARN") {
		t.Errorf("serve warned: %s", out.String())
	}
}
