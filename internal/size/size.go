// Package size parses byte sizes spelled as gibson.conf spells them: a whole number with an
// optional B, K, M or G suffix in either case, the suffixes being powers of 1024 ("512",
// "1K", "2m", "1G"). The CLI's size flags, client.LimitsFromConfig and the embedded
// server's config all accept exactly this spelling.
package size

import (
	"fmt"
	"strconv"
)

var units = map[byte]int64{'b': 1, 'k': 1 << 10, 'm': 1 << 20, 'g': 1 << 30}

// Parse returns the number of bytes s names. It refuses an empty string, a sign, a
// fraction, an unknown suffix and values that overflow int64, with an error that shows
// the accepted spelling.
func Parse(s string) (int64, error) {
	num, mul := s, int64(1)
	if s != "" {
		if m, ok := units[lower(s[len(s)-1])]; ok {
			num, mul = s[:len(s)-1], m
		}
	}
	n, err := strconv.ParseUint(num, 10, 63)
	if err != nil || num == "" || num[0] == '+' {
		return 0, fmt.Errorf("size %q: want a whole number of bytes with an optional B, K, M or G suffix (powers of 1024), e.g. 4096 or 2M", s)
	}
	if int64(n) > (1<<63-1)/mul {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return int64(n) * mul, nil
}

// Format spells n with the largest suffix that divides it exactly ("2M", "1536K", "100").
func Format(n int64) string {
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if n != 0 && n%u.m == 0 {
			return strconv.FormatInt(n/u.m, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}
