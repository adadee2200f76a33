package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

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
	raw      bool
	compare  bool
	json     bool
	progress bool // a live progress line on stderr
}

// benchResult is one test's measurement.
type benchResult struct {
	Test      string  `json:"test"`
	Mode      string  `json:"mode"`
	Requests  int     `json:"requests"`
	Errors    int64   `json:"errors"`
	Seconds   float64 `json:"seconds"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50       float64 `json:"p50_ms"`
	P90       float64 `json:"p90_ms"`
	P99       float64 `json:"p99_ms"`
	P999      float64 `json:"p99_9_ms"`
}

// workload is the requests of one test, built before the clock starts: up to
// maxDistinct argument sets with random keys from the keyspace, as arguments (for the
// client) and as frames (for --raw).
type workload struct {
	cmd    *generated.Command
	args   [][][]byte
	frames [][]byte
}

const maxDistinct = 1024

// newWorkload builds the requests for verb from the spec: every key or prefix is a random
// key:NNNNNNNNNNNN of the keyspace, values are size bytes, TTLs 0, locks 1 s, a field the
// first variant's, optional arguments left out. Arguments pass the client's checks.
func newWorkload(verb string, cfg benchConfig) (*workload, error) {
	cmd, err := lookup(verb)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(1, uint64(cmd.Op)))
	n := min(maxDistinct, cfg.keyspace, cfg.requests)
	w := &workload{cmd: cmd}
	value := strings.Repeat("x", cfg.size)
	for range max(n, 1) {
		key := fmt.Sprintf("key:%012d", rng.IntN(cfg.keyspace))
		var words []string
		for _, a := range cmd.Args {
			switch a.Kind {
			case wire.ArgKey, wire.ArgPrefix:
				words = append(words, key)
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
		req, err := buildRequest(wire.Limits{}, cmd, words)
		if err != nil {
			return nil, err
		}
		w.args = append(w.args, req.args)
		w.frames = append(w.frames, wire.AppendRequest(nil, cmd.Op, req.args...))
	}
	return w, nil
}

// runBench runs gibson bench.
func runBench(args []string, stdout, stderr io.Writer) int {
	return newApp().runBench(args, stdout, stderr)
}

func (a *app) runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gibson bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var af addrFlags
	var cfg benchConfig
	var tests string
	addAddrFlags(fs, &af)
	fs.IntVar(&cfg.callers, "c", 50, "concurrent callers")
	fs.IntVar(&cfg.requests, "n", 100000, "requests per test")
	fs.IntVar(&cfg.size, "d", 3, "value size in bytes")
	fs.StringVar(&tests, "t", "set,get", "tests: comma-separated verbs")
	fs.IntVar(&cfg.keyspace, "keyspace", 1, "random keys key:000000000042 out of `N` (1 = one key)")
	fs.IntVar(&cfg.conns, "conns", defaultBenchConns, "connections")
	fs.BoolVar(&cfg.raw, "raw", false, "the ceiling: precomputed frames pipelined on the connections, replies skipped, no client library")
	fs.BoolVar(&cfg.compare, "compare", false, "run every test with the client and with --raw, and print the ratio")
	fs.BoolVar(&cfg.json, "json", false, "print the results as one JSON document")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: gibson bench [flags]   (without an address: an embedded server in-process)\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gibson bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if cfg.callers < 1 || cfg.requests < 1 || cfg.size < 1 || cfg.keyspace < 1 || cfg.conns < 1 {
		fmt.Fprintln(stderr, "gibson bench: -c, -n, -d, --keyspace and --conns must be at least 1")
		return 2
	}
	for _, t := range strings.Split(tests, ",") {
		if t = strings.TrimSpace(t); t != "" {
			cfg.tests = append(cfg.tests, t)
		}
	}
	given, err := af.resolve(a.getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	cfg.addr = given
	if given == "" {
		address, stop, err := a.embed()
		if err != nil {
			fmt.Fprintf(stderr, "gibson bench: the embedded server did not start: %v\n", err)
			return 1
		}
		defer stop()
		cfg.addr, cfg.embedded = address, true
	}
	cfg.progress = a.isTerminal(stderr)
	if err := a.bench(context.Background(), cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "gibson bench: %v\n", err)
		return 1
	}
	return 0
}

// bench runs every test of cfg against cfg.addr and prints the results.
func (a *app) bench(ctx context.Context, cfg benchConfig, stdout, stderr io.Writer) error {
	modes := []string{"client"}
	switch {
	case cfg.compare:
		modes = []string{"client", "raw"}
	case cfg.raw:
		modes = []string{"raw"}
	}
	var results []benchResult
	for _, t := range cfg.tests {
		w, err := newWorkload(t, cfg)
		if err != nil {
			return err
		}
		for _, m := range modes {
			r, err := a.benchOne(ctx, cfg, w, m, stderr)
			if err != nil {
				return fmt.Errorf("%s (%s): %w", w.cmd.Verb, m, err)
			}
			results = append(results, r)
		}
	}
	if cfg.json {
		return writeBenchJSON(stdout, cfg, results)
	}
	return writeBenchText(stdout, cfg, results)
}

// benchOne measures one test in one mode.
func (a *app) benchOne(ctx context.Context, cfg benchConfig, w *workload, mode string, stderr io.Writer) (benchResult, error) {
	var done atomic.Int64
	stopProgress := startProgress(cfg, w.cmd.Verb, mode, &done, stderr)
	var (
		hist    histogram
		errs    int64
		elapsed time.Duration
		err     error
	)
	if mode == "raw" {
		hist, errs, elapsed, err = benchRaw(ctx, cfg, w, &done)
	} else {
		hist, errs, elapsed, err = a.benchClient(ctx, cfg, w, &done)
	}
	stopProgress()
	if err != nil {
		return benchResult{}, err
	}
	ms := func(q float64) float64 { return float64(hist.quantile(q)) / float64(time.Millisecond) }
	return benchResult{
		Test:      w.cmd.Verb,
		Mode:      mode,
		Requests:  cfg.requests,
		Errors:    errs,
		Seconds:   elapsed.Seconds(),
		OpsPerSec: float64(cfg.requests) / elapsed.Seconds(),
		P50:       ms(0.50),
		P90:       ms(0.90),
		P99:       ms(0.99),
		P999:      ms(0.999),
	}, nil
}

// benchClient drives the client library: cfg.callers goroutines share one client with
// cfg.conns connections, each sending its next request when the previous one answered.
func (a *app) benchClient(ctx context.Context, cfg benchConfig, w *workload, done *atomic.Int64) (histogram, int64, time.Duration, error) {
	call, closeClient, err := a.benchCaller(ctx, cfg)
	if err != nil {
		return histogram{}, 0, 0, err
	}
	defer closeClient()
	hists := make([]histogram, cfg.callers)
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for c := range cfg.callers {
		wg.Add(1)
		go func(h *histogram) {
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
					errs.Add(1)
				}
				done.Add(1)
			}
		}(&hists[c])
	}
	wg.Wait()
	elapsed := time.Since(start)
	var total histogram
	for i := range hists {
		total.merge(&hists[i])
	}
	return total, errs.Load(), elapsed, nil
}

// startProgress prints "\rSET (client): 41000/100000" to a terminal a few times a second
// and returns a function that stops it and clears the line.
func startProgress(cfg benchConfig, verb, mode string, done *atomic.Int64, stderr io.Writer) func() {
	if !cfg.progress {
		return func() {}
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
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

func writeBenchText(w io.Writer, cfg benchConfig, results []benchResult) error {
	where := cfg.addr
	if cfg.embedded {
		where += " (embedded, in-process)"
	}
	fmt.Fprintf(w, "server %s; %d callers, %d connections, %d-byte values, keyspace %d\n", where, cfg.callers, cfg.conns, cfg.size, cfg.keyspace)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "test\tmode\trequests\terrors\tseconds\tops/s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.3f\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t\n", r.Test, r.Mode, r.Requests, r.Errors, r.Seconds, r.OpsPerSec, r.P50, r.P90, r.P99, r.P999)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if cfg.compare {
		for i := 0; i+1 < len(results); i += 2 {
			fmt.Fprintf(w, "%s: client/raw = %.2f\n", results[i].Test, results[i].OpsPerSec/results[i+1].OpsPerSec)
		}
	}
	return nil
}

func writeBenchJSON(w io.Writer, cfg benchConfig, results []benchResult) error {
	doc := struct {
		Addr      string        `json:"addr"`
		Embedded  bool          `json:"embedded"`
		Callers   int           `json:"callers"`
		Conns     int           `json:"conns"`
		ValueSize int           `json:"value_size"`
		Keyspace  int           `json:"keyspace"`
		Results   []benchResult `json:"results"`
	}{cfg.addr, cfg.embedded, cfg.callers, cfg.conns, cfg.size, cfg.keyspace, results}
	enc := json.NewEncoder(w)
	return enc.Encode(doc)
}

// failedReply reports a request that failed: a transport error or an error reply other
// than NOT_FOUND (a GET of a key no SET has written yet is an answer, not a failure).
func failedReply(code wire.Code, err error) bool {
	if err == nil {
		return code != wire.CodeNotFound && wire.CodeError(code) != nil
	}
	kind := wire.CodeError(code)
	return kind == nil || !errors.Is(err, kind) || code != wire.CodeNotFound
}
