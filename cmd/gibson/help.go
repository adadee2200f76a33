package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// replHelp lists the REPL's own commands after the spec's.
const replHelp = `:help [command]   this list, or one command in detail
:quit, :exit      leave (Ctrl-D too)
Arguments are separated by blanks; quote with "…" (escapes \n \t \xHH \" \\) or '…'.
A command's last argument that may hold spaces takes the rest of the line.
Durations are seconds or Go durations (1m30s); a lock of -1 lasts until UNLOCK.
`

// writeHelpAll lists every command of the spec with its usage and summary.
func writeHelpAll(w io.Writer) {
	width := 0
	for _, c := range generated.Table {
		width = max(width, len(c.Usage))
	}
	for _, c := range generated.Table {
		fmt.Fprintf(w, "%-*s  %s\n", width, c.Usage, c.Summary)
	}
	fmt.Fprint(w, "\n"+replHelp)
}

// writeHelpOne describes one command: usage, summary, arguments with kinds, errors.
func writeHelpOne(w io.Writer, verb string) error {
	cmd, err := lookup(verb)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\n  %s\n", cmd.Usage, cmd.Summary)
	if len(cmd.Args) > 0 {
		fmt.Fprintln(w, "arguments:")
		for _, a := range cmd.Args {
			notes := []string{a.Kind.String() + ": " + kindHelp[a.Kind]}
			if a.Optional {
				notes = append(notes, "optional")
			}
			if a.Spaces {
				notes = append(notes, "may contain spaces, takes the rest of the line")
			}
			fmt.Fprintf(w, "  %-8s %s\n", a.Name, strings.Join(notes, ", "))
			if a.Kind == wire.ArgField {
				for _, v := range cmd.Variants {
					fmt.Fprintf(w, "    %-10s %s\n", v.Field, v.Summary)
				}
			}
		}
	}
	fmt.Fprintf(w, "reply: %s, printed as %s\n", cmd.Reply, replyHelp[cmd.Reply])
	if len(cmd.Errors) > 0 {
		names := make([]string, len(cmd.Errors))
		for i, e := range cmd.Errors {
			names[i] = e.Msg
		}
		fmt.Fprintf(w, "errors: %s\n", strings.Join(names, "; "))
	}
	if f := flagNames(cmd.Flags); f != "" {
		fmt.Fprintf(w, "flags: %s\n", f)
	}
	return nil
}

// kindHelp says how to type an argument of each kind.
var kindHelp = map[wire.ArgKind]string{
	wire.ArgKey:         "no spaces, shorter than the server's max_key_size",
	wire.ArgPrefix:      "the start of keys, no spaces",
	wire.ArgValue:       "any bytes, not empty",
	wire.ArgTTL:         "seconds or a duration (1m30s), 0 = no expiry",
	wire.ArgSeconds:     "seconds or a duration (1m30s), 0 = no expiry",
	wire.ArgLockSeconds: "seconds or a duration, -1 = until UNLOCK",
	wire.ArgLimit:       "a whole number, 0 = all",
	wire.ArgField:       "one of",
}

// replyHelp says how each reply kind is printed (text mode).
var replyHelp = map[wire.ReplyKind]string{
	wire.ReplyStored:  "OK",
	wire.ReplyValue:   `"value", or (nil) when the key does not exist`,
	wire.ReplyFound:   "(true), or (false) when the key does not exist",
	wire.ReplyStatus:  "OK",
	wire.ReplyNumber:  "(integer) n, or (nil) when the key does not exist",
	wire.ReplyCount:   "(integer) n, 0 when nothing matched",
	wire.ReplyKVList:  "numbered key/value pairs, or (empty list)",
	wire.ReplyKeyList: "numbered keys, or (empty list)",
	wire.ReplyStats:   "a table of names and values",
}

func flagNames(f wire.Flags) string {
	var names []string
	for _, n := range []struct {
		f    wire.Flags
		name string
	}{{wire.FlagReadOnly, "read-only"}, {wire.FlagIdempotent, "idempotent"}, {wire.FlagPrefix, "acts on a prefix"}, {wire.FlagCloses, "closes the connection"}} {
		if f&n.f != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, ", ")
}
