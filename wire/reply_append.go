package wire

import "encoding/binary"

// AppendReply appends rep as the server sends it (docs/protocol.md §3): the 7-byte header and
// the data. A reply without a value (codes ERR to OK) with no data is written as the server
// writes one, with a single 0x00 data byte. A proxy answers its clients with it.
func AppendReply(dst []byte, rep Reply) []byte {
	data := rep.Data
	if len(data) == 0 && rep.Code <= CodeOK {
		data = zeroByte[:]
	}
	dst = binary.LittleEndian.AppendUint16(dst, uint16(rep.Code))
	dst = append(dst, byte(rep.Encoding))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(data)))
	return append(dst, data...)
}

var zeroByte = [1]byte{0}
