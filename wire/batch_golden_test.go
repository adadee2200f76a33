package wire_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/internal/golden"
	"github.com/gogibson/gogibson/wire"
)

// fakeBatcher is a Batcher that collects the frames queued on it, in order, and remembers
// each request and handle so that a test can answer them.
type fakeBatcher struct {
	frames  []byte
	reqs    []*wire.Request
	handles []generated.Handle
}

func (f *fakeBatcher) Request(op wire.Opcode, verb string, flags wire.Flags) *wire.Request {
	return wire.NewRequest(op, verb, flags)
}

func (f *fakeBatcher) Queue(req *wire.Request, h generated.Handle) {
	f.frames = append(f.frames, req.Frame()...)
	f.reqs = append(f.reqs, req)
	f.handles = append(f.handles, h)
}

// reset releases the queued requests and forgets the frames and handles, keeping capacity.
func (f *fakeBatcher) reset() {
	for _, r := range f.reqs {
		r.Release()
	}
	clear(f.handles)
	f.frames, f.reqs, f.handles = f.frames[:0], f.reqs[:0], f.handles[:0]
}

// deliverAll answers the queued handles in order with the replies in raw. The replies stay
// in the reader's buffer, untouched until the next deliverAll: the Deliver contract (rep.Data
// valid until the batch is reset, so a ValueHandle may read it late).
func (f *fakeBatcher) deliverAll(t testing.TB, r *wire.Reader, raw []byte) {
	r.Reset()
	r.Feed(raw)
	for i, h := range f.handles {
		rep, ok, err := r.Next()
		if err != nil || !ok {
			t.Fatalf("reply %d of %d: ok=%v err=%v", i, len(f.handles), ok, err)
		}
		generated.Deliver(h, rep, nil)
	}
	if r.Buffered() != 0 {
		t.Fatalf("%d reply bytes left after %d handles", r.Buffered(), len(f.handles))
	}
}

// callBatch calls the batch method written in a golden call such as Set("k", "v", 60s) or
// Lock("k", LockForever) and returns its handle.
func callBatch(t *testing.T, bc *generated.BatchCommands, call string) any {
	t.Helper()
	open := strings.IndexByte(call, '(')
	name, inner := call[:open], call[open+1:len(call)-1]
	m := reflect.ValueOf(bc).MethodByName(name)
	if !m.IsValid() {
		t.Fatalf("%s: BatchCommands has no method %s", call, name)
	}
	var texts []string
	if inner != "" {
		var s scanner.Scanner
		fset := token.NewFileSet()
		s.Init(fset.AddFile("", -1, len(inner)), []byte(inner), func(_ token.Position, msg string) { t.Fatalf("%s: %s", call, msg) }, 0)
		cur := ""
		for {
			_, tok, lit := s.Scan()
			if tok == token.EOF || tok == token.SEMICOLON && lit == "\n" {
				break
			}
			if tok == token.COMMA {
				texts, cur = append(texts, cur), ""
				continue
			}
			cur += lit
		}
		texts = append(texts, cur)
	}
	if len(texts) != m.Type().NumIn() {
		t.Fatalf("%s: %d arguments, BatchCommands.%s takes %d", call, len(texts), name, m.Type().NumIn())
	}
	args := make([]reflect.Value, len(texts))
	for i, text := range texts {
		args[i] = parseGoldenArg(t, call, text, m.Type().In(i))
	}
	return m.Call(args)[0].Interface()
}

func parseGoldenArg(t *testing.T, call, text string, typ reflect.Type) reflect.Value {
	t.Helper()
	var v any
	var err error
	switch typ {
	case reflect.TypeFor[string]():
		v, err = strconv.Unquote(text)
	case reflect.TypeFor[[]byte]():
		var s string
		s, err = strconv.Unquote(text)
		v = []byte(s)
	case reflect.TypeFor[time.Duration]():
		switch {
		case text == "LockForever":
			v = wire.LockForever
		case text == "0":
			v = time.Duration(0)
		default:
			v, err = time.ParseDuration(text)
		}
	case reflect.TypeFor[int]():
		v, err = strconv.Atoi(text)
	default:
		t.Fatalf("%s: no parser for parameter type %v", call, typ)
	}
	if err != nil {
		t.Fatalf("%s: argument %q: %v", call, text, err)
	}
	return reflect.ValueOf(v)
}

// handleResult reads any generated handle the way formatResult expects typed results.
func handleResult(t *testing.T, h any) (any, error) {
	t.Helper()
	switch h := h.(type) {
	case *generated.StoredHandle:
		return nil, h.Err()
	case *generated.StatusHandle:
		return nil, h.Err()
	case *generated.ValueHandle:
		return h.Result()
	case *generated.FoundHandle:
		return h.Result()
	case *generated.NumberHandle:
		return h.Result()
	case *generated.CountHandle:
		return h.Result()
	case *generated.KVListHandle:
		return h.Result()
	case *generated.KeyListHandle:
		return h.Result()
	case *generated.StatsHandle:
		return h.Result()
	}
	t.Fatalf("unknown handle type %T", h)
	return nil, nil
}

// commandOf returns the table entry whose method (or variant) is named method.
func commandOf(t *testing.T, method string) *generated.Command {
	t.Helper()
	for i, c := range generated.Table {
		if c.Name == method {
			return &generated.Table[i]
		}
		for _, v := range c.Variants {
			if v.Name == method {
				return &generated.Table[i]
			}
		}
	}
	t.Fatalf("no command has the method %s", method)
	return nil
}

// TestGoldenBatch queues one batch of every golden call of TestGoldenTranscripts (one or
// more per opcode) and STATS: the frames sent must be the captured requests concatenated,
// and the captured replies, delivered in order, must decode in every handle to exactly what
// the typed method gives for the same reply, which is the value in the golden files. END
// is refused when queued, because its command is flagged closes.
func TestGoldenBatch(t *testing.T) {
	limits := wire.Limits{MaxKeySize: 1024, MaxValueSize: 2096127}
	fb := &fakeBatcher{}
	var bc generated.BatchCommands
	generated.InitBatch(&bc, fb, limits)

	type queued struct {
		group  string
		gc     goldenCase
		row    transcriptRow
		handle any
	}
	var all []queued
	var wantFrames, replies []byte
	covered := map[wire.Opcode]bool{}
	groups := make([]string, 0, len(goldenCases))
	for name := range goldenCases {
		groups = append(groups, name)
	}
	sort.Strings(groups)
	for _, group := range groups {
		for _, gc := range goldenCases[group] {
			row := transcriptCase(t, gc.file, gc.row)
			n := len(fb.handles)
			h := callBatch(t, &bc, gc.call)
			cmd := commandOf(t, gc.call[:strings.IndexByte(gc.call, '(')])
			covered[cmd.Op] = true
			if cmd.Flags&wire.FlagCloses != 0 {
				if len(fb.handles) != n {
					t.Errorf("%s: a command flagged closes was queued", gc.call)
				}
				_, err := handleResult(t, h)
				want := cmd.Verb + " would close the connection under the rest of the batch"
				if !errors.Is(err, wire.ErrInvalidArgument) || err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s: handle error %v, want ErrInvalidArgument saying %q", gc.call, err, want)
				}
				continue
			}
			if len(fb.handles) != n+1 || fb.handles[n] != h {
				t.Fatalf("%s: queued %d handles, want its own handle queued once", gc.call, len(fb.handles)-n)
			}
			if req := fb.reqs[n]; req.Op != cmd.Op || req.Verb != cmd.Verb || req.Flags != cmd.Flags {
				t.Errorf("%s: request op %v verb %s flags %b, want %v %s %b", gc.call, req.Op, req.Verb, req.Flags, cmd.Op, cmd.Verb, cmd.Flags)
			}
			wantFrames = append(wantFrames, row.Request...)
			replies = append(replies, row.Reply...)
			all = append(all, queued{group, gc, row, h})
		}
	}
	statsReply := func() []byte {
		raw, err := os.ReadFile(filepath.Join("..", "testdata", "transcripts", "stats-18-full.hex"))
		if err != nil {
			t.Fatal(err)
		}
		return mustHex(t, string(raw))
	}()
	stats := bc.Stats()
	covered[generated.OpStats] = true
	wantFrames = append(wantFrames, 2, 0, 0, 0, 0x12, 0)
	replies = append(replies, statsReply...)

	for _, c := range generated.Table {
		if !covered[c.Op] {
			t.Errorf("opcode %d (%s) is not in the golden batch", c.Op, c.Verb)
		}
	}
	if !bytes.Equal(fb.frames, wantFrames) {
		t.Fatalf("batch frames differ from the captured requests concatenated:\n got %x\nwant %x", fb.frames, wantFrames)
	}

	var r wire.Reader
	fb.deliverAll(t, &r, replies)

	outs := map[string]*bytes.Buffer{}
	for _, q := range all {
		res, err := handleResult(t, q.handle)
		got := formatResult(res, err)
		typed, terr := q.gc.run(context.Background(), &generated.Commands{Executor: &cannedExec{reply: q.row.Reply}, Limits: limits})
		if want := formatResult(typed, terr); got != want {
			t.Errorf("%s (%s): batch gives %s, the typed method %s", q.gc.call, q.gc.row, got, want)
		}
		if outs[q.group] == nil {
			outs[q.group] = &bytes.Buffer{}
		}
		fmt.Fprintf(outs[q.group], "# %s (%s)\ncall: %s\nrequest: %x\nreply: %x\nresult: %s\n\n", q.gc.row, q.gc.file, q.gc.call, q.row.Request, q.row.Reply, got)
	}
	st, err := stats.Result()
	outs["stats"] = bytes.NewBufferString(formatResult(st, err) + "\n")
	if *golden.Update {
		return // TestGoldenTranscripts rewrites the files from the typed methods
	}
	for group, out := range outs {
		want, err := os.ReadFile(filepath.Join("..", "testdata", "golden", "wire", group+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		if out.String() != string(want) {
			t.Errorf("batch results of %s differ from testdata/golden/wire/%s.golden:\n got %s\nwant %s", group, group, out, want)
		}
	}
}
