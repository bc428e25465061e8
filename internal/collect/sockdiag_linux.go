package collect

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// SockDiag counts with NETLINK_SOCK_DIAG: one dump per family and protocol,
// the kernel filtering the states, each message's state byte counted in place.
// It uses golang.org/x/sys/unix directly: a dump needs one request and a read
// loop, and reading into one reused buffer allocates nothing per socket.
type SockDiag struct{}

// The kernel's numbers (linux/netlink.h, linux/sock_diag.h, linux/inet_diag.h,
// include/net/tcp_states.h) for what a dump request and its answer hold.
// Offsets in the kernel's structs, in bytes.
const (
	// struct nlmsghdr: nlmsg_len, nlmsg_type, nlmsg_flags, nlmsg_seq.
	nlLen, nlType, nlFlags, nlSeq = 0, 4, 6, 8
	// After the header, struct inet_diag_req_v2 and unix_diag_req share
	// their first fields: family, protocol, then states at 4.
	reqFamily, reqProto, reqStates = nlmsgHdrLen + 0, nlmsgHdrLen + 1, nlmsgHdrLen + 4
	// TCPDIAG_GETSOCK's struct inet_diag_req has its states at 52.
	reqV1States = nlmsgHdrLen + 52
	// struct inet_diag_msg: idiag_family, idiag_state, then the sockid's
	// ports and addresses (network byte order), and idiag_inode.
	diagFamily, diagState, diagSport, diagDport, diagSrc, diagDst, diagInode = 0, 1, 4, 6, 8, 24, 68
	// The sockid's idiag_if: the interface the socket is bound to (host
	// byte order), which tells the link of a link-local address.
	diagIf = 40
	// idiag_rqueue, idiag_wqueue: of a listener, its accept queue and backlog.
	diagRqueue, diagWqueue = 56, 60
	// struct unix_diag_msg: udiag_state, udiag_ino.
	unixState, unixInode = 2, 4
)

const (
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	tcpDiagGetSock   = 18 // TCPDIAG_GETSOCK: the first request, both families in one walk
	nlmsgHdrLen      = 16
	inetDiagReqLen   = 56 // struct inet_diag_req_v2
	inetDiagReqV1Len = 60 // struct inet_diag_req, TCPDIAG_GETSOCK's
	inetDiagMsgLen   = 72 // struct inet_diag_msg
	unixDiagReqLen   = 24 // struct unix_diag_req
	unixDiagMsgLen   = 16 // struct unix_diag_msg
	tcpNewSynRecv    = 12 // request socket; /proc/net/tcp shows it as SYN_RECV
	dumpBufSize      = 64 << 10
	dumpRetries      = 3
)

// DumpError names the dump that failed and unwraps to the errno.
type DumpError struct {
	Op  string
	Err error
}

func (e *DumpError) Error() string { return "sock_diag " + e.Op + ": " + e.Err.Error() }
func (e *DumpError) Unwrap() error { return e.Err }

// errDumpInterrupted: the kernel flagged the dump as inconsistent.
var errDumpInterrupted = errors.New("dump interrupted (NLM_F_DUMP_INTR)")

var typeFamilyProto = [NumTypes]struct{ family, proto uint8 }{
	TCP:  {unix.AF_INET, unix.IPPROTO_TCP},
	TCP6: {unix.AF_INET6, unix.IPPROTO_TCP},
	UDP:  {unix.AF_INET, unix.IPPROTO_UDP},
	UDP6: {unix.AF_INET6, unix.IPPROTO_UDP},
	Unix: {unix.AF_UNIX, 0},
}

func (SockDiag) Collect(ctx context.Context, f Filter, sink Sink) (Result, error) {
	d, err := openSockDiag()
	if err != nil {
		return Result{Backend: "netlink"}, err
	}
	defer d.close()
	c, err := d.collect(ctx, f, sink)
	return Result{Counts: c, Backend: "netlink"}, err
}

// collect counts what f wants with d, each type with sock_diag.
func (d *sockDiag) collect(ctx context.Context, f Filter, sink Sink) (Counts, error) {
	return countDumps(ctx, f, d, sink, func(t Type) ([NumStatuses]int, error) { return d.count(t, f, sink) })
}

// countDumps counts what f wants with d: tcp and tcp6 in one dump when both
// are wanted (every TCP dump walks the kernel's whole socket hash table,
// which all network namespaces share: one walk instead of two), each other
// type with single. Where the kernel refuses the joint dump, each TCP type
// goes through single too.
func countDumps(ctx context.Context, f Filter, d dumper, sink Sink, single func(Type) ([NumStatuses]int, error)) (Counts, error) {
	var c Counts
	rest := f
	if f.Wants(TCP) && f.Wants(TCP6) {
		var err error
		c[TCP], c[TCP6], err = d.countTCP(f, sink)
		switch {
		case err == nil:
			rest.Types &^= 1<<TCP | 1<<TCP6
		case !refused(err) && !errors.Is(err, unix.EINVAL):
			return c, err
		}
	}
	more, err := countTypes(ctx, rest, single)
	for t := range NumTypes {
		if rest.HasType(t) {
			c[t] = more[t]
		}
	}
	return c, err
}

// sockDiag dumps over a netlink connection into one reused receive buffer.
type sockDiag struct {
	c   conn
	buf []byte
	seq uint32
}

// conn is the wire under a dump: a request goes out, the answer comes back
// in reads. A NETLINK_SOCK_DIAG socket, or a test's fake kernel.
type conn interface {
	send(req []byte) error
	recv(buf []byte) (int, error)
	close() error
}

func openSockDiag() (*sockDiag, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, &DumpError{Op: "socket", Err: err}
	}
	// Errors without the request echoed (Linux >= 4.2; older ones echo it,
	// and walkFrames still finds the errno in a cut answer).
	unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	return newSockDiag(netlinkConn(fd)), nil
}

func newSockDiag(c conn) *sockDiag { return &sockDiag{c: c, buf: make([]byte, dumpBufSize)} }

func (d *sockDiag) close() { d.c.close() }

// netlinkConn is an open NETLINK_SOCK_DIAG socket.
type netlinkConn int

func (c netlinkConn) send(req []byte) error {
	return unix.Sendto(int(c), req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}

func (c netlinkConn) recv(buf []byte) (int, error) {
	for {
		n, err := unix.Read(int(c), buf)
		if err != unix.EINTR {
			return n, err
		}
	}
}

func (c netlinkConn) close() error { return unix.Close(int(c)) }

// count dumps one type, retrying a dump the kernel marked as interrupted.
func (d *sockDiag) count(t Type, f Filter, sink Sink) ([NumStatuses]int, error) {
	out := newRows(sink)
	err := d.retry(t, kernelFilter(f), out)
	return out.row, err
}

// countTCP dumps tcp and tcp6 at once (TCPDIAG_GETSOCK asks for both
// families); its answers carry their family.
func (d *sockDiag) countTCP(f Filter, sink Sink) (tcp, tcp6 [NumStatuses]int, err error) {
	out := newRows(sink)
	out.both = true
	err = d.retry(TCP, kernelFilter(f), out)
	return out.row, out.row6, err
}

// retry runs a dump until it is consistent, dumpRetries times at most, on
// the same socket: netlink flags the NLMSG_DONE, so the dump is over (a
// request while one still runs would get EBUSY).
func (d *sockDiag) retry(t Type, f Filter, out *rows) error {
	var err error
	for range dumpRetries {
		out.restart()
		if err = d.dump(t, f, out); !errors.Is(err, errDumpInterrupted) {
			break
		}
	}
	if err != nil {
		out.restart() // what a failed dump handed over must not stand (auto retries from /proc)
		return err
	}
	out.done()
	return nil
}

func (d *sockDiag) dump(t Type, f Filter, out *rows) error {
	d.seq++
	op := "dump " + t.String()
	if out.both {
		op = "dump tcp and tcp6"
	}
	if err := d.c.send(dumpRequest(t, f, d.seq, out.both)); err != nil {
		return &DumpError{Op: op, Err: err}
	}
	for {
		n, err := d.c.recv(d.buf)
		if err != nil {
			return &DumpError{Op: op, Err: err}
		}
		done, err := countDump(d.buf[:n], d.seq, t, f, out)
		if err != nil {
			return &DumpError{Op: op, Err: err}
		}
		if done {
			return nil
		}
	}
}

// kernelStates is the state bitmask to ask the kernel for. Request sockets
// are NEW_SYN_RECV in the kernel, and an orphaned FIN_WAIT2 socket lives as a
// TIME_WAIT socket that reports FIN_WAIT2, so those bits come along; countDump
// keeps only what was asked. UDP's states (CLOSE, ESTABLISHED) all count as NONE.
func kernelStates(t Type, f Filter) uint32 {
	if !t.IsTCP() { // udp: CLOSE and ESTABLISHED; unix: counted by unixStatus
		return ^uint32(0)
	}
	states := uint32(f.Statuses) &^ 1 // TCP has no NONE
	if f.HasStatus(SynRecv) {
		states |= 1 << tcpNewSynRecv
	}
	if f.HasStatus(FinWait2) {
		states |= 1 << TimeWait
	}
	return states
}

// dumpRequest builds a netlink header and a request for every socket of t
// in the kernel states, with no extensions: an inet_diag_req_v2 with the
// filter's addresses and ports as bytecode; for unix a unix_diag_req (their
// states are few: counted as they come); with joint, TCPDIAG_GETSOCK's
// struct inet_diag_req, which names no family, so the kernel answers tcp
// and tcp6 in one walk.
func dumpRequest(t Type, f Filter, seq uint32, joint bool) []byte {
	typ, size, states := uint16(sockDiagByFamily), inetDiagReqLen, reqStates
	prog := f.prog // from kernelFilter
	switch {
	case joint:
		typ, size, states = tcpDiagGetSock, inetDiagReqV1Len, reqV1States
	case t == Unix:
		size, prog = unixDiagReqLen, nil
	}
	b := make([]byte, nlmsgHdrLen+size, nlmsgHdrLen+size+4+len(prog))
	ne := binary.NativeEndian
	ne.PutUint16(b[nlType:], typ)
	ne.PutUint16(b[nlFlags:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(b[nlSeq:], seq)
	if !joint {
		b[reqFamily] = typeFamilyProto[t].family
		b[reqProto] = typeFamilyProto[t].proto
	}
	ne.PutUint32(b[states:], kernelStates(t, f))
	if t == Unix && f.Queues {
		ne.PutUint32(b[unixReqShow:], udiagShowName|udiagShowRqlen)
	}
	if prog != nil {
		b = ne.AppendUint16(b, uint16(4+len(prog)))
		b = ne.AppendUint16(b, inetDiagReqBytecode)
		b = append(b, prog...)
	}
	ne.PutUint32(b[nlLen:], uint32(len(b)))
	return b
}

// unixStatus maps a unix socket's kernel state: listening, connected, or
// anything else (unconnected) as NONE.
func unixStatus(state uint8) Status {
	switch Status(state) {
	case Listen, Established:
		return Status(state)
	}
	return None
}

// countDump counts the sockets in one read of a dump answer. It reports done
// at NLMSG_DONE, and the kernel's errno for NLMSG_ERROR.
func countDump(b []byte, seq uint32, t Type, f Filter, out *rows) (done bool, err error) {
	if t == Unix {
		return walkFrames(b, seq, func(msg []byte) error { return decodeUnix(msg, f, out) })
	}
	return walkFrames(b, seq, func(msg []byte) error { return decodeInet(msg, t, f, out) })
}

// walkFrames walks the netlink messages in one read of a dump answer and
// hands each socket message of the request seq to decode. It reports done
// at NLMSG_DONE, the kernel's errno for NLMSG_ERROR (or a DONE that carries
// one), and errDumpInterrupted for NLM_F_DUMP_INTR.
func walkFrames(b []byte, seq uint32, decode func(msg []byte) error) (done bool, err error) {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return false, fmt.Errorf("truncated message header (%d bytes)", len(b))
		}
		msgLen := int(ne.Uint32(b[nlLen:]))
		typ := ne.Uint16(b[nlType:])
		flags := ne.Uint16(b[nlFlags:])
		// An error that echoes a long request may not fit the read; its
		// errno, first, does: say that, not "truncated".
		if typ == unix.NLMSG_ERROR && msgLen > len(b) && len(b) >= nlmsgHdrLen+4 && ne.Uint32(b[nlSeq:]) == seq {
			if errno := -int32(ne.Uint32(b[nlmsgHdrLen:])); errno != 0 {
				return false, unix.Errno(errno)
			}
		}
		if msgLen < nlmsgHdrLen || msgLen > len(b) {
			return false, fmt.Errorf("truncated message: length %d, %d bytes left", msgLen, len(b))
		}
		msgSeq := ne.Uint32(b[nlSeq:])
		msg := b[nlmsgHdrLen:msgLen]
		if next := (msgLen + 3) &^ 3; next < len(b) {
			b = b[next:]
		} else {
			b = nil
		}
		if msgSeq != seq {
			continue // an answer to an earlier request
		}
		if flags&unix.NLM_F_DUMP_INTR != 0 {
			return false, errDumpInterrupted
		}
		switch typ {
		case unix.NLMSG_DONE:
			// A dump that failed part way ends with the errno here.
			if len(msg) >= 4 && ne.Uint32(msg) != 0 {
				return false, unix.Errno(-int32(ne.Uint32(msg)))
			}
			return true, nil
		case unix.NLMSG_ERROR:
			if len(msg) < 4 {
				return false, errors.New("truncated NLMSG_ERROR")
			}
			if errno := -int32(ne.Uint32(msg)); errno != 0 {
				return false, unix.Errno(errno)
			}
		case sockDiagByFamily, tcpDiagGetSock:
			if err := decode(msg); err != nil {
				return false, err
			}
		}
	}
	return false, nil
}

// decodeUnix counts one unix_diag_msg.
func decodeUnix(msg []byte, f Filter, out *rows) error {
	if len(msg) < unixDiagMsgLen {
		return fmt.Errorf("truncated unix_diag_msg (%d bytes)", len(msg))
	}
	if s := unixStatus(msg[unixState]); f.HasStatus(s) {
		inode := binary.NativeEndian.Uint32(msg[unixInode:])
		sock := Socket{Type: Unix, Status: s, Inode: inode, Kernel: inode == 0}
		if s == Listen && f.Queues {
			unixQueue(msg[unixDiagMsgLen:], &sock)
		}
		out.add(sock)
	}
	return nil
}

// decodeInet counts one inet_diag_msg of a dump of t (in a joint TCP dump,
// each message names its family).
func decodeInet(msg []byte, t Type, f Filter, out *rows) error {
	if len(msg) < inetDiagMsgLen {
		return fmt.Errorf("truncated inet_diag_msg (%d bytes)", len(msg))
	}
	s := Status(msg[diagState])
	switch {
	case !t.IsTCP():
		s = None
	case s == tcpNewSynRecv:
		s = SynRecv
	case s >= NumStatuses:
		return nil // BOUND_INACTIVE and later: not shown in /proc/net/tcp either
	}
	// Addresses and ports: the kernel ran the bytecode, unless it
	// was too long to send.
	if !f.HasStatus(s) || f.inProcess && !matchDiagMsg(msg, f) {
		return nil
	}
	typ := t
	if out.both && msg[diagFamily] == unix.AF_INET6 {
		typ = TCP6
	}
	be, ne := binary.BigEndian, binary.NativeEndian
	if out.want&(1<<s) == 0 {
		out.rowOf(typ)[s]++ // all a count needs
		return nil
	}
	// IPv4 TCP connections, to a sink that takes them as numbers (Pairs4),
	// which checks their ports itself: no Socket, no Needs.
	if out.pair != nil && typ == TCP && s != Listen && msg[diagDport]|msg[diagDport+1] != 0 {
		out.row[s]++
		out.pair.AddPair4([4]byte(msg[diagSrc:]), [4]byte(msg[diagDst:]), be.Uint16(msg[diagSport:]), be.Uint16(msg[diagDport:]), ne.Uint32(msg[diagInode:]))
		return nil
	}
	if out.pick != nil && !out.pick.Needs(s, be.Uint16(msg[diagSport:]), be.Uint16(msg[diagDport:])) {
		out.rowOf(typ)[s]++
		return nil
	}
	inode := ne.Uint32(msg[diagInode:])
	local, remote := diagAddrs(msg)
	sock := Socket{Type: typ, Status: s, Inode: inode, Kernel: inode == 0, Local: zoned(msg, local), Remote: zoned(msg, remote)}
	if s == Listen {
		sock.Queued, sock.Backlog, sock.Queues = ne.Uint32(msg[diagRqueue:]), ne.Uint32(msg[diagWqueue:]), true
	}
	out.add(sock)
	return nil
}

// matchDiagMsg matches an inet_diag_msg's addresses and ports (struct
// inet_diag_sockid, in network byte order) with the filter's endpoints.
func matchDiagMsg(msg []byte, f Filter) bool {
	local, remote := diagAddrs(msg)
	return f.Local.Match(local.Addr(), local.Port()) && f.Remote.Match(remote.Addr(), remote.Port())
}

// diagAddrs reads an inet_diag_msg's addresses and ports (struct
// inet_diag_sockid, in network byte order; IPv4 in the first 4 of 16 bytes).
func diagAddrs(msg []byte) (local, remote netip.AddrPort) {
	addr := func(at int) netip.Addr {
		if msg[diagFamily] == unix.AF_INET {
			return netip.AddrFrom4([4]byte(msg[at : at+4]))
		}
		return netip.AddrFrom16([16]byte(msg[at : at+16]))
	}
	be := binary.BigEndian
	return netip.AddrPortFrom(addr(diagSrc), be.Uint16(msg[diagSport:])), netip.AddrPortFrom(addr(diagDst), be.Uint16(msg[diagDport:]))
}

// zoned gives link-local IPv6 addresses the link they are on (idiag_if, as
// its index): fe80::2 on two links is two peers. Only for what the sink
// takes: a zoned address is in no prefix of the filter.
func zoned(msg []byte, a netip.AddrPort) netip.AddrPort {
	ifindex := binary.NativeEndian.Uint32(msg[diagIf:])
	if ifindex == 0 || !a.Addr().Is6() || !a.Addr().IsLinkLocalUnicast() {
		return a
	}
	return netip.AddrPortFrom(a.Addr().WithZone(strconv.FormatUint(uint64(ifindex), 10)), a.Port())
}
