package gen

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/gogibson/gogibson/wire"
)

// handleNames are the Go names of the batch handle types, one per reply kind.
var handleNames = map[wire.ReplyKind]string{
	wire.ReplyStored: "StoredHandle", wire.ReplyValue: "ValueHandle", wire.ReplyFound: "FoundHandle",
	wire.ReplyStatus: "StatusHandle", wire.ReplyNumber: "NumberHandle", wire.ReplyCount: "CountHandle",
	wire.ReplyKVList: "KVListHandle", wire.ReplyKeyList: "KeyListHandle", wire.ReplyStats: "StatsHandle",
}

// slabField is the BatchCommands field holding the handles of kind k.
func slabField(k wire.ReplyKind) string { return k.String() + "Handles" }

// emitBatch emits the batch surface: the Batcher and Handle interfaces, one handle type per
// reply kind the spec uses, and one queueing method per typed method on BatchCommands.
func emitBatch(f *jen.File, s *Spec) {
	f.Comment("Batcher is the executing side of a batch; client.Batch implements it. The batch methods of")
	f.Comment("BatchCommands build each request in a Request obtained from it and hand it back with Queue.")
	f.Type().Id("Batcher").Interface(
		jen.Comment("Request returns an empty request for op, owned and reused by the batch: callers fill in"),
		jen.Comment("its arguments and never Release it."),
		jen.Id("Request").Params(jen.Id("op").Add(wq("Opcode")), jen.Id("verb").String(), jen.Id("flags").Add(wq("Flags"))).Op("*").Add(wq("Request")),
		jen.Comment("Queue adds req, whose arguments are complete, with the handle its reply goes to."),
		jen.Id("Queue").Params(jen.Id("req").Op("*").Add(wq("Request")), jen.Id("h").Id("Handle")),
	)

	f.Comment("Handle is one command's pending result in a batch. Only the generated handle types")
	f.Comment("(StoredHandle, ValueHandle, …) implement it, so nothing else can be queued as one.")
	f.Type().Id("Handle").Interface(jen.Id("deliver").Params(jen.Id("rep").Add(wq("Reply")), jen.Err().Error()))

	f.Comment("Deliver completes h with its reply, or with err when err is not nil (the reply is then")
	f.Comment("ignored, except by typed handles when err matches wire.ErrPartial: they decode the reply,")
	f.Comment("what the shards that answered sent, and keep err). rep.Data must stay valid and unchanged")
	f.Comment("until the batch is reset: a ValueHandle keeps it and decodes it when read (the other")
	f.Comment("handles copy what they need at once). A handle keeps its first completion; later ones are")
	f.Comment("ignored.")
	f.Func().Id("Deliver").Params(jen.Id("h").Id("Handle"), jen.Id("rep").Add(wq("Reply")), jen.Err().Error()).Block(
		jen.Id("h").Dot("deliver").Call(jen.Id("rep"), jen.Err()),
	)

	f.Comment("notRun is the error of a handle read before its batch has run.")
	f.Func().Id("notRun").Params(jen.Id("verb").String()).Error().Block(
		jen.Return(wq("Errorf").Call(wq("ErrInvalidArgument"), jen.Id("verb"), jen.Lit("the batch has not run yet; call Exec first"))),
	)

	kinds := batchKinds(s)
	users := map[wire.ReplyKind][]string{}
	for _, c := range s.Commands {
		for _, m := range c.Methods() {
			users[c.Reply] = append(users[c.Reply], m.Name)
		}
	}
	for _, k := range kinds {
		emitHandle(f, k, users[k])
	}
	emitReplyHandle(f)
	emitSlab(f)

	fields := []jen.Code{jen.Id("b").Id("Batcher"), jen.Id("limits").Add(wq("Limits"))}
	var resets []jen.Code
	for _, k := range kinds {
		fields = append(fields, jen.Id(slabField(k)).Id("slab").Types(jen.Id(handleNames[k])))
		resets = append(resets, jen.Id("bc").Dot(slabField(k)).Dot("reset").Call())
	}
	fields = append(fields, jen.Id("rawHandles").Id("slab").Types(jen.Id("ReplyHandle")))
	resets = append(resets, jen.Id("bc").Dot("rawHandles").Dot("reset").Call())
	f.Comment("BatchCommands carries one batch method per typed method of Commands, with the same")
	f.Comment("parameters minus ctx. Each checks its arguments exactly as the typed method does, queues")
	f.Comment("the request on the Batcher and returns a handle whose Result (or Err) gives what the typed")
	f.Comment("method returns once the batch has run. An invalid argument completes the handle at once")
	f.Comment("with the typed method's error and queues nothing. Set it up with InitBatch; it is not safe")
	f.Comment("for concurrent use.")
	f.Type().Id("BatchCommands").Struct(fields...)

	f.Comment("InitBatch sets bc up to queue on b, checking arguments against limits, and empties it.")
	f.Func().Id("InitBatch").Params(jen.Id("bc").Op("*").Id("BatchCommands"), jen.Id("b").Id("Batcher"), jen.Id("limits").Add(wq("Limits"))).Block(
		jen.List(jen.Id("bc").Dot("b"), jen.Id("bc").Dot("limits")).Op("=").List(jen.Id("b"), jen.Id("limits")),
		jen.Id("ResetBatch").Call(jen.Id("bc")),
	)
	f.Comment("ResetBatch forgets every handle bc has returned: they become invalid, and their memory is")
	f.Comment("reused by the commands queued next, so a reused batch allocates no handles once warm.")
	f.Func().Id("ResetBatch").Params(jen.Id("bc").Op("*").Id("BatchCommands")).Block(resets...)

	for _, c := range s.Commands {
		for _, m := range c.Methods() {
			emitBatchMethod(f, m)
		}
	}
	emitBatchDo(f)
}

// emitReplyHandle emits the handle of a raw batched command (BatchCommands.Do): the reply
// as it came, with the error Conn.Do would return for it.
func emitReplyHandle(f *jen.File) {
	h := func(field string) *jen.Statement { return jen.Id("h").Dot(field) }
	recv := jen.Id("h").Op("*").Id("ReplyHandle")
	f.Comment("ReplyHandle is the pending result of a raw batched command, as returned by BatchCommands.Do.")
	f.Comment("It is valid until the batch is reset. It keeps the reply where the batch received it and")
	f.Comment("copies it only for Result.")
	f.Type().Id("ReplyHandle").Struct(
		jen.Id("verb").String(),
		jen.Id("done").Bool(),
		jen.Id("has").Bool().Comment("a reply came (raw holds it)"),
		jen.Id("err").Error(),
		jen.Id("raw").Add(wq("Reply")).Comment("as received, in the batch's buffers"),
		jen.Id("res").Add(wq("Reply")).Comment("Result's copy, once made"),
		jen.Id("copied").Bool(),
	)
	f.Func().Params(recv).Id("deliver").Params(jen.Id("rep").Add(wq("Reply")), jen.Err().Error()).Block(
		jen.If(h("done")).Block(jen.Return()),
		h("done").Op("=").True(),
		jen.If(jen.Err().Op("!=").Nil()).Block(h("err").Op("=").Err(), jen.Return()),
		jen.List(h("raw"), h("has")).Op("=").List(jen.Id("rep"), jen.True()),
		jen.If(wq("CodeError").Call(jen.Id("rep").Dot("Code")).Op("!=").Nil()).Block(
			h("err").Op("=").Add(wq("ReplyError")).Call(h("verb"), jen.Id("rep")),
		),
	)
	f.Comment("Result returns the reply, its Data a copy owned by the caller, and for an error reply code")
	f.Comment("the matching error, exactly as client.Conn.Do does; if the batch could not run, the zero")
	f.Comment("reply and its error. Before the batch has run it returns an error matching")
	f.Comment("wire.ErrInvalidArgument, unless the command was refused when queued.")
	f.Func().Params(recv).Id("Result").Params().Params(wq("Reply"), jen.Error()).Block(
		jen.If(jen.Op("!").Add(h("done"))).Block(jen.Return(wq("Reply").Values(), jen.Id("notRun").Call(h("verb")))),
		jen.If(jen.Op("!").Add(h("has"))).Block(jen.Return(wq("Reply").Values(), h("err"))),
		jen.If(jen.Op("!").Add(h("copied"))).Block(
			h("res").Op("=").Add(wq("Reply")).Values(jen.Dict{
				jen.Id("Code"):     h("raw").Dot("Code"),
				jen.Id("Encoding"): h("raw").Dot("Encoding"),
				jen.Id("Data"):     jen.Qual("bytes", "Clone").Call(h("raw").Dot("Data")),
			}),
			h("copied").Op("=").True(),
		),
		jen.Return(h("res"), h("err")),
	)
	f.Comment("AppendWire appends the reply as the server sent it (header and data, as wire.AppendReply")
	f.Comment("writes it) to dst, with no copy of its own; error codes are replies too, so the error is")
	f.Comment("nil whenever a reply came. Without one (the batch could not run, or has not run), dst is")
	f.Comment("returned unchanged with the error. A proxy forwards replies with it.")
	f.Func().Params(recv).Id("AppendWire").Params(jen.Id("dst").Index().Byte()).Params(jen.Index().Byte(), jen.Error()).Block(
		jen.If(jen.Op("!").Add(h("done"))).Block(jen.Return(jen.Id("dst"), jen.Id("notRun").Call(h("verb")))),
		jen.If(jen.Op("!").Add(h("has"))).Block(jen.Return(jen.Id("dst"), h("err"))),
		jen.Return(wq("AppendReply").Call(jen.Id("dst"), h("raw")), jen.Nil()),
	)
}

// emitBatchDo emits BatchCommands.Do, the raw batched command for callers holding an opcode
// and byte arguments (the CLI, the benchmark).
func emitBatchDo(f *jen.File) {
	fail := func(verb, err jen.Code) []jen.Code {
		return []jen.Code{
			jen.Id("res").Dot("deliver").Call(wq("Reply").Values(), wq("Errorf").Call(wq("ErrInvalidArgument"), verb, err)),
			jen.Return(jen.Id("res")),
		}
	}
	for _, line := range []string{
		"Do queues a raw request: op with args joined by spaces, exactly as given, like client.Conn.Do",
		"(no validation beyond max_request_size, so arguments must not contain spaces except in a",
		"command's last argument). Opcodes outside the spec, which the server would answer by closing",
		"the connection, and commands flagged closes (END), which would close it under the rest of",
		"the batch, are refused: the handle carries an error matching wire.ErrInvalidArgument at once",
		"and nothing is queued.",
	} {
		f.Comment(line)
	}
	f.Func().Params(jen.Id("c").Op("*").Id("BatchCommands")).Id("Do").Params(jen.Id("op").Add(wq("Opcode")), jen.Id("args").Op("...").Index().Byte()).Op("*").Id("ReplyHandle").Block(
		jen.Id("res").Op(":=").Id("c").Dot("rawHandles").Dot("get").Call(),
		jen.Id("cmd").Op(":=").Id("ByOpcode").Call(jen.Id("op")),
		jen.If(jen.Id("cmd").Op("==").Nil()).Block(
			append([]jen.Code{jen.Id("res").Dot("verb").Op("=").Id("op").Dot("String").Call()},
				fail(jen.Id("res").Dot("verb"), jen.Lit("opcode %d is not a Gibson 1.2 command; the server would close the connection").Op(",").Uint16().Call(jen.Id("op")))...)...,
		),
		jen.Id("res").Dot("verb").Op("=").Id("cmd").Dot("Verb"),
		jen.If(jen.Id("cmd").Dot("Flags").Op("&").Add(wq("FlagCloses")).Op("!=").Lit(0)).Block(
			fail(jen.Id("cmd").Dot("Verb"), jen.Lit("%s would close the connection under the rest of the batch; send it on its own").Op(",").Id("cmd").Dot("Verb"))...,
		),
		jen.Id("req").Op(":=").Id("c").Dot("b").Dot("Request").Call(jen.Id("op"), jen.Id("cmd").Dot("Verb"), jen.Id("cmd").Dot("Flags")),
		jen.For(jen.List(jen.Id("_"), jen.Id("a")).Op(":=").Range().Id("args")).Block(jen.Id("req").Dot("AppendBytes").Call(jen.Id("a"))),
		jen.Id("c").Dot("b").Dot("Queue").Call(jen.Id("req"), jen.Id("res")),
		jen.Return(jen.Id("res")),
	)
}

// batchKinds returns the reply kinds of the spec's commands, in kind order.
func batchKinds(s *Spec) []wire.ReplyKind {
	seen := map[wire.ReplyKind]bool{}
	var out []wire.ReplyKind
	for _, c := range s.Commands {
		if !seen[c.Reply] {
			seen[c.Reply] = true
			out = append(out, c.Reply)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func emitHandle(f *jen.File, k wire.ReplyKind, methods []string) {
	if k == wire.ReplyValue {
		emitValueHandle(f, methods)
		return
	}
	name := handleNames[k]
	typ, zero := result(k)
	recv := jen.Id("h").Op("*").Id(name)
	fields := []jen.Code{jen.Id("verb").String()}
	if k == wire.ReplyStored {
		fields = append(fields, jen.Id("sent").Int().Comment("length of the value sent, compared with the echo"))
	}
	fields = append(fields, jen.Id("done").Bool(), jen.Id("err").Error())
	if typ != nil {
		fields = append(fields, jen.Id("res").Add(typ))
	}
	by := "BatchCommands." + methods[0]
	if len(methods) > 1 {
		by = "the BatchCommands methods " + joinOr(methods)
	}
	for _, line := range wrap(fmt.Sprintf("%s is the pending result of a batched command with a %s reply, as returned by %s. It is valid until the batch is reset.", name, k, by), 95) {
		f.Comment(line)
	}
	f.Type().Id(name).Struct(fields...)

	decArgs := []jen.Code{jen.Id("h").Dot("verb"), jen.Id("rep")}
	if k == wire.ReplyStored {
		decArgs = append(decArgs, jen.Id("h").Dot("sent"))
	}
	dec := decoder(k).Call(decArgs...)
	var set jen.Code
	if typ == nil {
		set = jen.Id("h").Dot("err").Op("=").Add(dec)
	} else {
		set = jen.List(jen.Id("h").Dot("res"), jen.Id("h").Dot("err")).Op("=").Add(dec)
	}
	f.Func().Params(recv).Id("deliver").Params(jen.Id("rep").Add(wq("Reply")), jen.Err().Error()).Block(
		jen.If(jen.Id("h").Dot("done")).Block(jen.Return()),
		jen.Id("h").Dot("done").Op("=").True(),
		jen.If(jen.Err().Op("!=").Nil().Op("&&").Op("!").Add(wq("IsPartial")).Call(jen.Err())).Block(jen.Id("h").Dot("err").Op("=").Err(), jen.Return()),
		set,
		jen.If(jen.Id("h").Dot("err").Op("==").Nil()).Block(jen.Id("h").Dot("err").Op("=").Err()),
	)

	if typ == nil {
		f.Comment("Err returns the command's error, nil on success: what the typed method returns. Before the")
		f.Comment("batch has run it returns an error matching wire.ErrInvalidArgument, unless the command")
		f.Comment("was refused when queued.")
		f.Func().Params(recv).Id("Err").Params().Error().Block(
			jen.If(jen.Op("!").Id("h").Dot("done")).Block(jen.Return(jen.Id("notRun").Call(jen.Id("h").Dot("verb")))),
			jen.Return(jen.Id("h").Dot("err")),
		)
		return
	}
	f.Comment("Result returns what the typed method returns for the command's reply. Before the batch has")
	f.Comment("run it returns an error matching wire.ErrInvalidArgument, unless the command was refused")
	f.Comment("when queued.")
	f.Func().Params(recv).Id("Result").Params().Params(typ, jen.Error()).Block(
		jen.If(jen.Op("!").Id("h").Dot("done")).Block(jen.Return(zero, jen.Id("notRun").Call(jen.Id("h").Dot("verb")))),
		jen.Return(jen.Id("h").Dot("res"), jen.Id("h").Dot("err")),
	)
}

func joinOr(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// wrap breaks text into lines of at most width bytes at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// emitSlab emits the chunked handle store behind BatchCommands: handles keep their address
// while a batch grows, and chunks are kept across ResetBatch.
func emitSlab(f *jen.File) {
	s := jen.Id("s")
	chunks := func() *jen.Statement { return jen.Id("s").Dot("chunks") }
	f.Comment("slab hands out handles from chunks that are kept across resets; a handle never moves.")
	f.Type().Id("slab").Types(jen.Id("T").Any()).Struct(
		jen.Id("chunks").Index().Index().Id("T"),
		jen.Id("chunk").Int().Comment("the chunk handing out handles"),
		jen.Id("next").Int().Comment("its next free handle"),
	)
	recv := jen.Id("s").Op("*").Id("slab").Types(jen.Id("T"))
	f.Func().Params(recv).Id("get").Params().Op("*").Id("T").Block(
		jen.For(s.Clone().Dot("chunk").Op("<").Len(chunks()).Op("&&").Id("s").Dot("next").Op("==").Len(chunks().Index(jen.Id("s").Dot("chunk")))).Block(
			jen.Id("s").Dot("chunk").Op("++"),
			jen.Id("s").Dot("next").Op("=").Lit(0),
		),
		jen.If(jen.Id("s").Dot("chunk").Op("==").Len(chunks())).Block(
			jen.Id("size").Op(":=").Lit(8),
			jen.If(jen.Id("n").Op(":=").Len(chunks()), jen.Id("n").Op(">").Lit(0)).Block(
				jen.Id("size").Op("=").Min(jen.Lit(2).Op("*").Len(chunks().Index(jen.Id("n").Op("-").Lit(1))), jen.Lit(1024)),
			),
			chunks().Op("=").Append(chunks(), jen.Make(jen.Index().Id("T"), jen.Id("size"))),
		),
		jen.Id("h").Op(":=").Op("&").Add(chunks()).Index(jen.Id("s").Dot("chunk")).Index(jen.Id("s").Dot("next")),
		jen.Id("s").Dot("next").Op("++"),
		jen.Return(jen.Id("h")),
	)
	f.Comment("reset zeroes the handles in use, so they hold no results, and hands them out again.")
	f.Func().Params(recv.Clone()).Id("reset").Params().Block(
		jen.For(jen.Id("i").Op(":=").Lit(0), jen.Id("i").Op("<=").Id("s").Dot("chunk").Op("&&").Id("i").Op("<").Len(chunks()), jen.Id("i").Op("++")).Block(
			jen.Clear(chunks().Index(jen.Id("i"))),
		),
		jen.List(jen.Id("s").Dot("chunk"), jen.Id("s").Dot("next")).Op("=").List(jen.Lit(0), jen.Lit(0)),
	)
}

func emitBatchMethod(f *jen.File, m Method) {
	c := m.Cmd
	name := handleNames[c.Reply]
	params := []jen.Code{}
	for _, a := range c.GoParams() {
		params = append(params, jen.Id(a.Name).Add(goType(a.Kind)))
	}
	// fail completes the handle with err and returns it, queueing nothing.
	fail := func(err jen.Code) []jen.Code {
		return []jen.Code{jen.Id("res").Dot("deliver").Call(wq("Reply").Values(), err), jen.Return(jen.Id("res"))}
	}
	body := []jen.Code{jen.Id("res").Op(":=").Id("c").Dot(slabField(c.Reply)).Dot("get").Call(), jen.Id("res").Dot("verb").Op("=").Lit(c.Verb)}

	doc := methodDoc(m)
	doc[0] = strings.Replace(doc[0], m.Name+" runs ", m.Name+" queues ", 1)
	if c.Closes {
		// The spec's closes flag, not the command's name, decides: the server closes the
		// connection after the reply, so every command queued after it would fail.
		msg := fmt.Sprintf("%s would close the connection under the rest of the batch; call %s on its own", c.Verb, m.Name)
		body = append(body, fail(wq("Errorf").Call(wq("ErrInvalidArgument"), jen.Lit(c.Verb), jen.Lit(msg)))...)
		doc = wrap(fmt.Sprintf("%s is refused in a batch: the server closes the connection after %s, under the commands queued after it. The handle carries an error matching wire.ErrInvalidArgument at once and nothing is queued; call Commands.%s on its own.", m.Name, c.Verb, m.Name), 95)
	} else {
		checks, encode := argChecks(m, jen.Id("c").Dot("limits"), fail)
		body = append(body, checks...)
		body = append(body, jen.Id("req").Op(":=").Id("c").Dot("b").Dot("Request").Call(jen.Id(opName(c)), jen.Lit(c.Verb), flagsExpr(c)))
		body = append(body, encode...)
		if c.Reply == wire.ReplyStored {
			body = append(body, jen.Id("res").Dot("sent").Op("=").Len(jen.Id(storedArg(c))))
		}
		body = append(body, jen.Id("c").Dot("b").Dot("Queue").Call(jen.Id("req"), jen.Id("res")), jen.Return(jen.Id("res")))
		doc = append(doc, "", fmt.Sprintf("Its handle gives what Commands.%s returns; an invalid argument completes it at once", m.Name),
			"and queues nothing.")
	}
	for _, line := range doc {
		f.Comment(line)
	}
	f.Func().Params(jen.Id("c").Op("*").Id("BatchCommands")).Id(m.Name).Params(params...).Op("*").Id(name).Block(body...)
}

// argChecks returns the argument checks of m in wire order, each failing with fail(err),
// and the statements that append its arguments to req. limits is the wire.Limits the checks
// run against. The typed and the batch methods share it, so they check alike.
func argChecks(m Method, limits jen.Code, fail func(err jen.Code) []jen.Code) (checks, encode []jen.Code) {
	c := m.Cmd
	var used []jen.Code // length expressions of the payload before the current argument
	lim := func() *jen.Statement { return jen.Add(limits) }
	for _, a := range c.Args {
		verb, name := jen.Lit(c.Verb), jen.Lit(a.Name)
		ret := jen.If(jen.Err().Op("!=").Nil()).Block(fail(jen.Err())...)
		var length jen.Code
		switch a.Kind {
		case wire.ArgKey, wire.ArgPrefix:
			usedExpr := jen.Lit(0)
			if len(used) > 0 {
				usedExpr = jen.Add(used[0])
				for _, u := range used[1:] {
					usedExpr = usedExpr.Op("+").Add(u)
				}
			}
			checks = append(checks, jen.If(jen.Err().Op(":=").Add(lim()).Dot("CheckKey").Call(verb, name, jen.Id(a.Name), usedExpr), jen.Err().Op("!=").Nil()).Block(fail(jen.Err())...))
			encode = append(encode, jen.Id("req").Dot("AppendString").Call(jen.Id(a.Name)))
			length = jen.Len(jen.Id(a.Name)).Op("+").Lit(1)
		case wire.ArgValue:
			checks = append(checks, jen.If(jen.Err().Op(":=").Add(lim()).Dot("CheckValue").Call(verb, name, jen.Id(a.Name)), jen.Err().Op("!=").Nil()).Block(fail(jen.Err())...))
			encode = append(encode, jen.Id("req").Dot("AppendBytes").Call(jen.Id(a.Name)))
			length = jen.Len(jen.Id(a.Name)).Op("+").Lit(1)
		case wire.ArgTTL, wire.ArgSeconds, wire.ArgLockSeconds:
			conv := "CheckTTL"
			if a.Kind == wire.ArgLockSeconds {
				conv = "CheckLock"
			}
			secs := a.Name + "Secs"
			checks = append(checks, jen.List(jen.Id(secs), jen.Err()).Op(":=").Add(lim()).Dot(conv).Call(verb, name, jen.Id(a.Name)), ret)
			encode = append(encode, jen.Id("req").Dot("AppendInt").Call(jen.Id(secs)))
			length = wq("DecimalLen").Call(jen.Id(secs)).Op("+").Lit(1)
		case wire.ArgLimit:
			checks = append(checks, jen.If(jen.Err().Op(":=").Add(lim()).Dot("CheckLimit").Call(verb, name, jen.Id(a.Name)), jen.Err().Op("!=").Nil()).Block(fail(jen.Err())...))
			enc := jen.Id("req").Dot("AppendInt").Call(jen.Int64().Call(jen.Id(a.Name)))
			if a.Optional {
				enc = jen.If(jen.Id(a.Name).Op(">").Lit(0)).Block(enc)
			}
			encode = append(encode, enc)
		case wire.ArgField:
			encode = append(encode, jen.Id("req").Dot("AppendString").Call(jen.Lit(m.Field)))
			length = jen.Lit(len(m.Field) + 1)
		}
		used = append(used, length)
	}
	return checks, encode
}
