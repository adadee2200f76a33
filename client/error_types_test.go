package client

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The package doc's promise: errors are *Error values, their kinds matched with errors.Is and
// their causes reachable through them. Dial, NewRing and LimitsFromConfig keep it too.
func TestErrorsAreErrorValues(t *testing.T) {
	ctx := context.Background()
	var e *Error
	_, err := Dial(ctx, refusingAddr(t))
	if !errors.As(err, &e) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Dial to a refusing address: %T %v; want an *Error whose cause is ECONNREFUSED", err, err)
	}
	_, err = NewRing(ctx, RingConfig{Shards: map[string]string{"x": refusingAddr(t), "y": refusingAddr(t)}})
	var se *ShardError
	if !errors.As(err, &e) || !errors.As(err, &se) || len(se.Failed) != 2 || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("NewRing with no shard up: %T %v; want an *Error around a *ShardError naming both", err, err)
	}
	_, err = LimitsFromConfig(filepath.Join(t.TempDir(), "missing.conf"))
	if !errors.As(err, &e) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LimitsFromConfig of a missing file: %T %v; want an *Error matching fs.ErrNotExist", err, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.conf")
	if err := os.WriteFile(bad, []byte("max_key_size -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err = LimitsFromConfig(bad); !errors.As(err, &e) || !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("LimitsFromConfig of a bad value: %T %v; want ErrInvalidArgument", err, err)
	}
}
