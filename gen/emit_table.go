package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/gogibson/gogibson/internal/spec"
	"github.com/gogibson/gogibson/wire"
)

func emitStats(f *jen.File, s *Spec) {
	var fields []jen.Code
	var cases []jen.Code
	for _, st := range s.Stats {
		name := camel(st.Name)
		doc := st.Doc
		if doc == "" {
			doc = st.Name + "."
		}
		fields = append(fields, jen.Comment(fmt.Sprintf("%s is %s: %s", name, st.Name, doc)))
		var conv jen.Code
		if st.Type == "int64" {
			fields = append(fields, jen.Id(name).Int64())
			conv = jen.Id("s").Dot(name).Op("=").Id("statInt").Call(jen.Id("kv").Dot("Value"))
		} else {
			fields = append(fields, jen.Id(name).String())
			conv = jen.Id("s").Dot(name).Op("=").String().Call(jen.Id("kv").Dot("Value"))
		}
		cases = append(cases, jen.Case(jen.Lit(st.Name)).Block(conv))
	}
	fields = append(fields, jen.Comment("All holds every pair as received, in server order; numbers as decimal text."), jen.Id("All").Index().Add(wq("KV")))
	f.Comment("Stats is the STATS reply: one typed field per statistic of Gibson 1.2 and every pair in All.")
	f.Comment("Statistics a server does not send keep their zero value.")
	f.Type().Id("Stats").Struct(fields...)

	f.Comment("decodeStats fills Stats from a STATS reply.")
	f.Func().Id("decodeStats").Params(verbParam, repParam).Params(jen.Id("Stats"), jen.Error()).Block(
		jen.If(notCode("CodeKVal")).Block(jen.Return(jen.Id("Stats").Values(), replyErr)),
		jen.List(jen.Id("all"), jen.Err()).Op(":=").Qual(decodePkg, "KVList").Call(jen.Id("verb"), jen.Id("r")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id("Stats").Values(), jen.Err())),
		jen.Id("s").Op(":=").Id("Stats").Values(jen.Dict{jen.Id("All"): jen.Id("all")}),
		jen.For(jen.List(jen.Id("_"), jen.Id("kv")).Op(":=").Range().Id("all")).Block(
			jen.Switch(jen.Id("kv").Dot("Key")).Block(cases...),
		),
		jen.Return(jen.Id("s"), jen.Nil()),
	)
	var mcases []jen.Code
	for _, st := range s.Stats {
		if st.Merge != spec.StatFirst {
			mcases = append(mcases, jen.Case(jen.Lit(st.Name)).Block(jen.Return(jen.Qual(specPkg, statMergeNames[st.Merge]))))
		}
	}
	f.Comment("StatMergeOf returns how the STATS entry name of several servers combines into one value,")
	f.Comment("as the spec gives it; entries the spec does not list, and string entries, merge by first.")
	f.Func().Id("StatMergeOf").Params(jen.Id("name").String()).Add(jen.Qual(specPkg, "StatMerge")).Block(
		jen.Switch(jen.Id("name")).Block(mcases...),
		jen.Return(jen.Qual(specPkg, "StatFirst")),
	)
	f.Comment("statInt parses a decimal statistic; text that is not a number gives 0 (All keeps it).")
	f.Func().Id("statInt").Params(jen.Id("b").Index().Byte()).Int64().Block(
		jen.List(jen.Id("n"), jen.Id("_")).Op(":=").Qual("strconv", "ParseInt").Call(jen.String().Call(jen.Id("b")), jen.Lit(10), jen.Lit(64)),
		jen.Return(jen.Id("n")),
	)
}

var argKindNames = map[wire.ArgKind]string{
	wire.ArgKey: "ArgKey", wire.ArgPrefix: "ArgPrefix", wire.ArgValue: "ArgValue", wire.ArgTTL: "ArgTTL",
	wire.ArgSeconds: "ArgSeconds", wire.ArgLockSeconds: "ArgLockSeconds", wire.ArgLimit: "ArgLimit", wire.ArgField: "ArgField",
}

var replyKindNames = map[wire.ReplyKind]string{
	wire.ReplyStored: "ReplyStored", wire.ReplyValue: "ReplyValue", wire.ReplyFound: "ReplyFound", wire.ReplyStatus: "ReplyStatus",
	wire.ReplyNumber: "ReplyNumber", wire.ReplyCount: "ReplyCount", wire.ReplyKVList: "ReplyKVList", wire.ReplyKeyList: "ReplyKeyList",
	wire.ReplyStats: "ReplyStats",
}

var routeNames = map[spec.Route]string{spec.RouteKey: "RouteKey", spec.RouteAll: "RouteAll", spec.RouteNone: "RouteNone"}

var mergeNames = map[spec.Merge]string{spec.MergeSum: "MergeSum", spec.MergeConcat: "MergeConcat", spec.MergeAll: "MergeAll", spec.MergeStats: "MergeStats"}

var statMergeNames = map[spec.StatMerge]string{spec.StatSum: "StatSum", spec.StatMax: "StatMax", spec.StatMin: "StatMin", spec.StatFirst: "StatFirst"}

func emitTable(f *jen.File, s *Spec) {
	f.Comment("Command describes one command of the spec for table-driven code: the CLI, the embedded")
	f.Comment("server's request parser, help texts.")
	f.Type().Id("Command").Struct(
		jen.Comment("Name is the Go method name (for commands with variants, the spec entry's name)."),
		jen.Id("Name").String(),
		jen.Comment("Verb is Gibson's name for the command."),
		jen.Id("Verb").String(),
		jen.Id("Op").Add(wq("Opcode")),
		jen.Comment("Summary is one line of help."),
		jen.Id("Summary").String(),
		jen.Comment("Usage is the wire syntax, e.g. SET <ttl> <key> <value>."),
		jen.Id("Usage").String(),
		jen.Comment("Args are the arguments in wire order."),
		jen.Id("Args").Index().Id("Arg"),
		jen.Id("Reply").Add(wq("ReplyKind")),
		jen.Comment("Errors are the server errors the command can return."),
		jen.Id("Errors").Index().Op("*").Add(wq("Error")),
		jen.Id("Flags").Add(wq("Flags")),
		jen.Comment("Variants are the typed methods of a field argument (META)."),
		jen.Id("Variants").Index().Id("Variant"),
		jen.Comment("Route says where a client sharding keys over several servers sends the command."),
		jen.Id("Route").Add(jen.Qual(specPkg, "Route")),
		jen.Comment("Merge says how the replies of a command routed to every shard combine (0 otherwise)."),
		jen.Id("Merge").Add(jen.Qual(specPkg, "Merge")),
	)
	f.Comment("Arg is one argument of a Command.")
	f.Type().Id("Arg").Struct(
		jen.Id("Name").String(),
		jen.Id("Kind").Add(wq("ArgKind")),
		jen.Comment("Optional arguments may be left out (only the last)."),
		jen.Id("Optional").Bool(),
		jen.Comment("Spaces marks the last argument that may contain spaces."),
		jen.Id("Spaces").Bool(),
	)
	f.Comment("Variant is one typed method for a field value.")
	f.Type().Id("Variant").Struct(jen.Id("Name").String(), jen.Id("Field").String(), jen.Id("Summary").String())

	var rows []jen.Code
	for _, c := range s.Commands {
		var args []jen.Code
		for _, a := range c.Args {
			d := jen.Dict{jen.Id("Name"): jen.Lit(a.Name), jen.Id("Kind"): wq(argKindNames[a.Kind])}
			if a.Optional {
				d[jen.Id("Optional")] = jen.True()
			}
			if a.Spaces {
				d[jen.Id("Spaces")] = jen.True()
			}
			args = append(args, jen.Values(d))
		}
		var errs []jen.Code
		for _, e := range c.Errors {
			errs = append(errs, wq(errorNames[e]))
		}
		row := jen.Dict{
			jen.Id("Name"):    jen.Lit(c.Name),
			jen.Id("Verb"):    jen.Lit(c.Verb),
			jen.Id("Op"):      jen.Id(opName(c)),
			jen.Id("Summary"): jen.Lit(c.Summary),
			jen.Id("Usage"):   jen.Lit(usage(c, "")),
			jen.Id("Reply"):   wq(replyKindNames[c.Reply]),
			jen.Id("Flags"):   flagsExpr(c),
			jen.Id("Route"):   jen.Qual(specPkg, routeNames[c.Route]),
		}
		if c.Merge != 0 {
			row[jen.Id("Merge")] = jen.Qual(specPkg, mergeNames[c.Merge])
		}
		if len(args) > 0 {
			row[jen.Id("Args")] = jen.Index().Id("Arg").Values(args...)
		}
		if len(errs) > 0 {
			row[jen.Id("Errors")] = jen.Index().Op("*").Add(wq("Error")).Values(errs...)
		}
		if len(c.Variants) > 0 {
			var vs []jen.Code
			for _, v := range c.Variants {
				vs = append(vs, jen.Values(jen.Dict{jen.Id("Name"): jen.Lit(v.Name), jen.Id("Field"): jen.Lit(v.Field), jen.Id("Summary"): jen.Lit(v.Summary)}))
			}
			row[jen.Id("Variants")] = jen.Index().Id("Variant").Values(vs...)
		}
		rows = append(rows, jen.Values(row))
	}
	f.Comment("Table lists every command of the spec in spec order.")
	f.Var().Id("Table").Op("=").Index().Id("Command").Values(rows...)

	f.Comment("ByOpcode returns the command with opcode op, or nil.")
	f.Func().Id("ByOpcode").Params(jen.Id("op").Add(wq("Opcode"))).Op("*").Id("Command").Block(
		jen.For(jen.Id("i").Op(":=").Range().Id("Table")).Block(
			jen.If(jen.Id("Table").Index(jen.Id("i")).Dot("Op").Op("==").Id("op")).Block(jen.Return(jen.Op("&").Id("Table").Index(jen.Id("i")))),
		),
		jen.Return(jen.Nil()),
	)
	f.Comment("ByVerb returns the command named verb, ignoring case, or nil.")
	f.Func().Id("ByVerb").Params(jen.Id("verb").String()).Op("*").Id("Command").Block(
		jen.For(jen.Id("i").Op(":=").Range().Id("Table")).Block(
			jen.If(jen.Qual("strings", "EqualFold").Call(jen.Id("Table").Index(jen.Id("i")).Dot("Verb"), jen.Id("verb"))).Block(jen.Return(jen.Op("&").Id("Table").Index(jen.Id("i")))),
		),
		jen.Return(jen.Nil()),
	)
}

// Parameters and checks of the generated STATS decoder.
var (
	verbParam = jen.Id("verb").String()
	repParam  = jen.Id("r").Add(wq("Reply"))
	notCode   = func(code string) *jen.Statement { return jen.Id("r").Dot("Code").Op("!=").Add(wq(code)) }
	replyErr  = wq("ReplyError").Call(jen.Id("verb"), jen.Id("r"))
)
