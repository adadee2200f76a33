package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/wire"
)

// benchResult is one test's measurement. OpsPerSec and the latencies count only the
// requests that succeeded; Errors counts the others, by reason in ErrorReasons.
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

// ratios pairs each client result with the raw one after it (--compare); a pair with no
// successful request on either side has no ratio.
func ratios(results []benchResult) []benchRatio {
	var out []benchRatio
	for i := 0; i+1 < len(results); i += 2 {
		c, r := results[i], results[i+1]
		if c.Test == r.Test && c.Mode == "client" && r.Mode == "raw" && c.OpsPerSec > 0 && r.OpsPerSec > 0 {
			out = append(out, benchRatio{c.Test, c.OpsPerSec / r.OpsPerSec})
		}
	}
	return out
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

// failedReply reports a request that failed: a transport error or an error reply other
// than NOT_FOUND (a GET of a key that does not exist is an answer, not a failure).
func failedReply(code wire.Code, err error) bool {
	if err == nil {
		return code != wire.CodeNotFound && wire.CodeError(code) != nil
	}
	kind := wire.CodeError(code)
	return kind == nil || !errors.Is(err, kind) || code != wire.CodeNotFound
}

// failureLine says how many of a test's requests failed and why, or "" when none did.
func failureLine(r benchResult) string {
	if r.Errors == 0 {
		return ""
	}
	return fmt.Sprintf("%s (%s): %d of %d requests failed: %s\n", r.Test, r.Mode, r.Errors, r.Requests, reasons(r.ErrorReasons))
}

// benchReporter prints a run's results in one of the four formats, each test as soon as
// it completes (JSON, being one document, when the run ends).
type benchReporter interface {
	// result reports one completed test.
	result(r benchResult) error
	// finish ends the report: every result and, with --compare, the ratios; runErr is
	// why the run stopped early, or nil.
	finish(results []benchResult, runErr error) error
}

func newReporter(w io.Writer, cfg benchConfig) benchReporter {
	switch {
	case cfg.json:
		return &jsonReport{w: w, cfg: cfg}
	case cfg.csv:
		return newCSVReport(w)
	case cfg.quiet:
		return &quietReport{w: w, cfg: cfg}
	}
	return newTextReport(w, cfg)
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

// writeRatios prints --compare's ratio lines.
func writeRatios(w io.Writer, results []benchResult) error {
	for _, r := range ratios(results) {
		if _, err := fmt.Fprintf(w, "%s: client/raw = %.2f\n", r.Test, r.ClientOverRaw); err != nil {
			return err
		}
	}
	return nil
}

// textReport is the default: a header, then one fixed-width row per test as it
// completes (the widths are known before the first test runs), each followed by its
// failures if it had any.
type textReport struct {
	w     io.Writer
	width []int
}

var textColumns = []string{"test", "mode", "requests", "errors", "seconds", "ops/s", "avg ms", "min ms", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"}

func newTextReport(w io.Writer, cfg benchConfig) *textReport {
	t := &textReport{w: w, width: make([]int, len(textColumns))}
	for i, c := range textColumns {
		t.width[i] = max(len(c), 9)
	}
	for _, name := range cfg.tests {
		t.width[0] = max(t.width[0], len(name))
	}
	t.width[0], t.width[1] = max(t.width[0], 7), 6
	fmt.Fprintln(w, benchHeader(cfg))
	t.row(textColumns)
	return t
}

// row prints cells right-aligned in the columns, two blanks apart.
func (t *textReport) row(cells []string) error {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteString("  ")
		}
		fmt.Fprintf(&b, "%*s", t.width[i], c)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(t.w, b.String())
	return err
}

func (t *textReport) result(r benchResult) error {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	if err := t.row([]string{r.Test, r.Mode, strconv.Itoa(r.Requests), strconv.FormatInt(r.Errors, 10), f(r.Seconds), strconv.FormatFloat(r.OpsPerSec, 'f', 0, 64),
		f(r.Avg), f(r.Min), f(r.P50), f(r.P90), f(r.P99), f(r.P999), f(r.Max)}); err != nil {
		return err
	}
	_, err := io.WriteString(t.w, failureLine(r))
	return err
}

func (t *textReport) finish(results []benchResult, _ error) error { return writeRatios(t.w, results) }

// quietReport is -q: one line per test, as redis-benchmark -q prints.
type quietReport struct {
	w   io.Writer
	cfg benchConfig
}

func (q *quietReport) result(r benchResult) error {
	name := r.Test
	if q.cfg.compare || q.cfg.raw {
		name += " (" + r.Mode + ")"
	}
	_, err := fmt.Fprintf(q.w, "%s: %.0f requests per second, p50=%.3f ms\n%s", name, r.OpsPerSec, r.P50, failureLine(r))
	return err
}

func (q *quietReport) finish(results []benchResult, _ error) error {
	return writeRatios(q.w, results)
}

// csvReport is --csv: a header line, then one line per test and mode, each written as
// soon as the test completes.
type csvReport struct{ cw *csv.Writer }

func newCSVReport(w io.Writer) *csvReport {
	c := &csvReport{csv.NewWriter(w)}
	_ = c.cw.Write([]string{"test", "mode", "requests", "errors", "seconds", "ops_per_sec", "avg_ms", "min_ms", "p50_ms", "p90_ms", "p99_ms", "p99_9_ms", "max_ms", "error_reasons"})
	c.cw.Flush()
	return c
}

func (c *csvReport) result(r benchResult) error {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	_ = c.cw.Write([]string{r.Test, r.Mode, strconv.Itoa(r.Requests), strconv.FormatInt(r.Errors, 10), f(r.Seconds), strconv.FormatFloat(r.OpsPerSec, 'f', 0, 64),
		f(r.Avg), f(r.Min), f(r.P50), f(r.P90), f(r.P99), f(r.P999), f(r.Max), reasons(r.ErrorReasons).String()})
	c.cw.Flush()
	return c.cw.Error()
}

func (c *csvReport) finish([]benchResult, error) error { return nil }

// jsonReport is --json: one document when the run ends, early or not, with the tests
// that completed and, if the run stopped early, why.
type jsonReport struct {
	w   io.Writer
	cfg benchConfig
}

func (j *jsonReport) result(benchResult) error { return nil }

func (j *jsonReport) finish(results []benchResult, runErr error) error {
	cfg := j.cfg
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
		Error     string        `json:"error,omitempty"`
	}{Addr: cfg.addr, Embedded: cfg.embedded, Callers: cfg.callers, Conns: cfg.conns, ValueSize: cfg.size,
		Keyspace: cfg.keyspace, Pipeline: cfg.pipeline, Results: results}
	if results == nil {
		doc.Results = []benchResult{}
	}
	if cfg.compare {
		doc.Compare = ratios(results)
	}
	if runErr != nil {
		doc.Error = strings.TrimPrefix(errorText(runErr), "gibson: ")
	}
	return json.NewEncoder(j.w).Encode(doc)
}
