package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// request is one parsed command: the spec entry and the wire arguments in wire order.
type request struct {
	cmd  *generated.Command
	args [][]byte
}

// lookup finds a command by verb, ignoring case.
func lookup(verb string) (*generated.Command, error) {
	cmd := generated.ByVerb(verb)
	if cmd == nil {
		return nil, fmt.Errorf("gibson: unknown command %q; :help lists the commands", verb)
	}
	return cmd, nil
}

// parseWords builds a request from argv-style words (one-shot mode). Extra words after the
// last argument are joined with spaces when that argument may contain spaces. fromStdin,
// when set (-x), is the last argument, taken byte for byte; the words then give the others.
func parseWords(lim wire.Limits, words []string, fromStdin *string) (request, error) {
	if len(words) == 0 {
		return request{}, fmt.Errorf("gibson: no command given")
	}
	cmd, err := lookup(words[0])
	if err != nil {
		return request{}, err
	}
	words = words[1:]
	n := len(cmd.Args)
	if fromStdin != nil {
		if n == 0 || len(words) >= n {
			return request{}, wire.Errorf(wire.ErrInvalidArgument, cmd.Verb, "-x reads the last argument from stdin, so give the %d before it; usage: %s", max(n-1, 0), cliUsageLine(cmd))
		}
		return buildRequest(lim, cmd, append(words[:len(words):len(words)], *fromStdin))
	}
	if n > 0 && cmd.Args[n-1].Spaces && len(words) > n {
		words = append(words[:n-1:n-1], strings.Join(words[n-1:], " "))
	}
	return buildRequest(lim, cmd, words)
}

// parseLine builds a request from a REPL or script line in Gibson's syntax with shell-like
// quoting. The last argument of a command whose last argument may contain spaces takes the
// rest of the line: unquoted when the rest is a single (possibly quoted) word, verbatim
// otherwise, so `set 0 k it's fine` works without quoting. Trailing blanks belong to such
// an argument, as they do to a quoted argument in one-shot mode, unless they follow a
// closing quote.
func parseLine(lim wire.Limits, line string) (request, error) {
	sc := scanner{s: line}
	verb, _, ok, err := sc.next()
	if err != nil {
		return request{}, err
	}
	if !ok {
		return request{}, fmt.Errorf("gibson: empty command")
	}
	cmd, err := lookup(verb)
	if err != nil {
		return request{}, err
	}
	var words []string
	for i, a := range cmd.Args {
		if a.Spaces && i == len(cmd.Args)-1 {
			rest := strings.TrimLeft(sc.s[sc.pos:], " \t")
			trimmed := strings.TrimRight(rest, " \t")
			if trimmed == "" {
				break
			}
			sc.pos = len(sc.s)
			if ws, err := splitWords(trimmed); err == nil && len(ws) == 1 {
				if last := trimmed[len(trimmed)-1]; trimmed == rest || last == '"' || last == '\'' {
					rest = ws[0]
				}
			}
			words = append(words, rest)
			break
		}
		w, _, ok, err := sc.next()
		if err != nil {
			return request{}, err
		}
		if !ok {
			break
		}
		words = append(words, w)
	}
	for {
		w, _, ok, err := sc.next()
		if err != nil {
			return request{}, err
		}
		if !ok {
			break
		}
		words = append(words, w)
	}
	return buildRequest(lim, cmd, words)
}

// buildRequest checks the number of words against the spec and parses each one by its
// argument kind with the client's own checks; key budgets count every byte sent before the key.
func buildRequest(lim wire.Limits, cmd *generated.Command, words []string) (request, error) {
	required := 0
	for _, a := range cmd.Args {
		if !a.Optional {
			required++
		}
	}
	if len(words) < required || len(words) > len(cmd.Args) {
		return request{}, wire.Errorf(wire.ErrInvalidArgument, cmd.Verb, "%s, got %d; usage: %s", argCount(cmd, required), len(words), cliUsageLine(cmd))
	}
	req := request{cmd: cmd, args: make([][]byte, 0, len(words))}
	used := 0
	for i, w := range words {
		a := cmd.Args[i]
		switch a.Kind {
		case wire.ArgField:
			f, err := fieldName(cmd, w)
			if err != nil {
				return request{}, err
			}
			w = f
		case wire.ArgLockSeconds:
			if err := checkLockTime(cmd, w); err != nil {
				return request{}, err
			}
		}
		b, err := lim.ParseArg(cmd.Verb, a.Name, a.Kind, w, used)
		if err != nil {
			return request{}, err
		}
		req.args = append(req.args, b)
		used += len(b) + 1
	}
	return req, nil
}

// fieldName maps a field argument typed in any case to the server's spelling, refusing
// names the command does not have: the server would match a prefix (l means left) or
// answer a bare error.
func fieldName(cmd *generated.Command, w string) (string, error) {
	if len(cmd.Variants) == 0 {
		return w, nil
	}
	names := make([]string, len(cmd.Variants))
	for i, v := range cmd.Variants {
		if strings.EqualFold(v.Field, w) {
			return v.Field, nil
		}
		names[i] = v.Field
	}
	return "", wire.Errorf(wire.ErrInvalidArgument, cmd.Verb, "unknown field %q; the fields are %s", w, strings.Join(names, ", "))
}

// checkLockTime explains, in the CLI's terms, lock times the server accepts but that lock
// nothing: 0 and negatives other than -1.
func checkLockTime(cmd *generated.Command, w string) error {
	d, err := parseLockText(w)
	if err != nil || d > 0 || d == wire.LockForever {
		return nil // wire.ParseArg reports text that is not a time
	}
	return wire.Errorf(wire.ErrInvalidArgument, cmd.Verb, "a lock time of %s would lock nothing (the server accepts it but does not lock); give the seconds to lock for (1 to %d, or a duration like 5m), or -1 to lock until UNLOCK", w, wire.MaxSeconds)
}

// parseLockText reads a lock time as wire.ParseArg does: whole seconds (-1 = until UNLOCK)
// or a Go duration.
func parseLockText(w string) (time.Duration, error) {
	if n, err := strconv.ParseInt(w, 10, 64); err == nil {
		if n == -1 {
			return wire.LockForever, nil
		}
		return time.Duration(max(min(n, 1<<32), -1<<32)) * time.Second, nil
	}
	return time.ParseDuration(w)
}

func argCount(cmd *generated.Command, required int) string {
	plural := func(n int) string {
		if n == 1 {
			return "1 argument"
		}
		return strconv.Itoa(n) + " arguments"
	}
	if required == len(cmd.Args) {
		return "takes " + plural(required)
	}
	return fmt.Sprintf("takes %d to %s", required, plural(len(cmd.Args)))
}

// splitWords splits a whole line into words.
func splitWords(s string) ([]string, error) {
	sc := scanner{s: s}
	var words []string
	for {
		w, _, ok, err := sc.next()
		if err != nil || !ok {
			return words, err
		}
		words = append(words, w)
	}
}

// scanner reads shell-like words: blanks separate words; "…" understands the escapes
// \n \r \t \a \b \\ \" \' \xHH; '…' is literal except for \'; a backslash outside quotes is
// literal. Quoted and unquoted parts next to each other form one word.
type scanner struct {
	s   string
	pos int
}

// next returns the next word and where it started; ok is false at the end of the line.
func (sc *scanner) next() (word string, start int, ok bool, err error) {
	for sc.pos < len(sc.s) && isBlank(sc.s[sc.pos]) {
		sc.pos++
	}
	if sc.pos >= len(sc.s) {
		return "", sc.pos, false, nil
	}
	start = sc.pos
	var b strings.Builder
	for sc.pos < len(sc.s) && !isBlank(sc.s[sc.pos]) {
		switch c := sc.s[sc.pos]; c {
		case '"':
			if err := sc.double(&b); err != nil {
				return "", start, false, err
			}
		case '\'':
			if err := sc.single(&b); err != nil {
				return "", start, false, err
			}
		default:
			b.WriteByte(c)
			sc.pos++
		}
	}
	return b.String(), start, true, nil
}

func (sc *scanner) double(b *strings.Builder) error {
	open := sc.pos
	sc.pos++
	for sc.pos < len(sc.s) {
		c := sc.s[sc.pos]
		switch {
		case c == '"':
			sc.pos++
			return nil
		case c == '\\' && sc.pos+1 < len(sc.s):
			n, err := sc.escape(b)
			if err != nil {
				return err
			}
			sc.pos += n
		default:
			b.WriteByte(c)
			sc.pos++
		}
	}
	return fmt.Errorf("gibson: unbalanced quote at column %d", open+1)
}

// escape decodes the escape at sc.pos (a backslash and at least one byte) and returns its length.
func (sc *scanner) escape(b *strings.Builder) (int, error) {
	c := sc.s[sc.pos+1]
	switch c {
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'a':
		b.WriteByte('\a')
	case 'b':
		b.WriteByte('\b')
	case 'x':
		if sc.pos+4 <= len(sc.s) {
			if v, err := strconv.ParseUint(sc.s[sc.pos+2:sc.pos+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				return 4, nil
			}
		}
		return 0, fmt.Errorf("gibson: bad escape at column %d: \\x needs two hex digits", sc.pos+1)
	default:
		// \\, \", \' and any other escaped byte stand for themselves.
		b.WriteByte(c)
	}
	return 2, nil
}

func (sc *scanner) single(b *strings.Builder) error {
	open := sc.pos
	sc.pos++
	for sc.pos < len(sc.s) {
		c := sc.s[sc.pos]
		switch {
		case c == '\'':
			sc.pos++
			return nil
		case c == '\\' && sc.pos+1 < len(sc.s) && sc.s[sc.pos+1] == '\'':
			b.WriteByte('\'')
			sc.pos += 2
		default:
			b.WriteByte(c)
			sc.pos++
		}
	}
	return fmt.Errorf("gibson: unbalanced quote at column %d", open+1)
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
