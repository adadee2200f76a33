package wire_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

var (
	commandsType = reflect.TypeFor[*generated.Commands]()
	batchType    = reflect.TypeFor[*generated.BatchCommands]()
	ctxType      = reflect.TypeFor[context.Context]()
)

// TestBatchSurfaceMatchesCommands: every typed method has a batch method with the same
// parameters minus ctx, returning a handle whose Result has the typed method's results (Err
// for error-only methods), and the batch has no other exported method but Do, the raw
// request.
func TestBatchSurfaceMatchesCommands(t *testing.T) {
	if _, ok := batchType.MethodByName("Do"); !ok || commandsType.NumMethod()+1 != batchType.NumMethod() {
		t.Errorf("Commands has %d methods, BatchCommands %d; want one more, Do", commandsType.NumMethod(), batchType.NumMethod())
	}
	for i := 0; i < commandsType.NumMethod(); i++ {
		tm := commandsType.Method(i)
		bm, ok := batchType.MethodByName(tm.Name)
		if !ok {
			t.Errorf("BatchCommands has no %s", tm.Name)
			continue
		}
		// Method types include the receiver: In(0) is it, In(1) the typed method's ctx.
		if tm.Type.In(1) != ctxType || tm.Type.NumIn() != bm.Type.NumIn()+1 {
			t.Errorf("%s: typed %v, batch %v: want the same parameters minus ctx", tm.Name, tm.Type, bm.Type)
			continue
		}
		for j := 1; j < bm.Type.NumIn(); j++ {
			if bm.Type.In(j) != tm.Type.In(j+1) {
				t.Errorf("%s: parameter %d is %v, the typed method's %v", tm.Name, j, bm.Type.In(j), tm.Type.In(j+1))
			}
		}
		if bm.Type.NumOut() != 1 || !bm.Type.Out(0).Implements(reflect.TypeFor[generated.Handle]()) {
			t.Errorf("%s: batch method returns %v, want one Handle", tm.Name, bm.Type)
			continue
		}
		h := bm.Type.Out(0)
		want := "Result"
		if tm.Type.NumOut() == 1 {
			want = "Err"
		}
		rm, ok := h.MethodByName(want)
		if !ok {
			t.Errorf("%s: %v has no %s", tm.Name, h, want)
			continue
		}
		if rm.Type.NumOut() != tm.Type.NumOut() {
			t.Errorf("%s: %v.%s returns %v, typed %v", tm.Name, h, want, rm.Type, tm.Type)
			continue
		}
		for j := 0; j < rm.Type.NumOut(); j++ {
			if rm.Type.Out(j) != tm.Type.Out(j) {
				t.Errorf("%s: %v.%s result %d is %v, typed %v", tm.Name, h, want, j, rm.Type.Out(j), tm.Type.Out(j))
			}
		}
	}
}

// refusingExec records the frame a typed method would send and fails the call.
type refusingExec struct{ frame []byte }

var errNotSent = errors.New("not sent")

func (e *refusingExec) Exec(_ context.Context, req *wire.Request) (wire.Reply, error) {
	e.frame = append(e.frame[:0], req.Frame()...)
	req.Release()
	return wire.Reply{}, errNotSent
}

// argValues are the values tried for each parameter type: a valid one first, then edge
// cases the checks refuse or accept (a 511-byte key fits GET but not SET's shared budget).
var argValues = map[reflect.Type][]any{
	reflect.TypeFor[string](): {"k", "", "a b", strings.Repeat("k", 511), strings.Repeat("k", 512), "\x00"},
	reflect.TypeFor[[]byte](): {[]byte("v"), []byte{}, []byte(nil), bytes.Repeat([]byte("v"), 4096), bytes.Repeat([]byte("v"), 4097), []byte("a b")},
	reflect.TypeFor[time.Duration](): {time.Second, time.Duration(0), -5 * time.Second, wire.LockForever, time.Millisecond,
		wire.MaxSeconds * time.Second, wire.MaxSeconds*time.Second + 1, 40000 * time.Second},
	reflect.TypeFor[int](): {0, -1, 7},
}

// TestBatchValidatesLikeCommands tries every parameter of every method with valid and
// invalid values: either the typed method refuses and the batch method completes its handle
// at once with the same error and queues nothing, or both send the same frame.
func TestBatchValidatesLikeCommands(t *testing.T) {
	refused := 0
	for i := 0; i < commandsType.NumMethod(); i++ {
		tm := commandsType.Method(i)
		cmd := commandOf(t, tm.Name)
		np := tm.Type.NumIn() - 2 // receiver and ctx
		base := make([]reflect.Value, np)
		for p := range base {
			base[p] = reflect.ValueOf(argValues[tm.Type.In(p+2)][0])
		}
		try := func(args []reflect.Value) {
			t.Helper()
			exec := &refusingExec{}
			c := &generated.Commands{Executor: exec}
			out := reflect.ValueOf(c).MethodByName(tm.Name).Call(append([]reflect.Value{reflect.ValueOf(t.Context())}, args...))
			typedErr, _ := out[len(out)-1].Interface().(error)

			fb := &fakeBatcher{}
			var bc generated.BatchCommands
			generated.InitBatch(&bc, fb, wire.Limits{})
			h := reflect.ValueOf(&bc).MethodByName(tm.Name).Call(args)[0].Interface()
			_, batchErr := handleResult(t, h)
			desc := tm.Name + formatArgs(args)
			switch {
			case cmd.Flags&wire.FlagCloses != 0:
				if len(fb.handles) != 0 || !errors.Is(batchErr, wire.ErrInvalidArgument) {
					t.Errorf("%s: queued %d, handle error %v; want refused with ErrInvalidArgument", desc, len(fb.handles), batchErr)
				}
			case typedErr == errNotSent:
				if len(fb.handles) != 1 || !bytes.Equal(fb.frames, exec.frame) {
					t.Errorf("%s: batch queued %d frames %x, the typed method sent %x", desc, len(fb.handles), fb.frames, exec.frame)
				}
				if !errors.Is(batchErr, wire.ErrInvalidArgument) || !strings.Contains(batchErr.Error(), "call Exec first") {
					t.Errorf("%s: before delivery the handle gives %v, want ErrInvalidArgument saying call Exec first", desc, batchErr)
				}
			default:
				refused++
				if len(fb.handles) != 0 || len(fb.frames) != 0 {
					t.Errorf("%s: the typed method refused (%v) but the batch queued %d", desc, typedErr, len(fb.handles))
				}
				if batchErr == nil || batchErr.Error() != typedErr.Error() || !errors.Is(batchErr, wire.ErrInvalidArgument) {
					t.Errorf("%s: handle error %v, typed %v", desc, batchErr, typedErr)
				}
			}
		}
		try(base)
		for p := range base {
			for _, v := range argValues[tm.Type.In(p+2)][1:] {
				args := append([]reflect.Value(nil), base...)
				args[p] = reflect.ValueOf(v)
				try(args)
			}
		}
	}
	if refused < 50 {
		t.Errorf("only %d refused calls tried; the table of values lost its invalid ones", refused)
	}
}

func formatArgs(args []reflect.Value) string {
	parts := make([]string, len(args))
	for i, a := range args {
		s := fmt.Sprintf("%q", a.Interface())
		if n, ok := a.Interface().(int); ok {
			s = fmt.Sprint(n)
		}
		if len(s) > 24 {
			s = fmt.Sprintf("%s… (%d bytes)", s[:20], a.Len())
		}
		parts[i] = s
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// TestBatchHandleLifecycle: a queued handle reports that the batch has not run, takes its
// reply once (a second delivery is ignored), carries a transport error as given, and after
// ResetBatch its memory serves the next command with no trace of the old result.
func TestBatchHandleLifecycle(t *testing.T) {
	fb := &fakeBatcher{}
	var bc generated.BatchCommands
	generated.InitBatch(&bc, fb, wire.Limits{})
	get, set, ping := bc.Get("k"), bc.Set("k", []byte("hello"), 0), bc.Ping()
	if _, err := get.Result(); !errors.Is(err, wire.ErrInvalidArgument) || err.Error() != "gibson: GET: invalid argument: the batch has not run yet; call Exec first" {
		t.Errorf("Get before delivery: %v", err)
	}
	if err := set.Err(); !errors.Is(err, wire.ErrInvalidArgument) || !strings.Contains(err.Error(), "SET") {
		t.Errorf("Set before delivery: %v", err)
	}
	if len(fb.handles) != 3 {
		t.Fatalf("%d handles queued, want 3", len(fb.handles))
	}
	val := []byte{6, 0, 0, 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'}
	short := []byte{6, 0, 0, 3, 0, 0, 0, 'h', 'e', 'l'}
	generated.Deliver(get, wire.Reply{Code: wire.CodeVal, Data: val[7:]}, nil)
	generated.Deliver(get, wire.Reply{Code: wire.CodeNotFound, Data: []byte{0}}, nil)
	if v, err := get.Result(); err != nil || string(v) != "hello" {
		t.Errorf("Get after two deliveries: %q, %v; want the first", v, err)
	}
	generated.Deliver(set, wire.Reply{Code: wire.CodeVal, Data: short[7:]}, nil)
	if err := set.Err(); !errors.Is(err, wire.ErrServer) || !strings.Contains(err.Error(), "stored 3 of 5 bytes") {
		t.Errorf("Set with a truncated echo: %v; want ErrServer as Commands.Set gives", err)
	}
	broken := wire.WrapError(wire.ErrClosed, "PING", errors.New("connection reset"))
	generated.Deliver(ping, wire.Reply{Code: wire.CodeOK, Data: []byte{0}}, broken)
	if err := ping.Err(); err != broken {
		t.Errorf("Ping delivered an error: %v, want it as given", err)
	}

	generated.ResetBatch(&bc)
	if _, err := get.Result(); !errors.Is(err, wire.ErrInvalidArgument) {
		t.Errorf("a handle after ResetBatch still gives a result: %v", err)
	}
	if again := bc.Get("other"); again != get {
		t.Errorf("after ResetBatch a new Get got a fresh handle; want the first one's memory reused")
	}
}

// TestBatchInvalidArgumentsFailOnlyTheirHandle: in a batch, the invalid command's handle
// carries its error before anything runs, and the valid commands around it are queued.
func TestBatchInvalidArgumentsFailOnlyTheirHandle(t *testing.T) {
	fb := &fakeBatcher{}
	var bc generated.BatchCommands
	generated.InitBatch(&bc, fb, wire.Limits{MaxKeySize: 8})
	a := bc.Get("a")
	bad := bc.Set("a key", []byte("v"), 0)
	long := bc.MGet("prefix:long", 0)
	neg := bc.MGet("p", -1)
	lock := bc.Lock("k", 0)
	end := bc.End()
	b := bc.Get("b")
	if len(fb.handles) != 2 || fb.handles[0] != a || fb.handles[1] != b {
		t.Fatalf("queued %v; want only the two valid GETs", fb.handles)
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"Set with a space", bad.Err(), "gibson: SET: invalid argument: key \"a key\" contains a space at byte 1"},
		{"MGet over the key size", func() error { _, err := long.Result(); return err }(), "gibson: MGET: invalid argument: prefix is 11 bytes; at most 7 fit"},
		{"MGet negative limit", func() error { _, err := neg.Result(); return err }(), "gibson: MGET: invalid argument: limit -1 is negative"},
		{"Lock 0", func() error { _, err := lock.Result(); return err }(), "gibson: LOCK: invalid argument: d 0s locks nothing"},
		{"End", end.Err(), "gibson: END: invalid argument: END would close the connection under the rest of the batch; call End on its own"},
	} {
		if !errors.Is(c.err, wire.ErrInvalidArgument) || !strings.HasPrefix(c.err.Error(), c.want) {
			t.Errorf("%s: %v; want ErrInvalidArgument starting %q", c.name, c.err, c.want)
		}
	}
	var r wire.Reader
	fb.deliverAll(t, &r, []byte{6, 0, 0, 1, 0, 0, 0, 'A', 1, 0, 0, 1, 0, 0, 0, 0})
	if v, err := a.Result(); err != nil || string(v) != "A" {
		t.Errorf("Get a: %q, %v", v, err)
	}
	if _, err := b.Result(); !errors.Is(err, wire.ErrNotFound) {
		t.Errorf("Get b: %v, want ErrNotFound", err)
	}
}
