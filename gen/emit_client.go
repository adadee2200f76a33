package gen

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/gogibson/gogibson/wire"
)

// ClientPackage is the name of the hand-written client package that GenerateClient adds a
// file to.
const ClientPackage = "client"

// ClientFile is the name of that file.
const ClientFile = "commands_gen.go"

const generatedPkg = "github.com/gogibson/gogibson/generated"

// clientTypes are the client types that carry the typed commands in a field named cmds (a
// generated.Commands).
var clientTypes = []struct{ name, recv, what string }{
	{"Client", "c", "on one of the Client's connections"},
	{"Conn", "c", "on this connection"},
	{"Pool", "p", "on a connection acquired from the Pool for the call"},
	{"Ring", "r", "on the key's shard, or on every live shard for a command the spec fans out"},
}

// GenerateClient renders the generated file of package client: the opcodes, and for Client,
// Conn, Pool, Ring and Batch one documented method per command, forwarding to the generated
// commands the type holds. Users then find every command in `go doc client.Client` and never
// need to import package generated.
func GenerateClient(s *Spec) (map[string][]byte, error) {
	f := jen.NewFile(ClientPackage)
	f.HeaderComment(Header)
	f.ImportName(wirePkg, "wire")
	f.ImportName(generatedPkg, "generated")

	f.Comment("Opcodes of the Gibson 1.2 commands, for Do and Batch.Do.")
	var consts []jen.Code
	for _, c := range s.Commands {
		consts = append(consts, jen.Id(opName(c)).Op("=").Qual(generatedPkg, opName(c)))
	}
	f.Const().Defs(consts...)

	for _, t := range clientTypes {
		for _, c := range s.Commands {
			for _, m := range c.Methods() {
				emitForward(f, t.name, t.recv, t.what, m)
			}
		}
	}
	for _, c := range s.Commands {
		for _, m := range c.Methods() {
			emitBatchForward(f, m)
		}
	}
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", ClientFile, err)
	}
	return map[string][]byte{ClientFile: buf.Bytes()}, nil
}

// emitForward emits typ's method m, documented as the generated one, calling it.
func emitForward(f *jen.File, typ, recv, where string, m Method) {
	params := []jen.Code{jen.Id("ctx").Qual("context", "Context")}
	args := []jen.Code{jen.Id("ctx")}
	for _, a := range m.Cmd.GoParams() {
		params = append(params, jen.Id(a.Name).Add(goType(a.Kind)))
		args = append(args, jen.Id(a.Name))
	}
	results := jen.Error()
	if typ, _ := result(m.Cmd.Reply); typ != nil {
		if m.Cmd.Reply == wire.ReplyKVList {
			typ = jen.Index().Id("KV") // client.KV: go doc client shows client's names
		}
		results = jen.Params(typ, jen.Error())
	}
	doc := methodDoc(m)
	doc[0] = strings.TrimSuffix(doc[0], ".") + ", " + where + "."
	for _, line := range doc {
		f.Comment(strings.ReplaceAll(line, "wire.Err", "Err")) // client re-exports the errors
	}
	f.Func().Params(jen.Id(recv).Op("*").Id(typ)).Id(m.Name).Params(params...).Add(results).Block(
		jen.Return(jen.Id(recv).Dot("cmds").Dot(m.Name).Call(args...)),
	)
}

// emitBatchForward emits Batch's method m, calling the generated batch method.
func emitBatchForward(f *jen.File, m Method) {
	var params, args []jen.Code
	for _, a := range m.Cmd.GoParams() {
		params = append(params, jen.Id(a.Name).Add(goType(a.Kind)))
		args = append(args, jen.Id(a.Name))
	}
	f.Comment(fmt.Sprintf("%s queues %s; see %s for the command. Its handle's result is what %s returns, once", m.Name, m.Cmd.Verb, "Client."+m.Name, "Client."+m.Name))
	if m.Cmd.Closes {
		f.Comment(fmt.Sprintf("Exec has run. %s is refused in a batch (the server closes the connection after it): the", m.Cmd.Verb))
		f.Comment("handle carries an error matching ErrInvalidArgument at once.")
	} else {
		f.Comment("Exec has run; an invalid argument completes it at once, and nothing is queued.")
	}
	f.Func().Params(jen.Id("b").Op("*").Id("Batch")).Id(m.Name).Params(params...).Op("*").Id(handleNames[m.Cmd.Reply]).Block(
		jen.Return(jen.Id("b").Dot("cmds").Dot(m.Name).Call(args...)),
	)
}
