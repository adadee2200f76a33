package client

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/wire"
)

// rawCase is one raw request and the error kind its reply must carry (nil for success).
type rawCase struct {
	op   wire.Opcode
	args []string
	kind error
}

func rawArgs(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// Batch.Do gives, for each raw request, exactly what Conn.Do gives: the same reply (Data
// copied) and, for error codes, the same error.
func TestBatchDoMatchesConnDo(t *testing.T) {
	batchTargets(t, func(t *testing.T, s *gibsontest.Server, newBatch func(...Option) *Batch) {
		ctx := context.Background()
		c := dialConn(t, s.Addr())
		prepare := func() {
			c.MUnlock(ctx, "rd:")
			c.MDelete(ctx, "rd:")
			if err := c.Set(ctx, "rd:text", []byte("hello"), 0); err != nil {
				t.Fatal(err)
			}
			if err := c.Set(ctx, "rd:locked", []byte("x"), 0); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Lock(ctx, "rd:locked", time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		cases := []rawCase{
			{generated.OpSet, []string{"0", "rd:n", "41"}, nil},
			{generated.OpInc, []string{"rd:n"}, nil},
			{generated.OpGet, []string{"rd:n"}, nil},
			{generated.OpGet, []string{"rd:absent"}, wire.ErrNotFound},
			{generated.OpInc, []string{"rd:text"}, wire.ErrNaN},
			{generated.OpSet, []string{"0", "rd:locked", "y"}, wire.ErrLocked},
			{generated.OpKeys, []string{"rd:"}, nil},
			{generated.OpPing, nil, nil},
		}

		prepare()
		want := make([]wire.Reply, len(cases))
		wantErr := make([]error, len(cases))
		for i, tc := range cases {
			want[i], wantErr[i] = c.Do(ctx, tc.op, rawArgs(tc.args)...)
		}

		prepare()
		b := newBatch()
		hs := make([]*ReplyHandle, len(cases))
		for i, tc := range cases {
			hs[i] = b.Do(tc.op, rawArgs(tc.args)...)
		}
		if b.Len() != len(cases) {
			t.Fatalf("Len = %d, want %d", b.Len(), len(cases))
		}
		if _, err := hs[0].Result(); !errors.Is(err, wire.ErrInvalidArgument) {
			t.Errorf("Result before Exec: err = %v, want ErrInvalidArgument", err)
		}
		if err := b.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for i, tc := range cases {
			rep, err := hs[i].Result()
			if rep.Code != want[i].Code || rep.Encoding != want[i].Encoding || !bytes.Equal(rep.Data, want[i].Data) {
				t.Errorf("case %d (%v %q): reply %+v, Conn.Do gave %+v", i, tc.op, tc.args, rep, want[i])
			}
			switch {
			case tc.kind == nil && err != nil:
				t.Errorf("case %d: err = %v, want nil", i, err)
			case tc.kind != nil && !errors.Is(err, tc.kind):
				t.Errorf("case %d: err = %v, want %v", i, err, tc.kind)
			case err != nil && (wantErr[i] == nil || err.Error() != wantErr[i].Error()):
				t.Errorf("case %d: err %q, Conn.Do gave %v", i, err, wantErr[i])
			}
		}
		// The data is a copy: the batch reused for another run does not change it.
		got, _ := hs[2].Result()
		keep := bytes.Clone(got.Data)
		b.Reset()
		b.Do(generated.OpGet, []byte("rd:text"))
		if err := b.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Data, keep) {
			t.Errorf("reply data changed after the batch was reused: %q, was %q", got.Data, keep)
		}
	})
}

// END and opcodes outside the spec are refused when queued: their handles fail at once
// with ErrInvalidArgument, nothing is sent, the other commands run and the connection lives.
func TestBatchDoRefusesEndAndUnknownOpcodes(t *testing.T) {
	batchTargets(t, func(t *testing.T, s *gibsontest.Server, newBatch func(...Option) *Batch) {
		ctx := context.Background()
		b := newBatch()
		before := b.Len()
		end := b.Do(generated.OpEnd)
		unknown := b.Do(wire.Opcode(200), []byte("x"))
		if b.Len() != before {
			t.Fatalf("refused commands were queued: Len = %d", b.Len())
		}
		for name, h := range map[string]*ReplyHandle{"END": end, "opcode 200": unknown} {
			rep, err := h.Result()
			if !errors.Is(err, wire.ErrInvalidArgument) {
				t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
			}
			if rep.Code != 0 || rep.Data != nil {
				t.Errorf("%s: reply %+v, want the zero reply", name, rep)
			}
		}
		if _, err := unknown.Result(); err == nil || !bytes.Contains([]byte(err.Error()), []byte("opcode 200")) {
			t.Errorf("unknown opcode error does not name it: %v", err)
		}
		ping := b.Do(generated.OpPing)
		if err := b.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if rep, err := ping.Result(); err != nil || rep.Code != wire.CodeOK {
			t.Errorf("PING after refusals: %+v, %v", rep, err)
		}
		// The connection is still usable: END was never sent.
		b.Reset()
		again := b.Do(generated.OpPing)
		if err := b.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := again.Result(); err != nil {
			t.Errorf("PING on the reused batch: %v", err)
		}
	})
}
