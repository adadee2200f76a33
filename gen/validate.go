package gen

import (
	"fmt"
	"go/token"
	"strings"
	"unicode"

	"github.com/gogibson/gogibson/internal/spec"
	"github.com/gogibson/gogibson/wire"
)

// reservedParams are names the generated method bodies use for their own variables.
var reservedParams = map[string]bool{"ctx": true, "c": true, "req": true, "rep": true, "err": true, "res": true}

// validate checks the rules that span fields and entries. Every problem names its line.
func (l *loader) validate(s *Spec) {
	if len(s.Commands) == 0 {
		l.errorf(1, "", "no commands: the spec needs at least one entry under commands:")
	}
	methods := map[string]int{}
	verbs := map[string]int{}
	opcodes := map[int]string{}
	for _, c := range s.Commands {
		e := fmt.Sprintf("command %q", c.Name)
		l.validateCommand(c, e)
		for _, m := range c.Methods() {
			if line, dup := methods[m.Name]; dup {
				l.errorf(c.Line, e, "method name %s is already used by the entry on line %d", m.Name, line)
			}
			methods[m.Name] = c.Line
		}
		if line, dup := verbs[strings.ToUpper(c.Verb)]; dup {
			l.errorf(c.Line, e, "verb %s is already used by the entry on line %d", c.Verb, line)
		}
		verbs[strings.ToUpper(c.Verb)] = c.Line
		if other, dup := opcodes[c.Opcode]; dup {
			l.errorf(c.Line, e, "opcode %d is already used by %s", c.Opcode, other)
		}
		opcodes[c.Opcode] = c.Name
		if c.Reply == wire.ReplyStats && len(s.Stats) == 0 {
			l.errorf(c.Line, e, "reply kind stats needs a stats: list in the spec")
		}
	}
	fields := map[string]int{}
	names := map[string]int{}
	for _, st := range s.Stats {
		e := fmt.Sprintf("stat %q", st.Name)
		if !isSnake(st.Name) {
			l.errorf(st.Line, e, "name must be lower_snake_case ASCII")
		}
		if !statTypes[st.Type] {
			l.errorf(st.Line, e, "type %q is not int64 or string", st.Type)
		}
		f := camel(st.Name)
		if line, dup := names[st.Name]; dup {
			l.errorf(st.Line, e, "name is already used on line %d", line)
		} else if line, dup := fields[f]; dup {
			l.errorf(st.Line, e, "Go field %s clashes with the entry on line %d", f, line)
		}
		names[st.Name] = st.Line
		fields[f] = st.Line
		switch {
		case st.Merge == 0:
			st.Merge = spec.StatFirst
		case st.Type == "string" && st.Merge != spec.StatFirst:
			l.errorf(st.Line, e, "merge %s needs numbers; a string entry can only merge by first", st.Merge)
		}
	}
}

// mergeReplies lists the reply kinds each merge kind can combine.
var mergeReplies = map[spec.Merge][]wire.ReplyKind{
	spec.MergeSum:    {wire.ReplyCount, wire.ReplyNumber},
	spec.MergeConcat: {wire.ReplyKVList, wire.ReplyKeyList},
	spec.MergeAll:    {wire.ReplyStatus},
	spec.MergeStats:  {wire.ReplyStats},
}

// validateRoute checks a command's route and merge kind, defaulting the route to key for
// commands with a key argument.
func (l *loader) validateRoute(c *Command, e string) {
	var hasKey bool
	for _, a := range c.Args {
		hasKey = hasKey || a.Kind == wire.ArgKey
	}
	line := c.RouteLine
	if line == 0 {
		line = c.Line
	}
	switch c.Route {
	case 0:
		if !hasKey {
			l.errorf(c.Line, e, "route is missing: a command without a key argument needs route: all (with a merge) or route: none")
			return
		}
		c.Route = spec.RouteKey
	case spec.RouteKey:
		if !hasKey {
			l.errorf(line, e, "route key needs an argument of kind key")
		}
	}
	switch {
	case c.Route == spec.RouteAll && c.Merge == 0:
		l.errorf(line, e, "route all needs a merge: sum, concat, all or stats")
	case c.Route != spec.RouteAll && c.Merge != 0:
		l.errorf(line, e, "merge %s is only for route all", c.Merge)
	case c.Merge != 0:
		ok := false
		for _, k := range mergeReplies[c.Merge] {
			ok = ok || k == c.Reply
		}
		if !ok {
			var names []string
			for _, k := range mergeReplies[c.Merge] {
				names = append(names, k.String())
			}
			l.errorf(line, e, "merge %s combines %s replies, not %s", c.Merge, strings.Join(names, " or "), c.Reply)
		}
	}
}

func (l *loader) validateCommand(c *Command, e string) {
	if len(c.Variants) == 0 && !isExported(c.Name) {
		l.errorf(c.Line, e, "name must be an exported Go identifier (like Get or MSet)")
	}
	if c.Verb == "" || strings.ToUpper(c.Verb) != c.Verb || strings.ContainsAny(c.Verb, " \t") {
		l.errorf(c.Line, e, "verb %q must be one upper-case word", c.Verb)
	}
	if c.Opcode < 1 || c.Opcode > 0xFFFF {
		l.errorf(c.Line, e, "opcode %d is outside 1..65535", c.Opcode)
	}
	if strings.TrimSpace(c.Summary) == "" || strings.Contains(c.Summary, "\n") {
		l.errorf(c.Line, e, "summary must be one non-empty line")
	}
	argNames := map[string]bool{}
	var field *Arg
	for i, a := range c.Args {
		ae := fmt.Sprintf("%s: arg %q", e, a.Name)
		last := i == len(c.Args)-1
		switch {
		case !token.IsIdentifier(a.Name) || !unicode.IsLower(rune(a.Name[0])):
			l.errorf(a.Line, ae, "name must be a lower-case Go identifier")
		case reservedParams[a.Name]:
			l.errorf(a.Line, ae, "name is reserved for generated code; pick another")
		case argNames[a.Name]:
			l.errorf(a.Line, ae, "name is used twice in this command")
		}
		argNames[a.Name] = true
		if a.Optional && !last {
			l.errorf(a.Line, ae, "only the last argument may be optional")
		}
		if a.Spaces && !last {
			l.errorf(a.Line, ae, "only the last argument may contain spaces: the server splits every other argument at the first space")
		}
		if a.Spaces && a.Kind != wire.ArgValue {
			l.errorf(a.Line, ae, "only value arguments may contain spaces")
		}
		if a.Optional && a.Kind != wire.ArgLimit {
			l.errorf(a.Line, ae, "only limit arguments may be optional (0 leaves them out)")
		}
		if a.Kind == wire.ArgField {
			if field != nil {
				l.errorf(a.Line, ae, "a command may have one field argument")
			}
			field = a
		}
	}
	switch {
	case field != nil && len(c.Variants) == 0:
		l.errorf(field.Line, e, "field argument %q needs variants: one typed method per field value", field.Name)
	case field == nil && len(c.Variants) > 0:
		l.errorf(c.Line, e, "variants need a field argument")
	}
	seen := map[string]bool{}
	for _, v := range c.Variants {
		ve := fmt.Sprintf("%s: variant %q", e, v.Name)
		if !isExported(v.Name) {
			l.errorf(v.Line, ve, "name must be an exported Go identifier")
		}
		if v.Field == "" || strings.ContainsAny(v.Field, " \t") || seen[v.Field] {
			l.errorf(v.Line, ve, "field %q must be one word, different from the other variants'", v.Field)
		}
		seen[v.Field] = true
	}
	l.validateRoute(c, e)
	if len(c.Params) > 0 {
		used := map[string]bool{}
		for _, p := range c.Params {
			var arg *Arg
			for _, a := range c.Args {
				if a.Name == p {
					arg = a
				}
			}
			switch {
			case arg == nil:
				l.errorf(c.ParamsLine, e, "params: %q is not one of the wire arguments", p)
			case arg.Kind == wire.ArgField:
				l.errorf(c.ParamsLine, e, "params: %q is a field argument, fixed by each variant", p)
			case used[p]:
				l.errorf(c.ParamsLine, e, "params: %q is listed twice", p)
			}
			used[p] = true
		}
		for _, a := range c.Args {
			if a.Kind != wire.ArgField && !used[a.Name] {
				l.errorf(c.ParamsLine, e, "params: wire argument %q is missing", a.Name)
			}
		}
	}
}

func isExported(s string) bool {
	return token.IsIdentifier(s) && token.IsExported(s)
}

func isSnake(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// camel turns server_version into ServerVersion.
func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
