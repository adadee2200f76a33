package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/wire"
)

// runBench runs gibson bench.
func runBench(args []string, stdout, stderr io.Writer) int {
	return newApp().runBench(args, stdout, stderr)
}

const benchUsage = `usage: gibson bench [flags]

Measures throughput and latency of each test (a Gibson command) with the client library,
or with --raw the ceiling: precomputed frames pipelined without the client. Each test
works on its own keys (gibson-bench:<test>:…), stored before it starts, and everything
under gibson-bench: is removed at the end unless --keep is given. LOCK locks each of -n
keys once (a second LOCK of a key would only be refused). Without an address it runs an
embedded server in-process.

Server (as gibson):
  --addr ADDRESS, -h HOST, -p PORT, -s/-u PATH, --config FILE, --segment SEP
  --embedded            an embedded in-process server (the default without an address)

Load:
  -c N                  concurrent callers (default 50)
  -n N                  requests per test (default 100000)
  -d SIZE               value size: bytes, or with a K/M suffix (default 3)
  -t TESTS              comma-separated commands (default set,get); see gibson commands
  -r, --keyspace N      random keys out of N per test (default 1: one key; not LOCK)
  --conns N             connections (default: the client's pool size)
  -P, --pipeline N      each caller sends its requests in batches of N, latency being
                        the batch's round trip (default 1); with --raw, N frames per
                        caller written per synchronous write/read round
  --max-key-size SIZE   the server's max_key_size (default 512, or from --config)
  --max-value-size SIZE the server's max_value_size (default 4096, or from --config);
                        -d above it needs a server, and this flag, that allow it

Modes and output (each test is printed as it completes):
  --raw                 the ceiling only (one server: not with --addr a,b)
  --compare             each test with the client and raw, and their ratio (one server)
  -q                    one line per test: requests per second and p50
  --csv                 CSV with a header line
  --json                one JSON document at the end (with the ratios under --compare,
                        and "error" when the run stopped early)
  --keep                keep the keys the run wrote
Columns: requests, errors, seconds, ops/s, avg/min/p50/p90/p99/p99.9/max latency in ms.
ops/s and the latencies count only the requests that succeeded. Failures are counted by
reason (NOT_FOUND is an answer, not a failure); a test with failures says so, and the exit
status is then 1. Progress goes to stderr: a line kept up to date on a terminal, else (when
stdout is not a terminal) a line a second.
`

func (a *app) runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gibson bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var af addrFlags
	var cfg benchConfig
	var tests, configFile string
	var help, embedded bool
	valueSize := sizeFlag{n: 3}
	maxKey, maxValue := sizeFlag{n: wire.DefaultMaxKeySize}, sizeFlag{n: wire.DefaultMaxValueSize}
	addAddrFlags(fs, &af)
	fs.IntVar(&cfg.callers, "c", 50, "")
	fs.IntVar(&cfg.requests, "n", 100000, "")
	fs.Var(&valueSize, "d", "")
	fs.StringVar(&tests, "t", "set,get", "")
	fs.IntVar(&cfg.keyspace, "keyspace", 1, "")
	fs.IntVar(&cfg.keyspace, "r", 1, "")
	fs.IntVar(&cfg.conns, "conns", defaultBenchConns, "")
	fs.IntVar(&cfg.pipeline, "P", 1, "")
	fs.IntVar(&cfg.pipeline, "pipeline", 1, "")
	fs.Var(&maxKey, "max-key-size", "")
	fs.Var(&maxValue, "max-value-size", "")
	fs.StringVar(&configFile, "config", "", "")
	fs.BoolVar(&embedded, "embedded", false, "")
	fs.BoolVar(&cfg.raw, "raw", false, "")
	fs.BoolVar(&cfg.compare, "compare", false, "")
	fs.BoolVar(&cfg.json, "json", false, "")
	fs.BoolVar(&cfg.csv, "csv", false, "")
	fs.BoolVar(&cfg.quiet, "q", false, "")
	fs.BoolVar(&cfg.keep, "keep", false, "")
	fs.BoolVar(&help, "help", false, "")
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(stderr, "gibson bench: "+format+"\n", args...)
		return code
	}
	if err := fs.Parse(args); err != nil {
		return fail(2, "%s\nRun gibson bench --help for the flags.", flagError(err))
	}
	if help {
		fmt.Fprint(stdout, benchUsage)
		return 0
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	if fs.NArg() > 0 {
		return fail(2, "unexpected argument %q", fs.Arg(0))
	}
	if cfg.callers < 1 || cfg.requests < 1 || cfg.keyspace < 1 || cfg.conns < 1 || cfg.pipeline < 1 {
		return fail(2, "-c, -n, -r/--keyspace, --conns and -P/--pipeline must be at least 1")
	}
	formats := 0
	for _, f := range []bool{cfg.json, cfg.csv, cfg.quiet} {
		if f {
			formats++
		}
	}
	if formats > 1 {
		return fail(2, "-q, --csv and --json exclude each other")
	}
	cfg.size = int(valueSize.n)
	for _, t := range strings.Split(tests, ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if generated.ByVerb(t) == nil {
			return fail(2, "unknown test %q; the tests are %s", t, benchTests())
		}
		cfg.tests = append(cfg.tests, t)
	}
	if len(cfg.tests) == 0 {
		return fail(2, "-t names no test; the tests are %s", benchTests())
	}
	srvCfg := gibsontest.DefaultConfig()
	given, err := af.resolve(func(string) string { return "" })
	if err != nil {
		return fail(2, "%s", strings.TrimPrefix(errorText(err), "gibson: "))
	}
	if configFile != "" {
		if srvCfg, err = readServerConfig(configFile); err != nil {
			return fail(2, "%s", strings.TrimPrefix(errorText(err), "gibson: "))
		}
		if !explicit["max-key-size"] {
			maxKey.n = srvCfg.MaxKeySize
		}
		if !explicit["max-value-size"] {
			maxValue.n = srvCfg.MaxValueSize
		}
		if given == "" && !embedded {
			given = configAddr(srvCfg)
		}
	}
	if given == "" && !embedded {
		if given, err = af.resolve(a.getenv); err != nil {
			return fail(2, "%s", strings.TrimPrefix(errorText(err), "gibson: "))
		}
	}
	if embedded && given != "" && explicitAddr(explicit) {
		return fail(2, "--embedded starts its own server; leave out the address flags")
	}
	cfg.lim = wire.Limits{MaxKeySize: int(maxKey.n), MaxValueSize: int(maxValue.n)}
	if cfg.size > cfg.lim.MaxValueSize {
		return fail(2, "-d %s is over the server's max_value_size %s: raise --max-value-size (or pass --config) for a server that allows it", valueSize.String(), maxValue.String())
	}
	cfg.addr, cfg.segment = given, af.segment
	if (cfg.raw || cfg.compare) && len(shardAddrs(given)) > 1 {
		return fail(2, "--raw and --compare measure one server, and --addr names %d; give one address, or leave --raw and --compare out to measure the client over the Ring", len(shardAddrs(given)))
	}
	if given == "" || embedded {
		srvCfg.UnixSocket = ""
		srvCfg.MaxKeySize, srvCfg.MaxValueSize = maxKey.n, maxValue.n
		srvCfg.MaxRequestSize = max(srvCfg.MaxRequestSize, maxKey.n+maxValue.n+64)
		address, stop, err := a.embed(srvCfg)
		if err != nil {
			return fail(1, "the embedded server did not start: %v", err)
		}
		defer stop()
		cfg.addr, cfg.embedded = address, true
	}
	switch {
	case a.isTerminal(stderr):
		cfg.progress = progressLine
	case !a.isTerminal(stdout):
		cfg.progress = progressLog
	}
	results, err := a.bench(context.Background(), cfg, stdout, stderr)
	if err != nil {
		return fail(1, "%s", strings.TrimPrefix(errorText(err), "gibson: "))
	}
	var failed []string
	for _, r := range results {
		if r.Errors > 0 {
			failed = append(failed, fmt.Sprintf("%s (%s)", r.Test, r.Mode))
		}
	}
	if len(failed) > 0 {
		return fail(1, "requests failed in %s; ops/s counts only those that succeeded", strings.Join(failed, ", "))
	}
	return 0
}

func explicitAddr(explicit map[string]bool) bool {
	for _, f := range []string{"addr", "h", "a", "address", "p", "port", "s", "u", "unix"} {
		if explicit[f] {
			return true
		}
	}
	return false
}
