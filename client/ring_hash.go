package client

import "strings"

// Which part of a key is hashed to place it on a shard: its {tag} (Redis' hash tags) or,
// with RingConfig.Segment, its first segment. A prefix command goes to one shard alone when
// every key under its prefix is placed the same way.

// hashKey returns the part of key that is hashed. With no sep it is the text between the
// first '{' and the next '}' when that is not empty, otherwise the whole key. With sep, a
// key holding sep is hashed by its first segment (the text up to and including the first
// sep), or by a {tag} inside that segment; a key without sep is hashed as with no sep.
func hashKey(key, sep string) string {
	if sep != "" {
		if i := strings.Index(key, sep); i >= 0 {
			seg := key[:i+len(sep)]
			if tag, ok := wholeTag(seg); ok {
				return tag
			}
			return seg
		}
	}
	if tag, ok := wholeTag(key); ok {
		return tag
	}
	return key
}

// wholeTag returns the first non-empty {tag} of s, if s holds one whole.
func wholeTag(s string) (string, bool) {
	if b := strings.IndexByte(s, '{'); b >= 0 {
		if e := strings.IndexByte(s[b+1:], '}'); e > 0 {
			return s[b+1 : b+1+e], true
		}
	}
	return "", false
}

// prefixKey reports the hash key every key under prefix shares, when there is one: with
// sep, a prefix holding sep (every key under it has the same first segment); otherwise, or
// for a prefix without sep, a prefix holding a whole non-empty {tag} (any key under it, with
// or without a later sep, is hashed by that tag).
func prefixKey(prefix, sep string) (string, bool) {
	if sep != "" && strings.Contains(prefix, sep) {
		return hashKey(prefix, sep), true
	}
	return wholeTag(prefix)
}
