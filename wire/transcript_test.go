package wire_test

import (
	"path/filepath"
	"testing"

	"github.com/gogibson/gogibson/internal/transcript"
)

// transcriptRow is one exchange captured from the reference server, decoded.
type transcriptRow struct {
	Request []byte
	Reply   []byte
}

// transcriptCase returns the byte-exact row named c of testdata/transcripts/<file>.tsv.
func transcriptCase(t *testing.T, file, c string) transcriptRow {
	t.Helper()
	rows, err := transcript.Load(filepath.Join("..", "testdata", "transcripts"), file+".tsv")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Case != c {
			continue
		}
		if !r.Complete() {
			t.Fatalf("transcript %s: row %q was cut in the capture", file, c)
		}
		return transcriptRow{Request: mustHex(t, r.Request), Reply: mustHex(t, r.Reply)}
	}
	t.Fatalf("transcript %s: no row %q", file, c)
	return transcriptRow{}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := transcript.Bytes(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
