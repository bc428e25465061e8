// Package sock is the check's vocabulary: socket types and states as the
// kernel numbers them, counts, a counted socket and the sink that takes it.
// The report, --top and the measures speak it without pulling in the
// collectors' backends (sock_diag, gopsutil, x/sys).
package sock

import (
	"fmt"
	"net/netip"
	"strconv"
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

// Sink receives the counted sockets, with their addresses, one type's dump
// at a time: Restart forgets what the dump under way handed over (the
// kernel marked it inconsistent and it starts again), Done ends it.
type Sink interface {
	Add(Socket)
	Restart()
	Done()
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

// ParsePorts reads a port (443) or an inclusive range of ports
// (8000-8100), as --local-port and ip_local_reserved_ports write them.
func ParsePorts(s string) (first, last uint16, ok bool) {
	a, b, isRange := strings.Cut(s, "-")
	if !isRange {
		b = a
	}
	x, err1 := strconv.ParseUint(a, 10, 16)
	y, err2 := strconv.ParseUint(b, 10, 16)
	if err1 != nil || err2 != nil || x > y {
		return 0, 0, false
	}
	return uint16(x), uint16(y), true
}

// Selects is what selects sockets by type and status (collect.Filter).
type Selects interface {
	Has(Type, Status) bool
}
