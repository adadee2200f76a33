package wire_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/gogibson/gogibson/wire"
)

// replies is a stream with every reply layout: code-only, VAL plain, VAL number (8 and 4
// bytes), KVAL with mixed encodings and zero-length key and value.
var replies = [][]byte{
	{5, 0, 0, 1, 0, 0, 0, 0}, // OK
	{1, 0, 0, 1, 0, 0, 0, 0}, // NOT_FOUND
	{6, 0, 0, 3, 0, 0, 0, 'b', 'a', 'r'},
	{6, 0, 2, 8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	{6, 0, 2, 4, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff},
	kval([]kvEntry{{"ka", 0, []byte("x")}, {"kb", 2, []byte{5, 0, 0, 0, 0, 0, 0, 0}}, {"", 0, nil}}),
}

type kvEntry struct {
	key string
	enc byte
	val []byte
}

func kval(entries []kvEntry) []byte {
	body := binary.LittleEndian.AppendUint32(nil, uint32(len(entries)))
	for _, e := range entries {
		body = binary.LittleEndian.AppendUint32(body, uint32(len(e.key)))
		body = append(body, e.key...)
		body = append(body, e.enc)
		body = binary.LittleEndian.AppendUint32(body, uint32(len(e.val)))
		body = append(body, e.val...)
	}
	out := []byte{7, 0, 0}
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body)))
	return append(out, body...)
}

func stream() []byte { return bytes.Join(replies, nil) }

// TestReaderAnySplit feeds the stream cut at every pair of positions and expects the same
// replies, each only once it is complete.
func TestReaderAnySplit(t *testing.T) {
	all := stream()
	want := collect(t, [][]byte{all})
	if len(want) != len(replies) {
		t.Fatalf("whole stream gave %d replies, want %d", len(want), len(replies))
	}
	for i := 0; i <= len(all); i++ {
		for j := i; j <= len(all); j += 7 {
			got := collect(t, [][]byte{all[:i], all[i:j], all[j:]})
			if !equalReplies(got, want) {
				t.Fatalf("split at %d,%d: got %v want %v", i, j, got, want)
			}
		}
	}
	// One byte at a time: no reply may appear before its last byte.
	var r wire.Reader
	n := 0
	for i, b := range all {
		r.Feed([]byte{b})
		for {
			rep, ok, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			n++
			end := len(bytes.Join(replies[:n], nil))
			if i+1 != end {
				t.Fatalf("reply %d (%v) returned after %d bytes, it ends at %d", n, rep.Code, i+1, end)
			}
		}
	}
	if n != len(replies) {
		t.Fatalf("byte-wise feeding gave %d replies", n)
	}
}

type flatReply struct {
	code wire.Code
	enc  wire.Encoding
	data string
}

func collect(t *testing.T, parts [][]byte) []flatReply {
	t.Helper()
	var r wire.Reader
	var out []flatReply
	for _, p := range parts {
		r.Feed(p)
		for {
			rep, ok, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			out = append(out, flatReply{rep.Code, rep.Encoding, string(rep.Data)})
		}
	}
	if r.Buffered() != 0 {
		t.Fatalf("%d bytes left over", r.Buffered())
	}
	return out
}

func equalReplies(a, b []flatReply) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReaderDecodesPayloads(t *testing.T) {
	var r wire.Reader
	r.Feed(stream())
	next := func() wire.Reply {
		t.Helper()
		rep, ok, err := r.Next()
		if !ok || err != nil {
			t.Fatalf("Next: ok=%v err=%v", ok, err)
		}
		return rep
	}
	if rep := next(); rep.Code != wire.CodeOK || !bytes.Equal(rep.Data, []byte{0}) {
		t.Errorf("OK reply = %+v", rep)
	}
	if rep := next(); wire.ReplyError("GET", rep).Error() != "gibson: GET: not found" || !errors.Is(wire.ReplyError("GET", rep), wire.ErrNotFound) {
		t.Errorf("NOT_FOUND maps to %v", wire.ReplyError("GET", rep))
	}
	if rep := next(); string(rep.Data) != "bar" || rep.Encoding != wire.EncPlain {
		t.Errorf("VAL = %+v", rep)
	}
	if n, err := next().Int(); n != -1 || err != nil {
		t.Errorf("8-byte number = %d, %v; want -1", n, err)
	}
	if n, err := next().Int(); n != -2 || err != nil {
		t.Errorf("4-byte number = %d, %v; want -2", n, err)
	}
	rep := next()
	if rep.Len() != 3 {
		t.Fatalf("KVAL Len = %d", rep.Len())
	}
	it := rep.Entries()
	var got []string
	for k, enc, v, ok := it.Next(); ok; k, enc, v, ok = it.Next() {
		text, err := wire.AppendValue(nil, enc, v)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(k)+"="+string(text))
	}
	if want := []string{"ka=x", "kb=5", "="}; !equalStrings(got, want) {
		t.Errorf("KVAL entries = %q, want %q", got, want)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReaderRejectsMalformed(t *testing.T) {
	cases := map[string][]byte{
		"unknown code":         {8, 0, 0, 1, 0, 0, 0, 0},
		"lzf encoding":         {6, 0, 1, 1, 0, 0, 0, 'x'},
		"unknown encoding":     {6, 0, 9, 1, 0, 0, 0, 'x'},
		"number of 3 bytes":    {6, 0, 2, 3, 0, 0, 0, 1, 2, 3},
		"number on OK":         {5, 0, 2, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"kval without count":   {7, 0, 0, 2, 0, 0, 0, 1, 0},
		"kval short entry":     {7, 0, 0, 6, 0, 0, 0, 1, 0, 0, 0, 9, 0},
		"kval extra bytes":     append(kval(nil)[:3:3], append(binary.LittleEndian.AppendUint32(nil, 5), 0, 0, 0, 0, 'x')...),
		"kval lzf entry":       kval([]kvEntry{{"k", 1, []byte("v")}}),
		"kval 2-byte number":   kval([]kvEntry{{"k", 2, []byte{1, 2}}}),
		"kval count too large": kval([]kvEntry{{"k", 0, []byte("v")}})[:7+4+4+1+1+4+1],
	}
	// The last case claims 1 entry but its header says fewer bytes: rebuild its size field.
	c := cases["kval count too large"]
	binary.LittleEndian.PutUint32(c[3:7], uint32(len(c)-7))
	c[7] = 2
	for name, b := range cases {
		var r wire.Reader
		r.Feed(b)
		_, ok, err := r.Next()
		if ok || !errors.Is(err, wire.ErrProtocol) {
			t.Errorf("%s: ok=%v err=%v, want ErrProtocol", name, ok, err)
		}
		// The error is sticky: the stream cannot be trusted after it.
		r.Feed([]byte{5, 0, 0, 1, 0, 0, 0, 0})
		if _, _, err2 := r.Next(); !errors.Is(err2, wire.ErrProtocol) {
			t.Errorf("%s: after the error Next gave %v", name, err2)
		}
	}
}

func TestReaderSizeLimit(t *testing.T) {
	r := wire.Reader{MaxReplySize: 16}
	hdr := []byte{6, 0, 0, 17, 0, 0, 0}
	r.Feed(hdr) // header alone: the declared size is refused before any payload arrives
	if _, _, err := r.Next(); !errors.Is(err, wire.ErrProtocol) {
		t.Fatalf("17-byte reply with a 16-byte limit: %v", err)
	}
	// A huge declared size fails at once with the default limit and allocates nothing near it.
	var d wire.Reader
	d.Feed([]byte{6, 0, 0, 0xff, 0xff, 0xff, 0xff})
	if _, _, err := d.Next(); !errors.Is(err, wire.ErrProtocol) {
		t.Fatalf("4 GiB reply: %v", err)
	}
	ok := wire.Reader{MaxReplySize: 16}
	ok.Feed(append([]byte{6, 0, 0, 16, 0, 0, 0}, make([]byte, 16)...))
	if _, got, err := ok.Next(); !got || err != nil {
		t.Fatalf("16-byte reply with a 16-byte limit: %v %v", got, err)
	}
}

// TestReaderFill reads a stream through Fill in small reads, including a reply larger than
// the initial buffer.
func TestReaderFill(t *testing.T) {
	big := append([]byte{6, 0, 0}, binary.LittleEndian.AppendUint32(nil, 100000)...)
	big = append(big, bytes.Repeat([]byte("z"), 100000)...)
	src := io.MultiReader(bytes.NewReader(stream()), bytes.NewReader(big), bytes.NewReader(stream()))
	var r wire.Reader
	var n int
	var bigSeen bool
	for {
		for {
			rep, ok, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			n++
			if len(rep.Data) == 100000 {
				bigSeen = true
			}
		}
		if _, err := r.Fill(&oneByteAtATime{src}); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if n != 2*len(replies)+1 || !bigSeen {
		t.Fatalf("got %d replies (big seen: %v), want %d", n, bigSeen, 2*len(replies)+1)
	}
}

// oneByteAtATime hands out small chunks so Fill is exercised across reply boundaries.
type oneByteAtATime struct{ r io.Reader }

func (o *oneByteAtATime) Read(p []byte) (int, error) {
	if len(p) > 3 {
		p = p[:3]
	}
	return o.r.Read(p)
}

func TestReaderNextAllocatesNothing(t *testing.T) {
	all := stream()
	var r wire.Reader
	r.Feed(all)
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset()
		r.Feed(all)
		for {
			_, ok, err := r.Next()
			if err != nil || !ok {
				break
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("Feed+Next on a warm reader allocates %v times, want 0", allocs)
	}
}

// TestReaderFillGrowsWithArrivingBytes: a header declaring a huge reply costs what arrives,
// not what it declares, and a real big reply costs at most about twice its size.
func TestReaderFillGrowsWithArrivingBytes(t *testing.T) {
	allocated := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	liar := append([]byte{6, 0, 0}, binary.LittleEndian.AppendUint32(nil, 60<<20)...)
	liar = append(liar, bytes.Repeat([]byte("z"), 100)...)
	var r wire.Reader
	if got := allocated(func() {
		src := bytes.NewReader(liar)
		for {
			if _, err := r.Fill(src); err != nil {
				break
			}
			if _, ok, err := r.Next(); ok || err != nil {
				t.Errorf("incomplete reply returned: %v %v", ok, err)
			}
		}
	}); got > 1<<20 {
		t.Fatalf("a header declaring 60 MiB followed by 100 bytes allocated %d bytes", got)
	}

	const size = 8 << 20
	big := append([]byte{6, 0, 0}, binary.LittleEndian.AppendUint32(nil, size)...)
	big = append(big, bytes.Repeat([]byte("y"), size)...)
	var r2 wire.Reader
	var got int
	if n := allocated(func() {
		src := bytes.NewReader(big)
		for got == 0 {
			if _, err := r2.Fill(&chunked{src, 64 << 10}); err != nil {
				t.Fatal(err)
			}
			if rep, ok, err := r2.Next(); err != nil {
				t.Fatal(err)
			} else if ok {
				got = len(rep.Data)
			}
		}
	}); n > 3*size {
		t.Fatalf("an %d-byte reply arriving in 64 KiB reads allocated %d bytes", size, n)
	}
	if got != size {
		t.Fatalf("reply of %d bytes, want %d", got, size)
	}
}

// chunked hands out at most n bytes per Read, like a socket.
type chunked struct {
	r io.Reader
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}
