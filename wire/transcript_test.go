package wire_test

import (
	"bufio"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// transcriptRow is one exchange captured from the reference server (testdata/transcripts).
type transcriptRow struct {
	Case     string
	Request  []byte
	Reply    []byte
	Complete bool // false when the capture cut a cell
}

// transcript returns the row named c of testdata/transcripts/<file>.tsv.
func transcript(t *testing.T, file, c string) transcriptRow {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "transcripts", file+".tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "\t")
		if len(cells) < 3 || cells[0] != c {
			continue
		}
		row := transcriptRow{Case: c, Complete: !strings.Contains(cells[1]+cells[2], "…")}
		if !row.Complete {
			t.Fatalf("transcript %s: row %q was cut in the capture", file, c)
		}
		row.Request = mustHex(t, cells[1])
		row.Reply = mustHex(t, cells[2])
		return row
	}
	t.Fatalf("transcript %s: no row %q", file, c)
	return transcriptRow{}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	if s == "-" {
		return nil
	}
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}
