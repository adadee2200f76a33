package gen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Write replaces the generated files in dir with files, removing generated files that are no
// longer produced. Hand-written files in dir are left alone.
func Write(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	stale, err := generatedFiles(dir)
	if err != nil {
		return err
	}
	for name := range stale {
		if _, keep := files[name]; !keep {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Diff compares files with the generated files in dir and describes every difference in a
// few lines; it returns "" when dir is up to date.
func Diff(dir string, files map[string][]byte) (string, error) {
	have, err := generatedFiles(dir)
	if err != nil {
		return "", err
	}
	var out []string
	for _, name := range sortedKeys(files) {
		old, ok := have[name]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: missing", filepath.Join(dir, name)))
		case !bytes.Equal(old, files[name]):
			out = append(out, fmt.Sprintf("%s: stale\n%s", filepath.Join(dir, name), lineDiff(old, files[name], 5)))
		}
	}
	for _, name := range sortedKeys(have) {
		if _, ok := files[name]; !ok {
			out = append(out, fmt.Sprintf("%s: no longer generated", filepath.Join(dir, name)))
		}
	}
	return strings.Join(out, "\n"), nil
}

// generatedFiles reads the .go files in dir that carry the generated header.
func generatedFiles(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return map[string][]byte{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(data, []byte("// "+Header+"\n")) {
			out[e.Name()] = data
		}
	}
	return out, nil
}

// lineDiff shows up to max differing lines of old and new, unified-diff style.
func lineDiff(old, new []byte, max int) string {
	a, b := strings.Split(string(old), "\n"), strings.Split(string(new), "\n")
	var out []string
	i, j := 0, 0
	for (i < len(a) || j < len(b)) && len(out) < 2*max {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			i++
			j++
			continue
		}
		// Resynchronise on the nearest equal line.
		ni, nj := resync(a, b, i, j)
		for ; i < ni && len(out) < 2*max; i++ {
			out = append(out, fmt.Sprintf("  -%d: %s", i+1, a[i]))
		}
		for ; j < nj && len(out) < 2*max; j++ {
			out = append(out, fmt.Sprintf("  +%d: %s", j+1, b[j]))
		}
		i, j = ni, nj
	}
	return strings.Join(out, "\n")
}

func resync(a, b []string, i, j int) (int, int) {
	for d := 1; d < len(a)+len(b); d++ {
		for x := 0; x <= d; x++ {
			ii, jj := i+x, j+d-x
			if ii <= len(a) && jj <= len(b) && (ii == len(a) && jj == len(b) || ii < len(a) && jj < len(b) && a[ii] == b[jj]) {
				return ii, jj
			}
		}
	}
	return len(a), len(b)
}
