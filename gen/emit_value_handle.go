package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// emitValueHandle emits ValueHandle, which unlike the other handles keeps its reply where the
// batch received it (valid until the batch is reset) and decodes it when read: Result copies
// the value (one allocation, as the typed method), AppendTo appends it to the caller's
// buffer (none).
func emitValueHandle(f *jen.File, methods []string) {
	h := func(field string) *jen.Statement { return jen.Id("h").Dot(field) }
	recv := jen.Id("h").Op("*").Id("ValueHandle")
	by := "BatchCommands." + methods[0]
	if len(methods) > 1 {
		by = "the BatchCommands methods " + joinOr(methods)
	}
	for _, line := range wrap(fmt.Sprintf("ValueHandle is the pending result of a batched command with a value reply, as returned by %s. It is valid until the batch is reset.", by), 95) {
		f.Comment(line)
	}
	f.Type().Id("ValueHandle").Struct(
		jen.Id("verb").String(),
		jen.Id("done").Bool(),
		jen.Id("err").Error().Comment("the reply's error code, the batch's failure, or ErrPartial"),
		jen.Id("raw").Index().Byte().Comment("the value as received, in the batch's buffers"),
		jen.Id("enc").Add(wq("Encoding")),
		jen.Id("res").Index().Byte().Comment("Result's copy, once made"),
		jen.Id("decErr").Error(),
		jen.Id("copied").Bool(),
	)
	f.Func().Params(recv).Id("deliver").Params(jen.Id("rep").Add(wq("Reply")), jen.Err().Error()).Block(
		jen.If(h("done")).Block(jen.Return()),
		h("done").Op("=").True(),
		jen.If(jen.Err().Op("!=").Nil().Op("&&").Op("!").Add(wq("IsPartial")).Call(jen.Err())).Block(h("err").Op("=").Err(), jen.Return()),
		jen.If(jen.Id("rep").Dot("Code").Op("!=").Add(wq("CodeVal"))).Block(
			h("err").Op("=").Add(wq("ReplyError")).Call(h("verb"), jen.Id("rep")),
			jen.Return(),
		),
		jen.List(h("raw"), h("enc"), h("err")).Op("=").List(jen.Id("rep").Dot("Data"), jen.Id("rep").Dot("Encoding"), jen.Err()),
	)
	f.Comment("Result returns what the typed method returns for the command's reply: the value in a")
	f.Comment("slice of its own (numbers as decimal text). Before the batch has run it returns an error")
	f.Comment("matching wire.ErrInvalidArgument, unless the command was refused when queued.")
	f.Func().Params(recv).Id("Result").Params().Params(jen.Index().Byte(), jen.Error()).Block(
		jen.If(jen.Op("!").Add(h("done"))).Block(jen.Return(jen.Nil(), jen.Id("notRun").Call(h("verb")))),
		jen.If(h("raw").Op("==").Nil().Op("&&").Add(h("err")).Op("!=").Nil()).Block(jen.Return(jen.Nil(), h("err"))),
		jen.If(jen.Op("!").Add(h("copied"))).Block(
			jen.List(h("res"), h("decErr")).Op("=").Add(wq("AppendValue")).Call(jen.Nil(), h("enc"), h("raw")),
			h("copied").Op("=").True(),
		),
		jen.If(h("decErr").Op("!=").Nil()).Block(jen.Return(jen.Nil(), h("decErr"))),
		jen.Return(h("res"), h("err")),
	)
	f.Comment("AppendTo appends the value Result returns to dst and returns the extended buffer, with")
	f.Comment("Result's error (dst unchanged when there is no value). It allocates nothing when dst has")
	f.Comment("room: pick it to read many values through one reused buffer; pick Result to keep a value.")
	f.Func().Params(recv).Id("AppendTo").Params(jen.Id("dst").Index().Byte()).Params(jen.Index().Byte(), jen.Error()).Block(
		jen.If(jen.Op("!").Add(h("done"))).Block(jen.Return(jen.Id("dst"), jen.Id("notRun").Call(h("verb")))),
		jen.If(h("raw").Op("==").Nil().Op("&&").Add(h("err")).Op("!=").Nil()).Block(jen.Return(jen.Id("dst"), h("err"))),
		jen.List(jen.Id("out"), jen.Err()).Op(":=").Add(wq("AppendValue")).Call(jen.Id("dst"), h("enc"), h("raw")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id("dst"), jen.Err())),
		jen.Return(jen.Id("out"), h("err")),
	)
}
