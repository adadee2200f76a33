package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// SpecError lists everything wrong with a spec, one problem a line, each naming the file,
// the line and the entry.
type SpecError struct {
	Problems []string
}

func (e *SpecError) Error() string { return strings.Join(e.Problems, "\n") }

type loader struct {
	file     string
	problems []string
}

func (l *loader) errorf(line int, entry, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if entry != "" {
		msg = entry + ": " + msg
	}
	l.problems = append(l.problems, fmt.Sprintf("%s:%d: %s", l.file, line, msg))
}

// LoadFile reads and validates the spec at path.
func LoadFile(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(filepath.Base(path), data)
}

// Parse decodes and validates a spec. Unknown fields, wrong types and every rule of
// Validate are errors; all problems are reported together in a *SpecError.
func Parse(file string, data []byte) (*Spec, error) {
	l := &loader{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return nil, &SpecError{[]string{file + ":1: the spec is empty; it needs a commands: list"}}
	}
	spec := &Spec{File: file}
	root := doc.Content[0]
	l.mapping(root, "", map[string]func(*yaml.Node){
		"commands": func(n *yaml.Node) {
			for _, item := range l.seq(n, "commands") {
				spec.Commands = append(spec.Commands, l.command(item))
			}
		},
		"stats": func(n *yaml.Node) {
			for _, item := range l.seq(n, "stats") {
				spec.Stats = append(spec.Stats, l.stat(item))
			}
		},
	}, "commands")
	if len(l.problems) == 0 {
		l.validate(spec)
	}
	if len(l.problems) > 0 {
		return nil, &SpecError{Problems: l.problems}
	}
	return spec, nil
}

// mapping walks a mapping node, calling fields[key] for each key and reporting unknown,
// duplicate and missing required keys.
func (l *loader) mapping(n *yaml.Node, entry string, fields map[string]func(*yaml.Node), required ...string) {
	if n.Kind != yaml.MappingNode {
		l.errorf(n.Line, entry, "expected a mapping, found %s", kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, ok := fields[k.Value]
		switch {
		case !ok:
			l.errorf(k.Line, entry, "unknown field %q (known: %s)", k.Value, strings.Join(keys(fields), ", "))
		case seen[k.Value]:
			l.errorf(k.Line, entry, "field %q given twice", k.Value)
		default:
			seen[k.Value] = true
			f(v)
		}
	}
	for _, r := range required {
		if !seen[r] {
			l.errorf(n.Line, entry, "missing required field %q", r)
		}
	}
}

func keys(m map[string]func(*yaml.Node)) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

func (l *loader) seq(n *yaml.Node, entry string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		l.errorf(n.Line, entry, "expected a list, found %s", kindName(n))
		return nil
	}
	return n.Content
}

func (l *loader) str(n *yaml.Node, entry, field string, dst *string) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.errorf(n.Line, entry, "%s: expected text, found %s", field, kindName(n))
		return
	}
	*dst = n.Value
}

func (l *loader) integer(n *yaml.Node, entry, field string, dst *int) {
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		l.errorf(n.Line, entry, "%s: expected a decimal integer, found %s", field, kindName(n))
		return
	}
	*dst = v
}

func (l *loader) boolean(n *yaml.Node, entry, field string, dst *bool) {
	var v bool
	if n.Kind != yaml.ScalarNode || n.Decode(&v) != nil {
		l.errorf(n.Line, entry, "%s: expected true or false, found %s", field, kindName(n))
		return
	}
	*dst = v
}

func (l *loader) strs(n *yaml.Node, entry, field string, dst *[]string) {
	for _, item := range l.seq(n, entry+": "+field) {
		var s string
		l.str(item, entry, field, &s)
		*dst = append(*dst, s)
	}
}

// entryName names a list entry in messages by its name field, or by position.
func entryName(what string, n *yaml.Node) string {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "name" {
				return fmt.Sprintf("%s %q", what, n.Content[i+1].Value)
			}
		}
	}
	return what + " (unnamed)"
}

func (l *loader) command(n *yaml.Node) *Command {
	c := &Command{Line: n.Line}
	e := entryName("command", n)
	l.mapping(n, e, map[string]func(*yaml.Node){
		"name":    func(v *yaml.Node) { l.str(v, e, "name", &c.Name) },
		"verb":    func(v *yaml.Node) { l.str(v, e, "verb", &c.Verb) },
		"opcode":  func(v *yaml.Node) { l.integer(v, e, "opcode", &c.Opcode) },
		"summary": func(v *yaml.Node) { l.str(v, e, "summary", &c.Summary) },
		"doc":     func(v *yaml.Node) { l.str(v, e, "doc", &c.Doc) },
		"args": func(v *yaml.Node) {
			for _, a := range l.seq(v, e+": args") {
				c.Args = append(c.Args, l.arg(a, e))
			}
		},
		"params": func(v *yaml.Node) { c.ParamsLine = v.Line; l.strs(v, e, "params", &c.Params) },
		"reply": func(v *yaml.Node) {
			var s string
			l.str(v, e, "reply", &s)
			if k, ok := replyKinds[s]; ok {
				c.Reply = k
			} else if s != "" {
				l.errorf(v.Line, e, "unknown reply kind %q (known: %s)", s, strings.Join(sortedKeys(replyKinds), ", "))
			}
		},
		"errors":     func(v *yaml.Node) { l.strs(v, e, "errors", &c.Errors); l.checkErrors(v, e, c.Errors) },
		"readonly":   func(v *yaml.Node) { l.boolean(v, e, "readonly", &c.ReadOnly) },
		"idempotent": func(v *yaml.Node) { l.boolean(v, e, "idempotent", &c.Idempotent) },
		"prefix":     func(v *yaml.Node) { l.boolean(v, e, "prefix", &c.Prefix) },
		"closes":     func(v *yaml.Node) { l.boolean(v, e, "closes", &c.Closes) },
		"route": func(v *yaml.Node) {
			c.RouteLine = v.Line
			enum(l, v, e, "route", routeKinds, &c.Route)
		},
		"merge": func(v *yaml.Node) { enum(l, v, e, "merge", mergeKinds, &c.Merge) },
		"variants": func(v *yaml.Node) {
			for _, item := range l.seq(v, e+": variants") {
				c.Variants = append(c.Variants, l.variant(item, e))
			}
		},
	}, "name", "verb", "opcode", "summary", "reply")
	return c
}

func (l *loader) checkErrors(n *yaml.Node, entry string, names []string) {
	for i, name := range names {
		if _, ok := errorNames[name]; !ok && i < len(n.Content) {
			l.errorf(n.Content[i].Line, entry, "unknown error %q (known: %s)", name, strings.Join(sortedKeys(errorNames), ", "))
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (l *loader) arg(n *yaml.Node, cmd string) *Arg {
	a := &Arg{Line: n.Line}
	e := cmd + ": " + entryName("arg", n)
	l.mapping(n, e, map[string]func(*yaml.Node){
		"name": func(v *yaml.Node) { l.str(v, e, "name", &a.Name) },
		"kind": func(v *yaml.Node) {
			var s string
			l.str(v, e, "kind", &s)
			if k, ok := argKinds[s]; ok {
				a.Kind = k
			} else if s != "" {
				l.errorf(v.Line, e, "unknown argument kind %q (known: %s)", s, strings.Join(sortedKeys(argKinds), ", "))
			}
		},
		"optional": func(v *yaml.Node) { l.boolean(v, e, "optional", &a.Optional) },
		"spaces":   func(v *yaml.Node) { l.boolean(v, e, "spaces", &a.Spaces) },
	}, "name", "kind")
	return a
}

func (l *loader) variant(n *yaml.Node, cmd string) *Variant {
	v := &Variant{Line: n.Line}
	e := cmd + ": " + entryName("variant", n)
	l.mapping(n, e, map[string]func(*yaml.Node){
		"name":    func(x *yaml.Node) { l.str(x, e, "name", &v.Name) },
		"field":   func(x *yaml.Node) { l.str(x, e, "field", &v.Field) },
		"summary": func(x *yaml.Node) { l.str(x, e, "summary", &v.Summary) },
	}, "name", "field", "summary")
	return v
}

func (l *loader) stat(n *yaml.Node) *Stat {
	s := &Stat{Line: n.Line}
	e := entryName("stat", n)
	l.mapping(n, e, map[string]func(*yaml.Node){
		"name":  func(x *yaml.Node) { l.str(x, e, "name", &s.Name) },
		"type":  func(x *yaml.Node) { l.str(x, e, "type", &s.Type) },
		"doc":   func(x *yaml.Node) { l.str(x, e, "doc", &s.Doc) },
		"merge": func(x *yaml.Node) { enum(l, x, e, "merge", statMergeKinds, &s.Merge) },
	}, "name", "type")
	return s
}

// enum decodes one of the names in known into dst.
func enum[K any](l *loader, n *yaml.Node, entry, field string, known map[string]K, dst *K) {
	var s string
	l.str(n, entry, field, &s)
	if k, ok := known[s]; ok {
		*dst = k
	} else if s != "" {
		l.errorf(n.Line, entry, "unknown %s %q (known: %s)", field, s, strings.Join(sortedKeys(known), ", "))
	}
}
