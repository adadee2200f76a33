package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// benchPrefix starts every key gibson bench writes; each test uses
// benchPrefix+verb+":" so that no test sees another's items, and the cleanup removes
// everything under benchPrefix.
const benchPrefix = "gibson-bench:"

// workload is the requests of one test, built before the clock starts: up to
// maxDistinct argument sets with random keys from the test's own key space (one per
// request for a lock, see locksOnce), as arguments (for the client) and as frames (for
// --raw), and the keys they use.
type workload struct {
	cmd    *generated.Command
	args   [][][]byte
	frames [][]byte
	keys   []string // distinct keys, stored before the test so that reads find items
}

const maxDistinct = 1024

// locksOnce reports a command that locks one key, such as LOCK: a second lock of a
// locked key fails, so its test locks each of -n keys once and measures locking rather
// than refusals.
func locksOnce(cmd *generated.Command) bool {
	var key, lock bool
	for _, a := range cmd.Args {
		key = key || a.Kind == wire.ArgKey
		lock = lock || a.Kind == wire.ArgLockSeconds
	}
	return key && lock
}

// newWorkload builds the requests for verb from the spec: every key or prefix is a random
// gibson-bench:verb:NNNNNNNNNNNN of the keyspace (gibson-bench:verb:0 … n-1 in order
// for a lock), values are size bytes, TTLs 0, locks 1 s, a field the first variant's,
// optional arguments left out. Arguments pass the client's checks with cfg.lim.
func newWorkload(verb string, cfg benchConfig) (*workload, error) {
	cmd := generated.ByVerb(verb)
	if cmd == nil {
		return nil, fmt.Errorf("unknown test %q; the tests are %s", verb, benchTests())
	}
	rng := rand.New(rand.NewPCG(1, uint64(cmd.Op)))
	n := min(maxDistinct, cfg.keyspace, cfg.requests)
	keyOf := func(int) int { return rng.IntN(cfg.keyspace) }
	if locksOnce(cmd) {
		n, keyOf = cfg.requests, func(i int) int { return i }
	}
	w := &workload{cmd: cmd}
	value := strings.Repeat("x", cfg.size)
	seen := map[string]bool{}
	for i := range max(n, 1) {
		key := fmt.Sprintf("%s%s:%012d", benchPrefix, strings.ToLower(cmd.Verb), keyOf(i))
		var words []string
		for _, a := range cmd.Args {
			switch a.Kind {
			case wire.ArgKey, wire.ArgPrefix:
				words = append(words, key)
				if !seen[key] {
					seen[key] = true
					w.keys = append(w.keys, key)
				}
			case wire.ArgValue:
				words = append(words, value)
			case wire.ArgTTL, wire.ArgSeconds:
				words = append(words, "0")
			case wire.ArgLockSeconds:
				words = append(words, "1")
			case wire.ArgField:
				if len(cmd.Variants) > 0 {
					words = append(words, cmd.Variants[0].Field)
				}
			}
		}
		req, err := buildRequest(cfg.lim, cmd, words)
		if err != nil {
			return nil, err
		}
		w.args = append(w.args, req.args)
		w.frames = append(w.frames, wire.AppendRequest(nil, cmd.Op, req.args...))
	}
	return w, nil
}

// benchTests lists the verbs -t accepts.
func benchTests() string {
	verbs := make([]string, len(generated.Table))
	for i := range generated.Table {
		verbs[i] = strings.ToLower(generated.Table[i].Verb)
	}
	return strings.Join(verbs, ", ")
}

// populateBatch is how many SETs populate sends per batch.
const populateBatch = 256

// populate stores every key of the workload with a value of size '0' bytes (text that INC
// and MINC can count from), so that reads, locks and prefix commands find items, in
// batches. A test with no key argument (PING, STATS) stores nothing.
func populate(ctx context.Context, cl benchClient, w *workload, size int) error {
	set := generated.ByVerb("SET")
	if set == nil || len(w.keys) == 0 {
		return nil
	}
	value := []byte(strings.Repeat("0", size))
	keyAt := -1
	var template [][]byte
	for i, a := range set.Args {
		switch a.Kind {
		case wire.ArgKey:
			template, keyAt = append(template, nil), i
		case wire.ArgValue:
			template = append(template, value)
		default:
			template = append(template, []byte("0"))
		}
	}
	if keyAt < 0 {
		return nil
	}
	b := cl.Batch()
	hs := make([]*client.ReplyHandle, 0, populateBatch)
	for start := 0; start < len(w.keys); start += populateBatch {
		b.Reset()
		hs = hs[:0]
		for _, k := range w.keys[start:min(start+populateBatch, len(w.keys))] {
			args := append([][]byte(nil), template...)
			args[keyAt] = []byte(k)
			hs = append(hs, b.Do(set.Op, args...))
		}
		if err := b.Exec(ctx); err != nil {
			return err
		}
		for _, h := range hs {
			rep, err := h.Result()
			if err == nil && wire.CodeError(rep.Code) != nil {
				err = wire.CodeError(rep.Code)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// removeKeys removes every item under prefix: MUNLOCK first, since MDEL skips locked
// items. A spec without those commands leaves the items in place.
func removeKeys(ctx context.Context, call benchCall, prefix string) error {
	for _, verb := range []string{"MUNLOCK", "MDEL"} {
		cmd := generated.ByVerb(verb)
		if cmd == nil {
			return fmt.Errorf("the spec has no %s", verb)
		}
		code, err := call(ctx, cmd, [][]byte{[]byte(prefix)})
		if err != nil && code != wire.CodeNotFound {
			return err
		}
	}
	return nil
}
