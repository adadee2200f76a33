package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/wire"
)

// benchConfig is one gibson bench run.
type benchConfig struct {
	addr     string
	segment  string // --segment, for a Ring
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
	progress progressKind
}

// progressKind is how a running test shows its progress on stderr.
type progressKind int

const (
	progressNone progressKind = iota
	progressLine              // stderr is a terminal: one line, rewritten in place
	progressLog               // stdout is not a terminal: a line at most once a second
)

// benchCounts is what a running test has done so far, for the progress report.
type benchCounts struct{ done, failed atomic.Int64 }

// bench runs every test of cfg against cfg.addr, reporting each as it completes, and
// removes the keys it wrote unless cfg.keep. It returns the results of the tests that
// completed, and why the run stopped early, if it did.
func (a *app) bench(ctx context.Context, cfg benchConfig, stdout, stderr io.Writer) (results []benchResult, err error) {
	rep := newReporter(stdout, cfg)
	defer func() {
		if ferr := rep.finish(results, err); err == nil && ferr != nil {
			err = fmt.Errorf("writing the report: %w", ferr)
		}
	}()
	modes := []string{"client"}
	switch {
	case cfg.compare:
		modes = []string{"client", "raw"}
	case cfg.raw:
		modes = []string{"raw"}
	}
	setup, err := dialBenchClient(ctx, cfg, stderr)
	if err != nil {
		return nil, err
	}
	defer setup.Close()
	call := execCall(setup)
	if !cfg.keep {
		defer func() {
			if err := removeKeys(ctx, call, benchPrefix); err != nil {
				fmt.Fprintf(stderr, "gibson bench: removing the keys under %s: %s\n", benchPrefix, errorText(err))
			}
		}()
	}
	for _, t := range cfg.tests {
		w, err := newWorkload(t, cfg)
		if err != nil {
			return results, err
		}
		for _, m := range modes {
			// Every mode starts from the same items: a lock left by the previous run
			// would otherwise turn this one's requests into LOCKED.
			if len(w.keys) > 0 {
				if err := removeKeys(ctx, call, benchPrefix+strings.ToLower(w.cmd.Verb)+":"); err != nil {
					return results, fmt.Errorf("%s: clearing its keys before the test: %w", w.cmd.Verb, err)
				}
			}
			if err := populate(ctx, setup, w, cfg.size); err != nil {
				return results, fmt.Errorf("%s: storing its keys before the test: %w", w.cmd.Verb, err)
			}
			r, err := a.benchOne(ctx, cfg, w, m, stderr)
			if err != nil {
				return results, fmt.Errorf("%s (%s): %w", w.cmd.Verb, m, err)
			}
			results = append(results, r)
			if err := rep.result(r); err != nil {
				return results, fmt.Errorf("writing the report: %w", err)
			}
		}
	}
	return results, nil
}

// benchOne measures one test in one mode.
func (a *app) benchOne(ctx context.Context, cfg benchConfig, w *workload, mode string, stderr io.Writer) (benchResult, error) {
	var counts benchCounts
	stopProgress := a.startProgress(cfg, w.cmd.Verb, mode, &counts, stderr)
	var (
		hist    histogram
		errs    reasons
		elapsed time.Duration
		err     error
	)
	if mode == "raw" {
		hist, errs, elapsed, err = benchRaw(ctx, cfg, w, &counts)
	} else if cfg.pipeline > 1 {
		hist, errs, elapsed, err = a.benchClientBatches(ctx, cfg, w, &counts)
	} else {
		hist, errs, elapsed, err = a.benchClient(ctx, cfg, w, &counts)
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
	failed := errs.total()
	var opsPerSec float64
	if elapsed > 0 {
		opsPerSec = float64(int64(cfg.requests)-failed) / elapsed.Seconds()
	}
	return benchResult{
		Test:         w.cmd.Verb,
		Mode:         mode,
		Requests:     cfg.requests,
		Errors:       failed,
		ErrorReasons: errs,
		Seconds:      elapsed.Seconds(),
		OpsPerSec:    opsPerSec,
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
// Only requests that succeeded are timed.
func (a *app) benchClient(ctx context.Context, cfg benchConfig, w *workload, counts *benchCounts) (histogram, reasons, time.Duration, error) {
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
				d := time.Since(t0)
				if failedReply(code, err) {
					errs.add(failReason(code, err))
					counts.failed.Add(1)
				} else {
					h.record(d)
				}
				counts.done.Add(1)
			}
		}(&hists[c], &errs[c])
	}
	wg.Wait()
	elapsed := time.Since(start)
	total, all := mergeResults(hists, errs)
	return total, all, elapsed, nil
}

// benchClientBatches is benchClient with -P: each caller takes its next cfg.pipeline
// requests and sends them as one client.Batch; every request of a batch that succeeded
// is recorded with the batch's round trip as its latency.
func (a *app) benchClientBatches(ctx context.Context, cfg benchConfig, w *workload, counts *benchCounts) (histogram, reasons, time.Duration, error) {
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
					if failedReply(codes[j], errv[j]) {
						nerr.add(failReason(codes[j], errv[j]))
						counts.failed.Add(1)
					} else {
						h.record(d)
					}
				}
				counts.done.Add(n)
			}
		}(&hists[c], &errs[c])
	}
	wg.Wait()
	elapsed := time.Since(start)
	total, all := mergeResults(hists, errs)
	return total, all, elapsed, nil
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

// startProgress shows a running test's progress on stderr and returns a function that
// stops it. On a terminal (progressLine) the line "\rSET (client): 41000/100000" is
// rewritten four times a second from the start and cleared at the end; otherwise
// (progressLog) a full line is written once a second, the first after a second, so a test
// shorter than that writes none.
func (a *app) startProgress(cfg benchConfig, verb, mode string, counts *benchCounts, stderr io.Writer) func() {
	if cfg.progress == progressNone {
		return func() {}
	}
	every := 250 * time.Millisecond
	if cfg.progress == progressLog {
		every = time.Second
	}
	tick, stopTicker := a.ticker(every)
	stop := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	line := func() string {
		s := fmt.Sprintf("%s (%s): %d/%d", verb, mode, counts.done.Load(), cfg.requests)
		if f := counts.failed.Load(); f > 0 {
			s += fmt.Sprintf(", %d failed", f)
		}
		return s
	}
	if cfg.progress == progressLine {
		fmt.Fprint(stderr, "\r"+line())
	}
	go func() {
		defer close(finished)
		defer stopTicker()
		for {
			select {
			case <-stop:
				if cfg.progress == progressLine {
					fmt.Fprint(stderr, "\r\033[K")
				}
				return
			case <-tick:
				if cfg.progress == progressLine {
					fmt.Fprint(stderr, "\r"+line())
				} else {
					fmt.Fprintf(stderr, "gibson bench: %s requests after %.0f s\n", line(), time.Since(start).Seconds())
				}
			}
		}
	}()
	return func() { close(stop); <-finished }
}

// realTicker is app.ticker outside tests.
func realTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}
