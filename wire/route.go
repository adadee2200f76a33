package wire

import "errors"

// Route says where a client that shards keys over several servers (client.Ring) sends a
// command; commands.yaml gives one for every command.
type Route uint8

// Routes.
const (
	RouteKey  Route = iota + 1 // to the shard of the command's key argument
	RouteAll                   // to every live shard, replies merged by the command's Merge
	RouteNone                  // nowhere: the command concerns one connection (END) and is refused
)

var routeNames = [...]string{"", "key", "all", "none"}

// String returns the name commands.yaml uses for r.
func (r Route) String() string {
	if int(r) < len(routeNames) && r != 0 {
		return routeNames[r]
	}
	return "Route(?)"
}

// Merge says how the replies of a command sent to every shard become one reply.
type Merge uint8

// Merge kinds.
const (
	MergeSum    Merge = iota + 1 // number replies (NOT_FOUND counts as 0) are added
	MergeConcat                  // KVAL bodies are concatenated in shard-name order; a limit argument caps the whole
	MergeAll                     // the status is OK when every shard answered OK
	MergeStats                   // STATS pairs merge entry by entry, by each entry's StatMerge
)

var mergeNames = [...]string{"", "sum", "concat", "all", "stats"}

// String returns the name commands.yaml uses for m.
func (m Merge) String() string {
	if int(m) < len(mergeNames) && m != 0 {
		return mergeNames[m]
	}
	return "Merge(?)"
}

// StatMerge says how one STATS entry of several servers becomes one value.
type StatMerge uint8

// Statistic merge rules.
const (
	StatSum   StatMerge = iota + 1 // the values are added
	StatMax                        // the largest value
	StatMin                        // the smallest value
	StatFirst                      // the value of the first shard in name order that sent the entry
)

var statMergeNames = [...]string{"", "sum", "max", "min", "first"}

// String returns the name commands.yaml uses for m.
func (m StatMerge) String() string {
	if int(m) < len(statMergeNames) && m != 0 {
		return statMergeNames[m]
	}
	return "StatMerge(?)"
}

// ErrPartial: a command sent to several servers was answered by some of them only; the
// result holds what they answered, and the error names each server that failed and why.
var ErrPartial = &Error{Msg: "partial result"}

// IsPartial reports whether err matches ErrPartial: the reply that comes with it holds the
// answers of the servers that did answer, and is decoded like a successful one.
func IsPartial(err error) bool { return errors.Is(err, ErrPartial) }
