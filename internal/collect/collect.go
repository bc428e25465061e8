// Package collect counts the host's sockets by type and status.
package collect

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
)

// Type is a socket type as the user names it: protocol and address family.
type Type uint8

const (
	TCP Type = iota
	TCP6
	UDP
	UDP6
	Unix
	NumTypes
)

var typeNames = [NumTypes]string{"tcp", "tcp6", "udp", "udp6", "unix"}

func (t Type) String() string { return typeNames[t] }

// IsTCP reports whether t is a TCP type, the only kind with all the states.
func (t Type) IsTCP() bool { return t == TCP || t == TCP6 }

// IsInet reports whether t has addresses and ports.
func (t Type) IsInet() bool { return t != Unix }

// CanHave reports whether a socket of type t can be in status s: UDP only
// NONE, TCP anything but NONE, unix LISTEN, ESTABLISHED (connected) or NONE.
func (t Type) CanHave(s Status) bool {
	switch t {
	case TCP, TCP6:
		return s != None
	case Unix:
		return s == None || s == Established || s == Listen
	}
	return s == None
}

// Status mirrors the kernel's TCP states (include/net/tcp_states.h), so a
// state byte from the kernel is used as it is. None is what UDP sockets have.
type Status uint8

const (
	None        Status = 0
	Established Status = 1
	SynSent     Status = 2
	SynRecv     Status = 3
	FinWait1    Status = 4
	FinWait2    Status = 5
	TimeWait    Status = 6
	Close       Status = 7
	CloseWait   Status = 8
	LastAck     Status = 9
	Listen      Status = 10
	Closing     Status = 11
	NumStatuses        = 12
)

// statusNames are psutil's, which the original plugin printed.
var statusNames = [NumStatuses]string{
	"NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
}

func (s Status) String() string { return statusNames[s] }

// ParseType reads a type name in any case.
func ParseType(name string) (Type, error) {
	for t, n := range typeNames {
		if strings.EqualFold(name, n) {
			return Type(t), nil
		}
	}
	return 0, fmt.Errorf("unknown type %q (want one of all, %s)", name, strings.Join(typeNames[:], ", "))
}

// ParseStatus reads a status name in any case, with _ or - between words.
func ParseStatus(name string) (Status, error) {
	n := strings.ReplaceAll(name, "-", "_")
	for s, sn := range statusNames {
		if strings.EqualFold(n, sn) {
			return Status(s), nil
		}
	}
	return 0, fmt.Errorf("unknown status %q (want one of all, %s)", name, strings.ToLower(strings.Join(statusNames[:], ", ")))
}

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

// Counts holds the number of sockets of each type and status.
type Counts [NumTypes][NumStatuses]int

// Total is the number of sockets counted.
func (c Counts) Total() int {
	n := 0
	for _, row := range c {
		for _, k := range row {
			n += k
		}
	}
	return n
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

// Sink receives the counted sockets, with their addresses, one type's dump
// at a time: Restart forgets what the dump under way handed over (the
// kernel marked it inconsistent and it starts again), Done ends it.
type Sink interface {
	Add(Socket)
	Restart()
	Done()
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

// Socket is one counted socket: what tells its owner, and its addresses.
type Socket struct {
	Type          Type
	Status        Status
	Kernel        bool           // no process holds it: TIME_WAIT, not yet accepted, orphaned
	Inode         uint32         // 0: none (TIME_WAIT and request sockets belong to no file)
	Pid           int32          // the owner, where the collector knows it (gopsutil); else 0
	Local, Remote netip.AddrPort // inet sockets; the remote one unspecified without a peer
	// A listener's accept queue where the dump tells it (sock_diag; unix
	// with Filter.Queues): connections waiting for accept(), and the backlog.
	Queued, Backlog uint32
	Queues          bool
	Path            string // unix, with Filter.Queues: the name it is bound to
}

// CountSockets counts a list.
func CountSockets(list []Socket) Counts {
	var c Counts
	for _, s := range list {
		c[s.Type][s.Status]++
	}
	return c
}

// tally is where a collector puts each socket of one type's dump: always
// counted in row; with a sink, also handed to it.
type tally struct {
	row  [NumStatuses]int
	row6 [NumStatuses]int // with both: the tcp6 sockets of a joint TCP dump
	both bool
	sink Sink
	want uint16 // the statuses whose sockets the sink takes (Selective)
}

func newTally(sink Sink) *tally { return &tally{sink: sink, want: wants(sink)} }

// rowOf is the row that counts sockets of type t.
func (out *tally) rowOf(t Type) *[NumStatuses]int {
	if out.both && t == TCP6 {
		return &out.row6
	}
	return &out.row
}

// add counts a socket; only with a sink does it need more than type and state.
func (out *tally) add(s Socket) {
	out.rowOf(s.Type)[s.Status]++
	if out.want&(1<<s.Status) != 0 {
		out.sink.Add(s)
	}
}

// restart forgets what an interrupted dump added.
func (out *tally) restart() {
	out.row, out.row6 = [NumStatuses]int{}, [NumStatuses]int{}
	if out.sink != nil {
		out.sink.Restart()
	}
}

// done ends the dump: what it added stands.
func (out *tally) done() {
	if out.sink != nil {
		out.sink.Done()
	}
}
