package wire

// ArgKind is the kind of a request argument; commands.yaml names one for every argument and
// everything that differs between kinds (validation, parsing in the embedded server,
// parsing of CLI input) is keyed by it.
type ArgKind uint8

// Argument kinds.
const (
	ArgKey         ArgKind = iota + 1 // one key: non-empty, no space, within MaxKeySize
	ArgPrefix                         // a key prefix: same rules as a key
	ArgValue                          // a value: non-empty, within MaxValueSize, may contain spaces
	ArgTTL                            // SET's time to live in seconds; 0 means none
	ArgSeconds                        // a TTL for TTL/MTTL in seconds; 0 clears expiry
	ArgLockSeconds                    // a lock time in seconds, or LockForever
	ArgLimit                          // MGET's optional item limit; 0 means all
	ArgField                          // a META field name, fixed by the typed variant
)

var argKindNames = [...]string{"", "key", "prefix", "value", "ttl", "seconds", "lock", "limit", "field"}

// String returns the name commands.yaml uses for k.
func (k ArgKind) String() string {
	if int(k) < len(argKindNames) && k != 0 {
		return argKindNames[k]
	}
	return "ArgKind(?)"
}

// Numeric reports whether arguments of kind k are decimal integers on the wire.
func (k ArgKind) Numeric() bool {
	return k == ArgTTL || k == ArgSeconds || k == ArgLockSeconds || k == ArgLimit
}

// ReplyKind is the shape of a command's successful reply, and so of its Go result.
type ReplyKind uint8

// Reply kinds.
const (
	ReplyStored  ReplyKind = iota + 1 // VAL echo of a stored value → error only
	ReplyValue                        // VAL → []byte (numbers as decimal text); NOT_FOUND → ErrNotFound
	ReplyFound                        // OK → true, NOT_FOUND → false
	ReplyStatus                       // OK → nil error
	ReplyNumber                       // VAL number → int64
	ReplyCount                        // VAL number → int64; NOT_FOUND → 0
	ReplyKVList                       // KVAL → []KV; NOT_FOUND → empty
	ReplyKeyList                      // KVAL of index → key → []string; NOT_FOUND → empty
	ReplyStats                        // KVAL of name → value → Stats
)

var replyKindNames = [...]string{"", "stored", "value", "found", "status", "number", "count", "kvlist", "keylist", "stats"}

// String returns the name commands.yaml uses for k.
func (k ReplyKind) String() string {
	if int(k) < len(replyKindNames) && k != 0 {
		return replyKindNames[k]
	}
	return "ReplyKind(?)"
}
