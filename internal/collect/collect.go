// Package collect counts the host's sockets by type and status.
package collect

import (
	"context"
)

// Filter says which sockets to count; a zero Filter counts nothing.
type Filter struct {
	Types    uint8  // bit 1<<Type
	Statuses uint16 // bit 1<<Status, the same bitmask sock_diag takes
	Local    Endpoint
	Remote   Endpoint
	// Queues asks sock_diag for unix listeners' queues and names too (a
	// sink gets inet listeners' queues in any case).
	Queues bool

	// Set by kernelFilter for a dump: the endpoints' bytecode, or inProcess
	// when the program would pass what the kernel takes.
	prog      []byte
	inProcess bool
}

// All counts every inet type (not unix, as the original) and status.
var All = Filter{Types: 1<<Unix - 1, Statuses: 1<<NumStatuses - 1}

// Scoped reports whether the filter looks at addresses or ports.
func (f Filter) Scoped() bool { return !f.Local.IsAny() || !f.Remote.IsAny() }

func (f Filter) HasType(t Type) bool       { return f.Types&(1<<t) != 0 }
func (f Filter) HasStatus(s Status) bool   { return f.Statuses&(1<<s) != 0 }
func (f Filter) Has(t Type, s Status) bool { return f.HasType(t) && f.HasStatus(s) }

// Wants reports whether any socket of type t can pass the filter: UDP has
// only NONE, so a filter without NONE needs no UDP dump at all.
func (f Filter) Wants(t Type) bool {
	for s := range Status(NumStatuses) {
		if f.Has(t, s) && t.CanHave(s) {
			return true
		}
	}
	return false
}

// Collector counts the sockets that a filter selects and, given a sink,
// hands each one to it too (for --top: a sink costs more, so a plain count
// never has one). Collectors keep no state: one may count on many threads.
type Collector interface {
	Collect(ctx context.Context, f Filter, sink Sink) (Result, error)
}

// Result is what a collector found: the counts, the way it counted, and
// with --netns all each namespace's counts.
type Result struct {
	Counts  Counts
	Backend string  // netlink, procfs, gopsutil; with the reason for a fallback
	Census  *Census // --netns all; nil otherwise
}

// Count counts the sockets c finds for f.
func Count(ctx context.Context, c Collector, f Filter) (Counts, error) {
	r, err := c.Collect(ctx, f, nil)
	return r.Counts, err
}

// List lists the sockets c finds for f, and counts them.
func List(ctx context.Context, c Collector, f Filter) ([]Socket, Counts, error) {
	var l listSink
	r, err := c.Collect(ctx, f, &l)
	return l.list, r.Counts, err
}

// listSink is a Sink that keeps every socket.
type listSink struct {
	list []Socket
	mark int // len(list) when the dump under way began
}

func (l *listSink) Add(s Socket) { l.list = append(l.list, s) }
func (l *listSink) Restart()     { l.list = l.list[:l.mark] }
func (l *listSink) Done()        { l.mark = len(l.list) }

// countTypes counts each type the filter wants with count.
func countTypes(ctx context.Context, f Filter, count func(Type) ([NumStatuses]int, error)) (Counts, error) {
	var c Counts
	for t := range NumTypes {
		if !f.Wants(t) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return c, err
		}
		var err error
		if c[t], err = count(t); err != nil {
			return c, err
		}
	}
	return c, nil
}

// rows is where a collector puts each socket of one type's dump: always
// counted in row; with a sink, also handed to it.
type rows struct {
	row  [NumStatuses]int
	row6 [NumStatuses]int // with both: the tcp6 sockets of a joint TCP dump
	both bool
	sink Sink
	want uint16 // the statuses whose sockets the sink takes (Selective)
	pick Picky  // the sink, if it needs only some of those
	pair Pairs4 // the sink, if it takes IPv4 pairs as numbers
}

func newRows(sink Sink) *rows {
	p, _ := sink.(Picky)
	pair, _ := sink.(Pairs4)
	return &rows{sink: sink, want: wants(sink), pick: p, pair: pair}
}

// rowOf is the row that counts sockets of type t.
func (out *rows) rowOf(t Type) *[NumStatuses]int {
	if out.both && t == TCP6 {
		return &out.row6
	}
	return &out.row
}

// add counts a socket; only with a sink does it need more than type and state.
func (out *rows) add(s Socket) {
	out.rowOf(s.Type)[s.Status]++
	if out.want&(1<<s.Status) != 0 {
		out.sink.Add(s)
	}
}

// restart forgets what an interrupted dump added.
func (out *rows) restart() {
	out.row, out.row6 = [NumStatuses]int{}, [NumStatuses]int{}
	if out.sink != nil {
		out.sink.Restart()
	}
}

// done ends the dump: what it added stands.
func (out *rows) done() {
	if out.sink != nil {
		out.sink.Done()
	}
}
