package gen

import (
	"sort"

	"github.com/dave/jennifer/jen"

	"github.com/gogibson/gogibson/wire"
)

func emitDecoders(f *jen.File, s *Spec) {
	kinds := map[wire.ReplyKind]bool{}
	for _, c := range s.Commands {
		kinds[c.Reply] = true
		if c.Reply == wire.ReplyStats {
			kinds[wire.ReplyKVList] = true
		}
	}
	var order []wire.ReplyKind
	for k := range kinds {
		order = append(order, k)
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	for _, k := range order {
		if k != wire.ReplyStats {
			decoderBodies[k](f)
		}
	}
}

var (
	verbParam = jen.Id("verb").String()
	repParam  = jen.Id("r").Add(wq("Reply"))
	notCode   = func(code string) *jen.Statement { return jen.Id("r").Dot("Code").Op("!=").Add(wq(code)) }
	replyErr  = wq("ReplyError").Call(jen.Id("verb"), jen.Id("r"))
)

// decoderBodies emits one decoder per reply kind.
var decoderBodies = map[wire.ReplyKind]func(*jen.File){
	wire.ReplyStored: func(f *jen.File) {
		f.Comment("decodeStored checks the echo of a stored value: a shorter echo means the server truncated it.")
		f.Func().Id("decodeStored").Params(verbParam, repParam, jen.Id("sent").Int()).Error().Block(
			jen.If(notCode("CodeVal")).Block(jen.Return(replyErr)),
			jen.If(jen.Len(jen.Id("r").Dot("Data")).Op("!=").Id("sent")).Block(
				jen.Return(wq("Errorf").Call(wq("ErrServer"), jen.Id("verb"), jen.Lit("the server stored %d of %d bytes: its max_value_size is below the client's max value size"), jen.Len(jen.Id("r").Dot("Data")), jen.Id("sent"))),
			),
			jen.Return(jen.Nil()),
		)
	},
	wire.ReplyValue: func(f *jen.File) {
		f.Comment("decodeValue copies a VAL reply; numbers become decimal text.")
		f.Func().Id("decodeValue").Params(verbParam, repParam).Params(jen.Index().Byte(), jen.Error()).Block(
			jen.If(notCode("CodeVal")).Block(jen.Return(jen.Nil(), replyErr)),
			jen.Return(wq("AppendValue").Call(jen.Nil(), jen.Id("r").Dot("Encoding"), jen.Id("r").Dot("Data"))),
		)
	},
	wire.ReplyFound: func(f *jen.File) {
		f.Comment("decodeFound maps OK to true and NOT_FOUND to false.")
		f.Func().Id("decodeFound").Params(verbParam, repParam).Params(jen.Bool(), jen.Error()).Block(
			jen.Switch(jen.Id("r").Dot("Code")).Block(
				jen.Case(wq("CodeOK")).Block(jen.Return(jen.True(), jen.Nil())),
				jen.Case(wq("CodeNotFound")).Block(jen.Return(jen.False(), jen.Nil())),
			),
			jen.Return(jen.False(), replyErr),
		)
	},
	wire.ReplyStatus: func(f *jen.File) {
		f.Comment("decodeStatus accepts OK.")
		f.Func().Id("decodeStatus").Params(verbParam, repParam).Error().Block(
			jen.If(notCode("CodeOK")).Block(jen.Return(replyErr)),
			jen.Return(jen.Nil()),
		)
	},
	wire.ReplyNumber: func(f *jen.File) {
		f.Comment("decodeNumber returns the integer of a VAL number reply.")
		f.Func().Id("decodeNumber").Params(verbParam, repParam).Params(jen.Int64(), jen.Error()).Block(
			jen.If(notCode("CodeVal").Op("||").Id("r").Dot("Encoding").Op("!=").Add(wq("EncNumber"))).Block(jen.Return(jen.Lit(0), replyErr)),
			jen.Return(wq("DecodeNumber").Call(jen.Id("r").Dot("Data"))),
		)
	},
	wire.ReplyCount: func(f *jen.File) {
		f.Comment("decodeCount returns the count of a VAL number reply, and 0 for NOT_FOUND (nothing matched).")
		f.Func().Id("decodeCount").Params(verbParam, repParam).Params(jen.Int64(), jen.Error()).Block(
			jen.If(jen.Id("r").Dot("Code").Op("==").Add(wq("CodeNotFound"))).Block(jen.Return(jen.Lit(0), jen.Nil())),
			jen.If(notCode("CodeVal").Op("||").Id("r").Dot("Encoding").Op("!=").Add(wq("EncNumber"))).Block(jen.Return(jen.Lit(0), replyErr)),
			jen.Return(wq("DecodeNumber").Call(jen.Id("r").Dot("Data"))),
		)
	},
	wire.ReplyKVList: func(f *jen.File) {
		f.Comment("decodeKVList copies a KVAL reply into pairs in server order, with all values in one")
		f.Comment("allocation and numbers as decimal text; NOT_FOUND gives an empty list.")
		f.Func().Id("decodeKVList").Params(verbParam, repParam).Params(jen.Index().Add(wq("KV")), jen.Error()).Block(
			jen.If(jen.Id("r").Dot("Code").Op("==").Add(wq("CodeNotFound"))).Block(jen.Return(jen.Index().Add(wq("KV")).Values(), jen.Nil())),
			jen.If(notCode("CodeKVal")).Block(jen.Return(jen.Nil(), replyErr)),
			jen.Id("kvs").Op(":=").Make(jen.Index().Add(wq("KV")), jen.Lit(0), jen.Id("r").Dot("Len").Call()),
			jen.Comment("Room for the keys' and values' bytes: the body less its count and the 9 bytes of"),
			jen.Comment("framing per entry (Reader.Next has checked the body; max guards replies built by hand)."),
			jen.Id("buf").Op(":=").Make(jen.Index().Byte(), jen.Lit(0), jen.Max(jen.Lit(0), jen.Len(jen.Id("r").Dot("Data")).Op("-").Lit(4).Op("-").Lit(9).Op("*").Id("r").Dot("Len").Call())),
			jen.Id("it").Op(":=").Id("r").Dot("Entries").Call(),
			jen.For(jen.List(jen.Id("k"), jen.Id("enc"), jen.Id("v"), jen.Id("ok")).Op(":=").Id("it").Dot("Next").Call(), jen.Id("ok"), jen.List(jen.Id("k"), jen.Id("enc"), jen.Id("v"), jen.Id("ok")).Op("=").Id("it").Dot("Next").Call()).Block(
				jen.Id("start").Op(":=").Len(jen.Id("buf")),
				jen.Var().Id("err").Error(),
				jen.If(jen.List(jen.Id("buf"), jen.Err()).Op("=").Add(wq("AppendValue")).Call(jen.Id("buf"), jen.Id("enc"), jen.Id("v")), jen.Err().Op("!=").Nil()).Block(
					jen.Return(jen.Nil(), wq("WrapError").Call(wq("ErrProtocol"), jen.Id("verb"), jen.Err())),
				),
				jen.Id("kvs").Op("=").Append(jen.Id("kvs"), wq("KV").Values(jen.Dict{
					jen.Id("Key"):   jen.String().Call(jen.Id("k")),
					jen.Id("Value"): jen.Id("buf").Index(jen.Id("start").Op(":").Len(jen.Id("buf")).Op(":").Len(jen.Id("buf"))),
				})),
			),
			jen.Return(jen.Id("kvs"), jen.Nil()),
		)
	},
	wire.ReplyKeyList: func(f *jen.File) {
		f.Comment("decodeKeyList returns the values of a KEYS reply (its keys are indexes) in server")
		f.Comment("order; NOT_FOUND gives an empty list.")
		f.Func().Id("decodeKeyList").Params(verbParam, repParam).Params(jen.Index().String(), jen.Error()).Block(
			jen.If(jen.Id("r").Dot("Code").Op("==").Add(wq("CodeNotFound"))).Block(jen.Return(jen.Index().String().Values(), jen.Nil())),
			jen.If(notCode("CodeKVal")).Block(jen.Return(jen.Nil(), replyErr)),
			jen.Id("keys").Op(":=").Make(jen.Index().String(), jen.Lit(0), jen.Id("r").Dot("Len").Call()),
			jen.Id("it").Op(":=").Id("r").Dot("Entries").Call(),
			jen.For(jen.List(jen.Id("_"), jen.Id("_"), jen.Id("v"), jen.Id("ok")).Op(":=").Id("it").Dot("Next").Call(), jen.Id("ok"), jen.List(jen.Id("_"), jen.Id("_"), jen.Id("v"), jen.Id("ok")).Op("=").Id("it").Dot("Next").Call()).Block(
				jen.Id("keys").Op("=").Append(jen.Id("keys"), jen.String().Call(jen.Id("v"))),
			),
			jen.Return(jen.Id("keys"), jen.Nil()),
		)
	},
}
