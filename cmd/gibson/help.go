package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// replHelp lists the REPL's own commands after the spec's.
const replHelp = `:help [command]   this list, or one command in detail (help works too)
:stats            the connection's statistics: requests and bytes sent, dials, waits, breaks
:shards           the servers of --addr a,b,c (a Ring) and their health
:quit, :exit      leave (Ctrl-D too)
Arguments are separated by blanks; quote with "…" (escapes \n \t \xHH \" \\) or '…'.
A command's last argument that may hold spaces takes the rest of the line.
Times are seconds or durations (1m30s); a lock time of -1 lasts until UNLOCK.
Sizes are checked against --max-key-size and --max-value-size before anything is sent.
`

// cliArgName is how the CLI names an argument in usage lines: lock times are seconds.
func cliArgName(a generated.Arg) string {
	if a.Kind == wire.ArgLockSeconds {
		return "seconds"
	}
	return a.Name
}

// cliUsageLine is a command's usage as a CLI user types it: "LOCK <key> <seconds>".
func cliUsageLine(cmd *generated.Command) string {
	var b strings.Builder
	b.WriteString(cmd.Verb)
	for _, a := range cmd.Args {
		if a.Optional {
			fmt.Fprintf(&b, " [%s]", cliArgName(a))
		} else {
			fmt.Fprintf(&b, " <%s>", cliArgName(a))
		}
	}
	return b.String()
}

// writeCommands lists every command of the spec with its usage and summary (gibson
// commands, and the top of :help).
func writeCommands(w io.Writer) {
	width := 0
	for i := range generated.Table {
		width = max(width, len(cliUsageLine(&generated.Table[i])))
	}
	for i := range generated.Table {
		c := &generated.Table[i]
		fmt.Fprintf(w, "%-*s  %s\n", width, cliUsageLine(c), c.Summary)
	}
}

// writeHelpAll is the REPL's :help: every command, then the REPL's own.
func writeHelpAll(w io.Writer) {
	writeCommands(w)
	fmt.Fprint(w, "\n"+replHelp)
}

// writeHelpOne describes one command for a CLI user: how to type it, what each argument
// takes, what it prints, and how it can fail.
func writeHelpOne(w io.Writer, verb string) error {
	cmd, err := lookup(verb)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\n  %s\n", cliUsageLine(cmd), cmd.Summary)
	if len(cmd.Args) > 0 {
		fmt.Fprintln(w, "arguments:")
		for _, a := range cmd.Args {
			notes := []string{kindHelp[a.Kind]}
			if a.Optional {
				notes = append(notes, "optional")
			}
			if a.Spaces {
				notes = append(notes, "may contain spaces: takes the rest of the line")
			}
			fmt.Fprintf(w, "  %-8s %s\n", cliArgName(a), strings.Join(notes, "; "))
			if a.Kind == wire.ArgField {
				for _, v := range cmd.Variants {
					fmt.Fprintf(w, "    %-10s %s\n", v.Field, v.Summary)
				}
			}
		}
	}
	fmt.Fprintf(w, "prints: %s\n", replyHelp[cmd.Reply])
	var fails []string
	for _, e := range cmd.Errors {
		if e != wire.ErrServer && e != wire.ErrNotFound {
			fails = append(fails, e.Msg)
		}
	}
	if len(fails) > 0 {
		fmt.Fprintf(w, "fails when: %s\n", strings.Join(fails, "; "))
	}
	if cmd.Flags&wire.FlagPrefix != 0 {
		fmt.Fprintln(w, "acts on every key that starts with the prefix (the key equal to it included)")
	}
	if cmd.Flags&wire.FlagCloses != 0 {
		fmt.Fprintln(w, "the server closes the connection after answering; the REPL reconnects")
	}
	return nil
}

// kindHelp says how to type an argument of each kind.
var kindHelp = map[wire.ArgKind]string{
	wire.ArgKey:         "a key: no spaces, shorter than --max-key-size",
	wire.ArgPrefix:      "the start of keys: no spaces, not empty",
	wire.ArgValue:       "any bytes, not empty, at most --max-value-size",
	wire.ArgTTL:         "seconds or a duration (1m30s), at most 32767 s; 0 = no expiry",
	wire.ArgSeconds:     "seconds or a duration (1m30s), at most 32767 s; 0 = no expiry",
	wire.ArgLockSeconds: "seconds or a duration (5m), at most 32767 s; -1 = until UNLOCK",
	wire.ArgLimit:       "a whole number; 0 = all",
	wire.ArgField:       "one of these, in any case:",
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

// versionText is gibson --version: the module version from the build information
// ("(devel)" in a source checkout, with its commit when known) and the protocol version.
func versionText() string {
	version, module, commit := "(devel)", "github.com/gogibson/gogibson", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		if bi.Main.Path != "" {
			module = bi.Main.Path
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				commit = ", commit " + s.Value[:12]
			}
		}
	}
	return fmt.Sprintf("gibson %s (%s%s), Gibson protocol %s\n", version, module, commit, protocolVersion)
}
