package main

import (
	"strings"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// replCommands are the REPL's own commands, completed like verbs; :help lists each (a
// test checks it).
var replCommands = []string{":help", ":stats", ":shards", ":quit", ":exit"}

// complete completes the word before pos: verbs (and the REPL's commands) first, verbs
// after :help, and a field argument's values (META's fields). A unique candidate is
// completed with a trailing space, several to their longest common prefix. Verbs follow
// the case of what was typed. It reports false when there is nothing to add.
func complete(line string, pos int) (string, int, bool) {
	if pos < 0 || pos > len(line) {
		return "", 0, false
	}
	start := strings.LastIndexAny(line[:pos], " \t") + 1
	word := line[start:pos]
	before := strings.Fields(line[:start])
	cands := candidates(before)
	if len(before) == 0 || (len(before) == 1 && before[0] == ":help") {
		if word != strings.ToUpper(word) || word == "" {
			for i, c := range cands {
				cands[i] = strings.ToLower(c)
			}
		}
	}
	var matches []string
	for _, c := range cands {
		if strings.HasPrefix(strings.ToLower(c), strings.ToLower(word)) {
			matches = append(matches, c)
		}
	}
	if len(matches) == 0 {
		return "", 0, false
	}
	fill := matches[0] + " "
	if len(matches) > 1 {
		fill = commonPrefix(matches)
	}
	if len(fill) <= len(word) {
		return "", 0, false
	}
	newLine := line[:start] + fill + line[pos:]
	return newLine, start + len(fill), true
}

// candidates returns what may follow the words before the cursor.
func candidates(before []string) []string {
	var out []string
	switch {
	case len(before) == 0:
		for _, c := range generated.Table {
			out = append(out, c.Verb)
		}
		return append(out, replCommands...)
	case len(before) == 1 && before[0] == ":help":
		for _, c := range generated.Table {
			out = append(out, c.Verb)
		}
		return out
	}
	cmd := generated.ByVerb(before[0])
	if cmd == nil || len(before)-1 >= len(cmd.Args) || cmd.Args[len(before)-1].Kind != wire.ArgField {
		return nil
	}
	for _, v := range cmd.Variants {
		out = append(out, v.Field)
	}
	return out
}

func commonPrefix(words []string) string {
	p := words[0]
	for _, w := range words[1:] {
		for !strings.HasPrefix(strings.ToLower(w), strings.ToLower(p)) {
			p = p[:len(p)-1]
		}
	}
	return p
}
