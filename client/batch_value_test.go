package client

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/wire"
)

// A ValueHandle reads its value where the batch received it: Result and AppendTo give the
// typed method's answer (numbers as text, a miss as ErrNotFound), and the value stays the
// batch's own until Reset, whatever other batches on the same connection receive meanwhile.
func TestValueHandleReadsItsOwnReply(t *testing.T) {
	s := gibsontest.NewServer(t)
	ctx := context.Background()
	for _, tr := range []struct {
		name  string
		batch func() *Batch
	}{{"Client", dialClient(t, s.Addr(), WithPoolSize(1)).Batch}, {"Conn", dialConn(t, s.Addr()).Batch}} {
		t.Run(tr.name, func(t *testing.T) {
			for i := range 40 {
				s.Set(fmt.Sprint("a", i), []byte(fmt.Sprint("first-", i)), 0)
				s.Set(fmt.Sprint("b", i), []byte(fmt.Sprint("SECOND-", i)), 0)
			}
			a, b := tr.batch(), tr.batch()
			var ha []*ValueHandle
			for i := range 40 {
				ha = append(ha, a.Get(fmt.Sprint("a", i)))
			}
			a.Inc("n")
			num := a.Get("n")
			miss := a.Get("missing")
			if _, err := num.AppendTo(nil); !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("AppendTo before Exec: %v; want ErrInvalidArgument", err)
			}
			if err := a.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			for range 3 { // other batches on the same connection, with other values
				b.Reset()
				for i := range 40 {
					b.Get(fmt.Sprint("b", i))
				}
				if err := b.Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			var buf []byte
			for i, h := range ha {
				want := fmt.Sprint("first-", i)
				v, err := h.Result()
				if err != nil || string(v) != want {
					t.Fatalf("Result of GET a%d after other batches = %q, %v; want %q", i, v, err, want)
				}
				start := len(buf)
				if buf, err = h.AppendTo(buf); err != nil || string(buf[start:]) != want {
					t.Fatalf("AppendTo of GET a%d = %q, %v; want %q", i, buf[start:], err, want)
				}
			}
			if v, err := num.Result(); err != nil || string(v) != "1" {
				t.Fatalf("GET of a number = %q, %v; want \"1\"", v, err)
			}
			if out, err := miss.AppendTo([]byte("x")); !errors.Is(err, ErrNotFound) || string(out) != "x" {
				t.Fatalf("AppendTo of a miss = %q, %v; want dst unchanged and ErrNotFound", out, err)
			}
			a.Reset()
			if _, err := ha[0].Result(); !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("a handle after Reset: %v; want ErrInvalidArgument (not run)", err)
			}
			s.Flush()
		})
	}
}

// A ReplyHandle gives the reply as the server sent it with AppendWire (error codes
// included, with no error), and Result's copy; a batch that could not run leaves dst alone.
func TestReplyHandleAppendWire(t *testing.T) {
	s := gibsontest.NewServer(t)
	s.Set("k", []byte("value"), 0)
	c := dialClient(t, s.Addr())
	b := c.Batch()
	hit, miss := b.Do(OpGet, []byte("k")), b.Do(OpGet, []byte("nope"))
	if _, err := hit.AppendWire(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("AppendWire before Exec: %v", err)
	}
	if err := b.Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := hit.AppendWire([]byte("x"))
	want := append([]byte("x"), 6, 0, 0, 5, 0, 0, 0, 'v', 'a', 'l', 'u', 'e')
	if err != nil || string(got) != string(want) {
		t.Fatalf("AppendWire of a hit = % x, %v; want % x", got, err, want)
	}
	if got, err := miss.AppendWire(nil); err != nil || string(got) != string([]byte{1, 0, 0, 1, 0, 0, 0, 0}) {
		t.Fatalf("AppendWire of a miss = % x, %v; want NOT_FOUND's 8 bytes and no error", got, err)
	}
	if rep, err := miss.Result(); !errors.Is(err, ErrNotFound) || rep.Code != wire.CodeNotFound {
		t.Fatalf("Result of a miss = %+v, %v", rep, err)
	}
	c.Close()
	b.Reset()
	h := b.Do(OpGet, []byte("k"))
	b.Exec(context.Background())
	if got, err := h.AppendWire([]byte("x")); !errors.Is(err, ErrClosed) || string(got) != "x" {
		t.Fatalf("AppendWire after a failed batch = %q, %v; want dst unchanged and ErrClosed", got, err)
	}
}
