// Package transcript reads testdata/transcripts: the exchanges recorded against the
// reference Gibson 1.2.1 server (docs/protocol.md §10), one TSV file per section with the
// columns case, request hex, reply hex and meaning. The golden tests of wire and the replay
// tests of gibsontest both read them through this package.
package transcript

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Row is one recorded exchange.
type Row struct {
	File    string // base name of the TSV file
	Line    int    // line in that file
	Case    string // what the row exercises, as the recording names it
	Request string // request hex; "-" for no bytes
	Reply   string // reply hex; "-" for no bytes
	Meaning string // the capture's reading of the reply
}

// Complete reports whether both hex cells are byte-exact: the capture cut long cells,
// marking them with "…".
func (r Row) Complete() bool { return !strings.Contains(r.Request+r.Reply, "…") }

// Load reads every row of dir/file, skipping comment lines.
func Load(dir, file string) ([]Row, error) {
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []Row
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		cells := strings.Split(sc.Text(), "\t")
		if strings.HasPrefix(cells[0], "#") || len(cells) != 4 {
			continue
		}
		rows = append(rows, Row{File: file, Line: line, Case: cells[0], Request: cells[1], Reply: cells[2], Meaning: cells[3]})
	}
	return rows, sc.Err()
}

// Bytes decodes a hex cell; "-" (no bytes) gives nil.
func Bytes(cell string) ([]byte, error) {
	if cell == "-" {
		return nil, nil
	}
	b, err := hex.DecodeString(strings.TrimSpace(cell))
	if err != nil {
		return nil, fmt.Errorf("transcript: bad hex %.40q: %w", cell, err)
	}
	return b, nil
}
