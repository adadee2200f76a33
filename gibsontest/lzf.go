package gibsontest

// LZF as the reference server uses it (liblzf 3.6, "very fast" mode, 16-bit hash). The
// format: a control byte 000LLLLL starts a run of L+1 literal bytes; LLLooooo oooooooo is
// a back-reference of L+2 bytes at distance o+1; 111ooooo LLLLLLLL oooooooo one of L+9.
// Following liblzf's choices keeps META size of compressed items close to the reference
// (it reuses a hash table across calls, so even it is not fully reproducible).

const (
	lzfHashLog = 16
	lzfMaxLit  = 1 << 5
	lzfMaxOff  = 1 << 13
	lzfMaxRef  = (1 << 8) + (1 << 3)
)

type lzfTable [1 << lzfHashLog]int32

func lzfIdx(h uint32) uint32 {
	return ((h >> (3*8 - lzfHashLog)) - h*5) & (1<<lzfHashLog - 1)
}

// compress writes the LZF form of in into out and returns its length, or 0 when it does
// not fit in limit bytes. out needs limit+8 bytes: like liblzf, a run's control byte may
// be reserved just past the limit. htab is cleared first; positions are stored plus one.
func (htab *lzfTable) compress(in, out []byte, limit int) int {
	inLen, outLen := len(in), limit
	if inLen == 0 || outLen <= 0 || len(out) < limit+8 {
		return 0
	}
	clear(htab[:])
	ip, op, lit := 0, 1, 0 // op-lit-1 is the pending run's control byte
	hval := uint32(0)
	if inLen >= 2 {
		hval = uint32(in[0])<<8 | uint32(in[1])
	}
	for ip < inLen-2 {
		hval = hval<<8 | uint32(in[ip+2])
		slot := &htab[lzfIdx(hval)]
		ref := int(*slot) - 1
		*slot = int32(ip + 1)
		off := ip - ref - 1
		if ref > 0 && off >= 0 && off < lzfMaxOff && ip+4 < inLen &&
			in[ref] == in[ip] && in[ref+1] == in[ip+1] && in[ref+2] == in[ip+2] {
			length := 2
			maxlen := min(inLen-ip-length, lzfMaxRef)
			out[op-lit-1] = byte(lit - 1)
			if lit == 0 {
				op--
			}
			if op+3+1 >= outLen {
				return 0
			}
			if !lzfUnrolled(in, ref, ip, &length, maxlen) {
				for {
					length++
					if length >= maxlen || in[ref+length] != in[ip+length] {
						break
					}
				}
			}
			length -= 2
			ip++
			if length < 7 {
				out[op] = byte(off>>8) + byte(length<<5)
				op++
			} else {
				out[op] = byte(off>>8) + 7<<5
				out[op+1] = byte(length - 7)
				op += 2
			}
			out[op] = byte(off)
			op += 2 // the offset low byte, then room for the next run's control byte
			lit = 0
			ip += length + 1
			if ip >= inLen-2 {
				break
			}
			ip -= 2
			hval = uint32(in[ip])<<8 | uint32(in[ip+1])
			hval = hval<<8 | uint32(in[ip+2])
			htab[lzfIdx(hval)] = int32(ip + 1)
			ip++
			hval = hval<<8 | uint32(in[ip+2])
			htab[lzfIdx(hval)] = int32(ip + 1)
			ip++
			continue
		}
		if op >= outLen {
			return 0
		}
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	if op+3 > outLen {
		return 0
	}
	for ip < inLen {
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	out[op-lit-1] = byte(lit - 1)
	if lit == 0 {
		op--
	}
	if op > limit {
		return 0
	}
	return op
}

// lzfUnrolled mirrors liblzf's unrolled first 16 comparisons, which skip the maxlen check
// (so near the end of the input a match may run a little past maxlen, as in C). It
// reports whether a mismatch ended the match.
func lzfUnrolled(in []byte, ref, ip int, length *int, maxlen int) bool {
	if maxlen <= 16 {
		return false
	}
	for k := 0; k < 16; k++ {
		*length++
		if in[ref+*length] != in[ip+*length] {
			return true
		}
	}
	return false
}

// lzfDecompress appends the expansion of in to dst. It stops at the first malformed
// control byte; the server only decompresses what it compressed itself.
func lzfDecompress(dst, in []byte) []byte {
	dst, _ = lzfDecompressSome(dst, in, 0, int(^uint(0)>>1))
	return dst
}

// lzfDecompressSome expands in from position i, appending to dst until dst holds at
// least stop bytes or in ends, and returns where to go on (len(in) when done). Streamed
// replies call it repeatedly with dst holding the last lzfMaxOff bytes produced, which
// is as far back as a back-reference reaches. It returns len(in) at a malformed run.
func lzfDecompressSome(dst, in []byte, i, stop int) ([]byte, int) {
	for i < len(in) && len(dst) < stop {
		ctrl := int(in[i])
		i++
		if ctrl < 1<<5 {
			n := ctrl + 1
			if i+n > len(in) {
				return dst, len(in)
			}
			dst = append(dst, in[i:i+n]...)
			i += n
			continue
		}
		length := ctrl >> 5
		if length == 7 {
			if i >= len(in) {
				return dst, len(in)
			}
			length += int(in[i])
			i++
		}
		if i >= len(in) {
			return dst, len(in)
		}
		ref := len(dst) - (ctrl&0x1f)<<8 - int(in[i]) - 1
		i++
		if ref < 0 {
			return dst, len(in)
		}
		for k := 0; k < length+2; k++ {
			dst = append(dst, dst[ref+k])
		}
	}
	return dst, i
}
