package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gogibson/gogibson/internal/decode"
	"github.com/gogibson/gogibson/wire"
)

// outputMode selects how results are printed.
type outputMode int

const (
	modeText outputMode = iota // redis-cli style: "bar", (integer) 42, (nil), OK
	modeRaw                    // bare values for pipes
	modeJSON                   // one JSON value per command
	modeCSV                    // one CSV line per command, as redis-cli --csv
)

// resultKind is what a reply means once its command's reply kind is applied.
type resultKind int

const (
	resOK    resultKind = iota // status and stored replies
	resBool                    // found replies: OK true, NOT_FOUND false
	resInt                     // number and count replies
	resNil                     // NOT_FOUND where the reply kind has no empty value
	resBytes                   // a value
	resPairs                   // MGET-like key/value lists
	resKeys                    // KEYS-like lists (the values of an index → key list)
	resStats                   // name/value pairs, numbers bare
	resErr                     // an error reply, a failed check or a broken connection
)

type pair struct {
	key []byte
	enc wire.Encoding
	val []byte
}

// result is a decoded reply, independent of the output mode.
type result struct {
	kind  resultKind
	b     bool
	n     int64
	data  []byte
	pairs []pair
	err   error
}

// failed reports whether the command failed (a not-found answer is not a failure).
func (r result) failed() bool { return r.kind == resErr }

// decodeResult applies the command's reply kind to what Conn.Do returned. Do returns error
// replies as the reply plus the mapped error; any other error (closed connection, protocol
// error, failed check) is reported as it is.
func decodeResult(req request, rep wire.Reply, err error) result {
	if err != nil {
		if kind := wire.CodeError(rep.Code); kind == nil || !errors.Is(err, kind) {
			return result{kind: resErr, err: err}
		}
	}
	verb := req.cmd.Verb
	fail := func(err error) result { return result{kind: resErr, err: err} }
	switch k := req.cmd.Reply; k {
	case wire.ReplyStatus:
		if err := decode.Status(verb, rep); err != nil {
			return fail(err)
		}
		return result{kind: resOK}
	case wire.ReplyStored:
		if err := decode.StoredAs(verb, rep, sentValue(req), "--max-value-size"); err != nil {
			return fail(err)
		}
		return result{kind: resOK}
	case wire.ReplyFound:
		b, err := decode.Found(verb, rep)
		if err != nil {
			return fail(err)
		}
		return result{kind: resBool, b: b}
	case wire.ReplyCount:
		n, err := decode.Count(verb, rep)
		if err != nil {
			return fail(err)
		}
		return result{kind: resInt, n: n}
	case wire.ReplyValue, wire.ReplyNumber:
		if rep.Code == wire.CodeNotFound {
			return result{kind: resNil} // printed as redis-cli prints a miss
		}
		if k == wire.ReplyNumber {
			n, err := decode.Number(verb, rep)
			if err != nil {
				return fail(err)
			}
			return result{kind: resInt, n: n}
		}
		v, err := decode.Value(verb, rep)
		if _, ours := err.(*wire.Error); err != nil && !ours {
			err = wire.WrapError(wire.ErrProtocol, verb, err) // a malformed number
		}
		if err != nil {
			return fail(err)
		}
		return result{kind: resBytes, data: v}
	case wire.ReplyKVList, wire.ReplyKeyList, wire.ReplyStats:
		if k == wire.ReplyStats && rep.Code == wire.CodeNotFound {
			return result{kind: resNil}
		}
		pairs, err := decode.Pairs(verb, rep)
		if err != nil {
			return fail(err)
		}
		kinds := map[wire.ReplyKind]resultKind{wire.ReplyKVList: resPairs, wire.ReplyKeyList: resKeys, wire.ReplyStats: resStats}
		res := result{kind: kinds[k]}
		for _, p := range pairs {
			res.pairs = append(res.pairs, pair{key: p.Key, enc: p.Enc, val: p.Val})
		}
		return res
	}
	return fail(wire.ReplyError(verb, rep))
}

// sentValue is the length of the request's value argument, which a stored reply echoes.
func sentValue(req request) int {
	for i, a := range req.cmd.Args {
		if a.Kind == wire.ArgValue && i < len(req.args) {
			return len(req.args[i])
		}
	}
	return 0
}

// text returns a pair's value as GET would: numbers as decimal text.
func (p pair) text() []byte {
	v, err := wire.AppendValue(nil, p.enc, p.val)
	if err != nil {
		return p.val
	}
	return v
}

// writeResult prints r in the given mode.
func writeResult(w io.Writer, mode outputMode, r result) error {
	var b bytes.Buffer
	switch mode {
	case modeRaw:
		appendRaw(&b, r)
	case modeJSON:
		appendJSON(&b, r)
		b.WriteByte('\n')
	case modeCSV:
		appendCSV(&b, r)
		b.WriteByte('\n')
	default:
		appendText(&b, r)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func appendText(b *bytes.Buffer, r result) {
	switch r.kind {
	case resOK:
		b.WriteString("OK\n")
	case resBool:
		fmt.Fprintf(b, "(%t)\n", r.b)
	case resInt:
		fmt.Fprintf(b, "(integer) %d\n", r.n)
	case resNil:
		b.WriteString("(nil)\n")
	case resBytes:
		b.WriteString(strconv.Quote(string(r.data)) + "\n")
	case resPairs, resKeys:
		if len(r.pairs) == 0 {
			b.WriteString("(empty list)\n")
			return
		}
		width := len(strconv.Itoa(len(r.pairs)))
		for i, p := range r.pairs {
			num := fmt.Sprintf("%*d) ", width, i+1)
			if r.kind == resKeys {
				b.WriteString(num + strconv.Quote(string(p.val)) + "\n")
				continue
			}
			b.WriteString(num + strconv.Quote(string(p.key)) + "\n")
			b.WriteString(strings.Repeat(" ", len(num)) + strconv.Quote(string(p.text())) + "\n")
		}
	case resStats:
		width := 0
		for _, p := range r.pairs {
			width = max(width, len(p.key))
		}
		for _, p := range r.pairs {
			fmt.Fprintf(b, "%-*s  %s\n", width, p.key, p.text())
		}
	case resErr:
		b.WriteString("(error) " + errorText(r.err) + "\n")
	}
}

func appendRaw(b *bytes.Buffer, r result) {
	switch r.kind {
	case resOK:
		b.WriteString("OK\n")
	case resBool:
		b.WriteString(strconv.FormatBool(r.b) + "\n")
	case resInt:
		b.WriteString(strconv.FormatInt(r.n, 10) + "\n")
	case resNil:
		b.WriteString("\n")
	case resBytes:
		b.Write(r.data)
		b.WriteByte('\n')
	case resPairs, resStats:
		sep := byte('\n') // key and value on lines of their own; STATS as name<TAB>value
		if r.kind == resStats {
			sep = '\t'
		}
		for _, p := range r.pairs {
			b.Write(p.key)
			b.WriteByte(sep)
			b.Write(p.text())
			b.WriteByte('\n')
		}
	case resKeys:
		for _, p := range r.pairs {
			b.Write(p.val)
			b.WriteByte('\n')
		}
	case resErr:
		b.WriteString(errorText(r.err) + "\n")
	}
}

func appendJSON(b *bytes.Buffer, r result) {
	switch r.kind {
	case resOK:
		b.WriteString(`"OK"`)
	case resBool:
		b.WriteString(strconv.FormatBool(r.b))
	case resInt:
		b.WriteString(strconv.FormatInt(r.n, 10))
	case resNil:
		b.WriteString("null")
	case resBytes:
		appendJSONBytes(b, r.data)
	case resPairs:
		b.WriteByte('[')
		for i, p := range r.pairs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"key":`)
			appendJSONBytes(b, p.key)
			b.WriteString(`,"value":`)
			appendJSONBytes(b, p.text())
			b.WriteByte('}')
		}
		b.WriteByte(']')
	case resKeys:
		b.WriteByte('[')
		for i, p := range r.pairs {
			if i > 0 {
				b.WriteByte(',')
			}
			appendJSONBytes(b, p.val)
		}
		b.WriteByte(']')
	case resStats:
		b.WriteByte('{')
		for i, p := range r.pairs {
			if i > 0 {
				b.WriteByte(',')
			}
			appendJSONBytes(b, p.key)
			b.WriteByte(':')
			if p.enc == wire.EncNumber {
				b.Write(p.text())
			} else {
				appendJSONBytes(b, p.val)
			}
		}
		b.WriteByte('}')
	case resErr:
		b.WriteString(`{"error":`)
		appendJSONString(b, errorText(r.err))
		b.WriteByte('}')
	}
}

// appendJSONBytes writes a key or value as a JSON string. Bytes that are not valid UTF-8
// become \udc80-\udcff, one escape per byte (PEP 383's "surrogateescape"): valid UTF-8 can
// never produce them, so the bytes can be recovered exactly (gibson help json).
func appendJSONBytes(b *bytes.Buffer, v []byte) {
	b.WriteByte('"')
	for i := 0; i < len(v); {
		r, n := utf8.DecodeRune(v[i:])
		if r == utf8.RuneError && n <= 1 {
			fmt.Fprintf(b, `\udc%02x`, v[i])
			i++
			continue
		}
		appendJSONRune(b, r)
		i += n
	}
	b.WriteByte('"')
}

func appendJSONString(b *bytes.Buffer, s string) { appendJSONBytes(b, []byte(s)) }

func appendJSONRune(b *bytes.Buffer, r rune) {
	switch r {
	case '"':
		b.WriteString(`\"`)
	case '\\':
		b.WriteString(`\\`)
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	case '\t':
		b.WriteString(`\t`)
	case '\u2028', '\u2029':
		fmt.Fprintf(b, `\u%04x`, r)
	default:
		if r < 0x20 {
			fmt.Fprintf(b, `\u%04x`, r)
			return
		}
		b.WriteRune(r)
	}
}

// appendCSV writes r as redis-cli --csv does: strings double-quoted with backslash escapes
// (\" \\ \n \r \t, \xHH for other bytes outside printable ASCII), numbers and booleans
// bare, a missing value as NULL, lists as one line of comma-separated items, errors as
// ERROR,"message".
func appendCSV(b *bytes.Buffer, r result) {
	switch r.kind {
	case resOK:
		b.WriteString(`"OK"`)
	case resBool:
		b.WriteString(strconv.FormatBool(r.b))
	case resInt:
		b.WriteString(strconv.FormatInt(r.n, 10))
	case resNil:
		b.WriteString("NULL")
	case resBytes:
		appendCSVString(b, r.data)
	case resPairs, resStats:
		for i, p := range r.pairs {
			if i > 0 {
				b.WriteByte(',')
			}
			appendCSVString(b, p.key)
			b.WriteByte(',')
			if r.kind == resStats && p.enc == wire.EncNumber {
				b.Write(p.text())
			} else {
				appendCSVString(b, p.text())
			}
		}
	case resKeys:
		for i, p := range r.pairs {
			if i > 0 {
				b.WriteByte(',')
			}
			appendCSVString(b, p.val)
		}
	case resErr:
		b.WriteString("ERROR,")
		appendCSVString(b, []byte(errorText(r.err)))
	}
}

func appendCSVString(b *bytes.Buffer, v []byte) {
	b.WriteByte('"')
	for _, c := range v {
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 || c > 0x7e {
				fmt.Fprintf(b, `\x%02x`, c)
				continue
			}
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// flagHints rewrite the client's advice into the CLI flag that follows it.
var flagHints = [][2]string{
	{"raise the client's max key size to match the server", "raise --max-key-size to the server's max_key_size (or pass --config with its gibson.conf)"},
	{"raise the client's max value size to match the server", "raise --max-value-size to the server's max_value_size (or pass --config with its gibson.conf)"},
	{"match the client's max request size to the server", "pass --config with the server's gibson.conf so that gibson knows its max_request_size"},
}

// errorText is how the CLI prints an error: one "gibson:" prefix however many layers
// added one, and advice naming CLI flags rather than Go options.
func errorText(err error) string {
	msg := strings.ReplaceAll(err.Error(), ": gibson: ", ": ")
	if !strings.HasPrefix(msg, "gibson: ") && !strings.HasPrefix(msg, "gibson bench: ") {
		msg = "gibson: " + msg
	}
	for _, h := range flagHints {
		msg = strings.ReplaceAll(msg, h[0], h[1])
	}
	return msg
}
