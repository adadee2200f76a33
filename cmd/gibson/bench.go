package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/wire"
)

// benchPrefix starts every key gibson bench writes; each test uses
// benchPrefix+verb+":" so that no test sees another's items, and the cleanup removes
// everything under benchPrefix.
const benchPrefix = "gibson-bench:"

// benchConfig is one gibson bench run.
type benchConfig struct {
	addr     string
	embedded bool
	callers  int
	requests int
	size     int
	tests    []string
	keyspace int
	conns    int
	pipeline int // requests per batch (client) or per write/read round (raw); 1 = one at a time
	lim      wire.Limits
	raw      bool
	compare  bool
	json     bool
	csv      bool
	quiet    bool
	keep     bool
	progress bool // a live progress line on stderr
}

// benchResult is one test's measurement.
type benchResult struct {
	Test         string           `json:"test"`
	Mode         string           `json:"mode"`
	Requests     int              `json:"requests"`
	Errors       int64            `json:"errors"`
	ErrorReasons map[string]int64 `json:"error_reasons,omitempty"`
	Seconds      float64          `json:"seconds"`
	OpsPerSec    float64          `json:"ops_per_sec"`
	Avg          float64          `json:"avg_ms"`
	Min          float64          `json:"min_ms"`
	P50          float64          `json:"p50_ms"`
	P90          float64          `json:"p90_ms"`
	P99          float64          `json:"p99_ms"`
	P999         float64          `json:"p99_9_ms"`
	Max          float64          `json:"max_ms"`
	// Pool is the client's PoolStats at the end of the test (not for raw mode).
	Pool *client.PoolStats `json:"pool,omitempty"`
}

// benchRatio is one test's client throughput over the raw ceiling (--compare).
type benchRatio struct {
	Test          string  `json:"test"`
	ClientOverRaw float64 `json:"client_over_raw"`
}

// reasons counts failed requests by what went wrong ("item is locked", "not a number", a
// transport error's message).
type reasons map[string]int64

func (r *reasons) add(reason string) {
	if *r == nil {
		*r = reasons{}
	}
	(*r)[reason]++
}

func (r *reasons) merge(o reasons) {
	for k, n := range o {
		if *r == nil {
			*r = reasons{}
		}
		(*r)[k] += n
	}
}

func (r reasons) total() int64 {
	var n int64
	for _, c := range r {
		n += c
	}
	return n
}

// String lists the reasons, most frequent first: "120 item is locked, 3 not a number".
func (r reasons) String() string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if r[keys[i]] != r[keys[j]] {
			return r[keys[i]] > r[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", r[k], k)
	}
	return strings.Join(parts, ", ")
}

// codeReason names an error reply code as the client's errors do.
func codeReason(code wire.Code) string {
	if e := wire.CodeError(code); e != nil {
		return e.Msg
	}
	return code.String()
}

// workload is the requests of one test, built before the clock starts: up to
// maxDistinct argument sets with random keys from the test's own key space, as arguments
// (for the client) and as frames (for --raw), and the keys they use.
type workload struct {
	cmd    *generated.Command
	args   [][][]byte
	frames [][]byte
	keys   []string // distinct keys, stored before the test so that reads find items
}

const maxDistinct = 1024

// newWorkload builds the requests for verb from the spec: every key or prefix is a random
// gibson-bench:verb:NNNNNNNNNNNN of the keyspace, values are size bytes, TTLs 0, locks 1 s,
// a field the first variant's, optional arguments left out. Arguments pass the client's
// checks with cfg.lim.
func newWorkload(verb string, cfg benchConfig) (*workload, error) {
	cmd := generated.ByVerb(verb)
	if cmd == nil {
		return nil, fmt.Errorf("unknown test %q; the tests are %s", verb, benchTests())
	}
	rng := rand.New(rand.NewPCG(1, uint64(cmd.Op)))
	n := min(maxDistinct, cfg.keyspace, cfg.requests)
	w := &workload{cmd: cmd}
	value := strings.Repeat("x", cfg.size)
	seen := map[string]bool{}
	for range max(n, 1) {
		key := fmt.Sprintf("%s%s:%012d", benchPrefix, strings.ToLower(cmd.Verb), rng.IntN(cfg.keyspace))
		var words []string
		for _, a := range cmd.Args {
			switch a.Kind {
			case wire.ArgKey, wire.ArgPrefix:
				words = append(words, key)
				if !seen[key] {
					seen[key] = true
					w.keys = append(w.keys, key)
				}
			case wire.ArgValue:
				words = append(words, value)
			case wire.ArgTTL, wire.ArgSeconds:
				words = append(words, "0")
			case wire.ArgLockSeconds:
				words = append(words, "1")
			case wire.ArgField:
				if len(cmd.Variants) > 0 {
					words = append(words, cmd.Variants[0].Field)
				}
			}
		}
		req, err := buildRequest(cfg.lim, cmd, words)
		if err != nil {
			return nil, err
		}
		w.args = append(w.args, req.args)
		w.frames = append(w.frames, wire.AppendRequest(nil, cmd.Op, req.args...))
	}
	return w, nil
}

// benchTests lists the verbs -t accepts.
func benchTests() string {
	verbs := make([]string, len(generated.Table))
	for i := range generated.Table {
		verbs[i] = strings.ToLower(generated.Table[i].Verb)
	}
	return strings.Join(verbs, ", ")
}

// runBench runs gibson bench.
func runBench(args []string, stdout, stderr io.Writer) int {
	return newApp().runBench(args, stdout, stderr)
}

const benchUsage = `usage: gibson bench [flags]

Measures throughput and latency of each test (a Gibson command) with the client library,
or with --raw the ceiling: precomputed frames pipelined without the client. Each test
works on its own keys (gibson-bench:<test>:…), stored before it starts, and everything
under gibson-bench: is removed at the end unless --keep is given. Without an address it
runs an embedded server in-process.

Server (as gibson):
  --addr ADDRESS, -h HOST, -p PORT, -s/-u PATH, --config FILE
  --embedded            an embedded in-process server (the default without an address)

Load:
  -c N                  concurrent callers (default 50)
  -n N                  requests per test (default 100000)
  -d SIZE               value size: bytes, or with a K/M suffix (default 3)
  -t TESTS              comma-separated commands (default set,get); see gibson commands
  -r, --keyspace N      random keys out of N per test (default 1: one key)
  --conns N             connections (default: the client's pool size)
  -P, --pipeline N      each caller sends its requests in batches of N, latency being
                        the batch's round trip (default 1); with --raw, N frames per
                        caller written per synchronous write/read round
  --max-key-size SIZE   the server's max_key_size (default 512, or from --config)
  --max-value-size SIZE the server's max_value_size (default 4096, or from --config);
                        -d above it needs a server, and this flag, that allow it

Modes and output:
  --raw                 the ceiling only
  --compare             each test with the client and raw, and their ratio
  -q                    one line per test: requests per second and p50
  --csv                 CSV with a header line
  --json                one JSON document (with the ratios under --compare)
  --keep                keep the keys the run wrote
Columns: requests, errors, seconds, ops/s, avg/min/p50/p90/p99/p99.9/max latency in ms.
Failures are counted by reason (NOT_FOUND is an answer, not a failure).
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
	cfg.addr = given
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
	cfg.progress = a.isTerminal(stderr)
	if err := a.bench(context.Background(), cfg, stdout, stderr); err != nil {
		return fail(1, "%s", strings.TrimPrefix(errorText(err), "gibson: "))
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

// bench runs every test of cfg against cfg.addr, prints the results, and removes the keys
// it wrote unless cfg.keep.
func (a *app) bench(ctx context.Context, cfg benchConfig, stdout, stderr io.Writer) error {
	modes := []string{"client"}
	switch {
	case cfg.compare:
		modes = []string{"client", "raw"}
	case cfg.raw:
		modes = []string{"raw"}
	}
	call, closeClient, err := a.benchCaller(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeClient()
	if !cfg.keep {
		defer func() {
			if err := removeKeys(ctx, call, benchPrefix); err != nil {
				fmt.Fprintf(stderr, "gibson bench: removing the keys under %s: %s\n", benchPrefix, errorText(err))
			}
		}()
	}
	var results []benchResult
	for _, t := range cfg.tests {
		w, err := newWorkload(t, cfg)
		if err != nil {
			return err
		}
		for _, m := range modes {
			// Every mode starts from the same items: a lock left by the previous run
			// would otherwise turn this one's requests into LOCKED.
			if len(w.keys) > 0 {
				if err := removeKeys(ctx, call, benchPrefix+strings.ToLower(w.cmd.Verb)+":"); err != nil {
					return fmt.Errorf("%s: clearing its keys before the test: %w", w.cmd.Verb, err)
				}
			}
			if err := populate(ctx, call, w, cfg.size); err != nil {
				return fmt.Errorf("%s: storing its keys before the test: %w", w.cmd.Verb, err)
			}
			r, err := a.benchOne(ctx, cfg, w, m, stderr)
			if err != nil {
				return fmt.Errorf("%s (%s): %w", w.cmd.Verb, m, err)
			}
			results = append(results, r)
		}
	}
	var ratios []benchRatio
	if cfg.compare {
		for i := 0; i+1 < len(results); i += 2 {
			ratios = append(ratios, benchRatio{results[i].Test, results[i].OpsPerSec / results[i+1].OpsPerSec})
		}
	}
	switch {
	case cfg.json:
		return writeBenchJSON(stdout, cfg, results, ratios)
	case cfg.csv:
		return writeBenchCSV(stdout, results)
	case cfg.quiet:
		return writeBenchQuiet(stdout, cfg, results, ratios)
	}
	return writeBenchText(stdout, cfg, results, ratios)
}

// populate stores every key of the workload with a value of size '0' bytes (text that INC
// and MINC can count from), so that reads, locks and prefix commands find items. A test
// with no key argument (PING, STATS) stores nothing.
func populate(ctx context.Context, call benchCall, w *workload, size int) error {
	set := generated.ByVerb("SET")
	if set == nil || len(w.keys) == 0 {
		return nil
	}
	value := []byte(strings.Repeat("0", size))
	var args [][]byte
	for _, a := range set.Args {
		switch a.Kind {
		case wire.ArgKey:
			args = append(args, nil)
		case wire.ArgValue:
			args = append(args, value)
		default:
			args = append(args, []byte("0"))
		}
	}
	keyAt := -1
	for i, a := range set.Args {
		if a.Kind == wire.ArgKey {
			keyAt = i
		}
	}
	if keyAt < 0 {
		return nil
	}
	for _, k := range w.keys {
		args[keyAt] = []byte(k)
		if _, err := call(ctx, set, args); err != nil {
			return err
		}
	}
	return nil
}

// removeKeys removes every item under prefix: MUNLOCK first, since MDEL skips locked
// items. A spec without those commands leaves the items in place.
func removeKeys(ctx context.Context, call benchCall, prefix string) error {
	for _, verb := range []string{"MUNLOCK", "MDEL"} {
		cmd := generated.ByVerb(verb)
		if cmd == nil {
			return fmt.Errorf("the spec has no %s", verb)
		}
		code, err := call(ctx, cmd, [][]byte{[]byte(prefix)})
		if err != nil && code != wire.CodeNotFound {
			return err
		}
	}
	return nil
}

// benchOne measures one test in one mode.
func (a *app) benchOne(ctx context.Context, cfg benchConfig, w *workload, mode string, stderr io.Writer) (benchResult, error) {
	var done atomic.Int64
	stopProgress := startProgress(cfg, w.cmd.Verb, mode, &done, stderr)
	var (
		hist    histogram
		errs    reasons
		elapsed time.Duration
		err     error
	)
	if mode == "raw" {
		hist, errs, elapsed, err = benchRaw(ctx, cfg, w, &done)
	} else if cfg.pipeline > 1 {
		hist, errs, elapsed, err = a.benchClientBatches(ctx, cfg, w, &done)
	} else {
		hist, errs, elapsed, err = a.benchClient(ctx, cfg, w, &done)
	}
	stopProgress()
	if err != nil {
		return benchResult{}, err
	}
	var pool *client.PoolStats
	if mode != "raw" {
		pool = a.benchPool
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	q := func(q float64) float64 { return ms(hist.quantile(q)) }
	return benchResult{
		Test:         w.cmd.Verb,
		Mode:         mode,
		Requests:     cfg.requests,
		Errors:       errs.total(),
		ErrorReasons: errs,
		Seconds:      elapsed.Seconds(),
		OpsPerSec:    float64(cfg.requests) / elapsed.Seconds(),
		Avg:          ms(hist.mean()),
		Min:          ms(hist.min),
		P50:          q(0.50),
		P90:          q(0.90),
		P99:          q(0.99),
		P999:         q(0.999),
		Max:          ms(hist.max),
		Pool:         pool,
	}, nil
}

// benchClient drives the client library: cfg.callers goroutines share one client with
// cfg.conns connections, each sending its next request when the previous one answered.
func (a *app) benchClient(ctx context.Context, cfg benchConfig, w *workload, done *atomic.Int64) (histogram, reasons, time.Duration, error) {
	call, closeClient, err := a.benchCaller(ctx, cfg)
	if err != nil {
		return histogram{}, nil, 0, err
	}
	defer closeClient()
	hists := make([]histogram, cfg.callers)
	errs := make([]reasons, cfg.callers)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for c := range cfg.callers {
		wg.Add(1)
		go func(h *histogram, errs *reasons) {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(cfg.requests) {
					return
				}
				t0 := time.Now()
				code, err := call(ctx, w.cmd, w.args[i%int64(len(w.args))])
				h.record(time.Since(t0))
				if failedReply(code, err) {
					errs.add(failReason(code, err))
				}
				done.Add(1)
			}
		}(&hists[c], &errs[c])
	}
	wg.Wait()
	elapsed := time.Since(start)
	total, all := mergeResults(hists, errs)
	return total, all, elapsed, nil
}

// benchClientBatches is benchClient with -P: each caller takes its next cfg.pipeline
// requests and sends them as one client.Batch; every request of a batch is recorded with
// the batch's round trip as its latency.
func (a *app) benchClientBatches(ctx context.Context, cfg benchConfig, w *workload, done *atomic.Int64) (histogram, reasons, time.Duration, error) {
	newBatch, closeClient, err := a.benchBatcher(ctx, cfg)
	if err != nil {
		return histogram{}, nil, 0, err
	}
	defer closeClient()
	hists := make([]histogram, cfg.callers)
	errs := make([]reasons, cfg.callers)
	var next atomic.Int64
	var wg sync.WaitGroup
	p := int64(cfg.pipeline)
	start := time.Now()
	for c := range cfg.callers {
		wg.Add(1)
		go func(h *histogram, nerr *reasons) {
			defer wg.Done()
			send := newBatch()
			reqs := make([][][]byte, 0, p)
			codes := make([]wire.Code, p)
			errv := make([]error, p)
			for {
				i := next.Add(p) - p
				if i >= int64(cfg.requests) {
					return
				}
				n := min(p, int64(cfg.requests)-i)
				reqs = reqs[:0]
				for j := range n {
					reqs = append(reqs, w.args[(i+j)%int64(len(w.args))])
				}
				t0 := time.Now()
				send(ctx, w.cmd, reqs, codes[:n], errv[:n])
				d := time.Since(t0)
				for j := range n {
					h.record(d)
					if failedReply(codes[j], errv[j]) {
						nerr.add(failReason(codes[j], errv[j]))
					}
				}
				done.Add(n)
			}
		}(&hists[c], &errs[c])
	}
	wg.Wait()
	elapsed := time.Since(start)
	total, all := mergeResults(hists, errs)
	return total, all, elapsed, nil
}

// failReason names a failed client call: the error reply's meaning, or the transport
// error without its "gibson: VERB:" prefix.
func failReason(code wire.Code, err error) string {
	if err == nil {
		return codeReason(code)
	}
	if kind := wire.CodeError(code); kind != nil && errors.Is(err, kind) {
		return kind.Msg
	}
	var we *wire.Error
	if errors.As(err, &we) && we.Msg != "" {
		if we.Err != nil {
			return we.Msg + ": " + we.Err.Error()
		}
		return we.Msg
	}
	return err.Error()
}

// startProgress prints "\rSET (client): 41000/100000" to a terminal a few times a second,
// starting at once, and returns a function that stops it and clears the line.
func startProgress(cfg benchConfig, verb, mode string, done *atomic.Int64, stderr io.Writer) func() {
	if !cfg.progress {
		return func() {}
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	fmt.Fprintf(stderr, "\r%s (%s): 0/%d", verb, mode, cfg.requests)
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				fmt.Fprint(stderr, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprintf(stderr, "\r%s (%s): %d/%d", verb, mode, done.Load(), cfg.requests)
			}
		}
	}()
	return func() { close(stop); <-finished }
}

func benchHeader(cfg benchConfig) string {
	where := cfg.addr
	if cfg.embedded {
		where += " (embedded, in-process)"
	}
	h := fmt.Sprintf("server %s; %d callers, %d connections, %d-byte values, keyspace %d", where, cfg.callers, cfg.conns, cfg.size, cfg.keyspace)
	if cfg.pipeline > 1 {
		h += fmt.Sprintf(", pipeline %d", cfg.pipeline)
	}
	return h
}

func writeBenchText(w io.Writer, cfg benchConfig, results []benchResult, ratios []benchRatio) error {
	fmt.Fprintln(w, benchHeader(cfg))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "test\tmode\trequests\terrors\tseconds\tops/s\tavg ms\tmin ms\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.3f\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t\n", r.Test, r.Mode, r.Requests, r.Errors, r.Seconds, r.OpsPerSec, r.Avg, r.Min, r.P50, r.P90, r.P99, r.P999, r.Max)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	writeErrorReasons(w, results)
	for _, r := range ratios {
		fmt.Fprintf(w, "%s: client/raw = %.2f\n", r.Test, r.ClientOverRaw)
	}
	return nil
}

func writeErrorReasons(w io.Writer, results []benchResult) {
	for _, r := range results {
		if r.Errors > 0 {
			fmt.Fprintf(w, "%s (%s) errors: %s\n", r.Test, r.Mode, reasons(r.ErrorReasons))
		}
	}
}

// writeBenchQuiet is -q: one line per test, as redis-benchmark -q prints.
func writeBenchQuiet(w io.Writer, cfg benchConfig, results []benchResult, ratios []benchRatio) error {
	for _, r := range results {
		name := r.Test
		if cfg.compare || cfg.raw {
			name += " (" + r.Mode + ")"
		}
		fmt.Fprintf(w, "%s: %.0f requests per second, p50=%.3f ms\n", name, r.OpsPerSec, r.P50)
	}
	writeErrorReasons(w, results)
	for _, r := range ratios {
		fmt.Fprintf(w, "%s: client/raw = %.2f\n", r.Test, r.ClientOverRaw)
	}
	return nil
}

// writeBenchCSV is --csv: a header line, then one line per test and mode.
func writeBenchCSV(w io.Writer, results []benchResult) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"test", "mode", "requests", "errors", "seconds", "ops_per_sec", "avg_ms", "min_ms", "p50_ms", "p90_ms", "p99_ms", "p99_9_ms", "max_ms", "error_reasons"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	for _, r := range results {
		_ = cw.Write([]string{r.Test, r.Mode, strconv.Itoa(r.Requests), strconv.FormatInt(r.Errors, 10), f(r.Seconds), strconv.FormatFloat(r.OpsPerSec, 'f', 0, 64),
			f(r.Avg), f(r.Min), f(r.P50), f(r.P90), f(r.P99), f(r.P999), f(r.Max), reasons(r.ErrorReasons).String()})
	}
	cw.Flush()
	return cw.Error()
}

func writeBenchJSON(w io.Writer, cfg benchConfig, results []benchResult, ratios []benchRatio) error {
	doc := struct {
		Addr      string        `json:"addr"`
		Embedded  bool          `json:"embedded"`
		Callers   int           `json:"callers"`
		Conns     int           `json:"conns"`
		ValueSize int           `json:"value_size"`
		Keyspace  int           `json:"keyspace"`
		Pipeline  int           `json:"pipeline"`
		Results   []benchResult `json:"results"`
		Compare   []benchRatio  `json:"compare,omitempty"`
	}{cfg.addr, cfg.embedded, cfg.callers, cfg.conns, cfg.size, cfg.keyspace, cfg.pipeline, results, ratios}
	enc := json.NewEncoder(w)
	return enc.Encode(doc)
}

// failedReply reports a request that failed: a transport error or an error reply other
// than NOT_FOUND (a GET of a key that does not exist is an answer, not a failure).
func failedReply(code wire.Code, err error) bool {
	if err == nil {
		return code != wire.CodeNotFound && wire.CodeError(code) != nil
	}
	kind := wire.CodeError(code)
	return kind == nil || !errors.Is(err, kind) || code != wire.CodeNotFound
}

// mergeResults adds up the per-caller (or per-connection) latencies and error reasons.
func mergeResults(hists []histogram, errs []reasons) (histogram, reasons) {
	var total histogram
	var all reasons
	for i := range hists {
		total.merge(&hists[i])
		all.merge(errs[i])
	}
	return total, all
}
