package main

import (
	"errors"

	"github.com/gogibson/gogibson/internal/size"
)

// sizeFlag is a flag holding a byte size spelled as gibson.conf spells it (4096, 1K, 2M).
type sizeFlag struct{ n int64 }

func (f *sizeFlag) String() string { return size.Format(f.n) }

func (f *sizeFlag) Set(s string) error {
	n, err := size.Parse(s)
	if err != nil {
		return err
	}
	if n < 1 || n > 1<<31 {
		return errSizeRange
	}
	f.n = n
	return nil
}

var errSizeRange = errors.New("a size must be between 1 and 2G")
