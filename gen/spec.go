// Package gen is the gibsongen generator as a library: it loads commands.yaml strictly,
// validates it, and emits the generated package with jennifer.
package gen

//go:generate go run ../cmd/gibsongen -spec ../commands.yaml -out ../generated -client ../client

import (
	"github.com/gogibson/gogibson/internal/spec"
	"github.com/gogibson/gogibson/wire"
)

// Spec is a loaded commands.yaml.
type Spec struct {
	File     string // file name used in error messages
	Commands []*Command
	Stats    []*Stat
}

// Command is one opcode.
type Command struct {
	Line       int
	Name       string
	Verb       string
	Opcode     int
	Summary    string
	Doc        string
	Args       []*Arg
	Params     []string
	ParamsLine int
	Reply      wire.ReplyKind
	Errors     []string
	ReadOnly   bool
	Idempotent bool
	Prefix     bool
	Closes     bool
	Variants   []*Variant
	// Route and Merge say how a client sharding keys over several servers runs the command;
	// RouteLine is the line of the route field (0 when left to its default).
	Route     spec.Route
	Merge     spec.Merge
	RouteLine int
}

// Arg is one wire argument.
type Arg struct {
	Line     int
	Name     string
	Kind     wire.ArgKind
	Optional bool
	Spaces   bool
}

// Variant is a typed method for one value of a field argument (META's fields).
type Variant struct {
	Line    int
	Name    string
	Field   string
	Summary string
}

// Stat is one STATS entry.
type Stat struct {
	Line int
	Name string
	Type string // int64 or string
	Doc  string
	// Merge is how the entries of several servers combine (default first).
	Merge spec.StatMerge
}

// argKinds maps the spec's kind names to wire kinds.
var argKinds = map[string]wire.ArgKind{}

// replyKinds maps the spec's reply names to wire kinds.
var replyKinds = map[string]wire.ReplyKind{}

func init() {
	for k := wire.ArgKey; k <= wire.ArgField; k++ {
		argKinds[k.String()] = k
	}
	for k := wire.ReplyStored; k <= wire.ReplyStats; k++ {
		replyKinds[k.String()] = k
	}
	for r := spec.RouteKey; r <= spec.RouteNone; r++ {
		routeKinds[r.String()] = r
	}
	for m := spec.MergeSum; m <= spec.MergeStats; m++ {
		mergeKinds[m.String()] = m
	}
	for m := spec.StatSum; m <= spec.StatFirst; m++ {
		statMergeKinds[m.String()] = m
	}
}

// routeKinds, mergeKinds and statMergeKinds map the spec's route and merge names to wire kinds.
var (
	routeKinds     = map[string]spec.Route{}
	mergeKinds     = map[string]spec.Merge{}
	statMergeKinds = map[string]spec.StatMerge{}
)

// errorNames maps the spec's error names to the wire sentinels' Go names.
var errorNames = map[string]string{
	"not_found": "ErrNotFound",
	"nan":       "ErrNaN",
	"mem":       "ErrMemoryLimit",
	"locked":    "ErrLocked",
	"server":    "ErrServer",
}

// statTypes are the Go types a stats entry may have.
var statTypes = map[string]bool{"int64": true, "string": true}

// Methods returns the Go methods c yields: one per variant, or c itself.
func (c *Command) Methods() []Method {
	if len(c.Variants) == 0 {
		return []Method{{Name: c.Name, Summary: c.Summary, Cmd: c}}
	}
	ms := make([]Method, len(c.Variants))
	for i, v := range c.Variants {
		ms[i] = Method{Name: v.Name, Summary: v.Summary, Field: v.Field, Cmd: c}
	}
	return ms
}

// Method is one generated typed method.
type Method struct {
	Name    string
	Summary string
	Field   string // the fixed field value for variants
	Cmd     *Command
}

// GoParams returns c's arguments in Go parameter order, without field arguments.
func (c *Command) GoParams() []*Arg {
	var out []*Arg
	if len(c.Params) == 0 {
		for _, a := range c.Args {
			if a.Kind != wire.ArgField {
				out = append(out, a)
			}
		}
		return out
	}
	for _, p := range c.Params {
		for _, a := range c.Args {
			if a.Name == p {
				out = append(out, a)
			}
		}
	}
	return out
}
