// Package spec is the vocabulary commands.yaml gives a sharding client beside the protocol:
// where each command is routed (Route), how the replies of a command sent to every shard
// merge (Merge), and how each STATS entry does (StatMerge). The generator reads it into the
// command table; client.Ring and the proxy act on it. It is not part of the wire protocol,
// so it lives here rather than in package wire, and users never see it.
package spec

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
