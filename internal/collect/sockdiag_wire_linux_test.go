package collect

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeConn is the wire under a dump, with a fake kernel on the other end:
// answer gets each request's bytes and returns the reads (each a run of
// netlink messages) the kernel would hand back. As the kernel does, it
// refuses a second dump on the socket while one is still being read (EBUSY).
type fakeConn struct {
	answer   func(req []byte) [][]byte
	reads    [][]byte
	requests [][]byte
	closed   bool
}

func (c *fakeConn) send(req []byte) error {
	c.requests = append(c.requests, slices.Clone(req))
	if len(c.reads) > 0 {
		c.reads = append(c.reads, nlErrorMsg(reqSeq(req), unix.EBUSY))
		return nil
	}
	c.reads = c.answer(req)
	return nil
}

func (c *fakeConn) recv(buf []byte) (int, error) {
	if len(c.reads) == 0 {
		return 0, errors.New("fake: a read with nothing to read would block")
	}
	n := copy(buf, c.reads[0])
	c.reads = c.reads[1:]
	return n, nil
}

func (c *fakeConn) close() error { c.closed = true; return nil }

// fakeSock is a socket in the fake kernel.
type fakeSock struct {
	family, proto, state uint8
	inode                uint32
}

// fakeKernel answers sock_diag dumps of its sockets: those of the family,
// protocol and states a request names (TCPDIAG_GETSOCK: tcp of both
// families), perRead messages to a read, then NLMSG_DONE.
type fakeKernel struct {
	socks   []fakeSock
	perRead int
	refuse  map[uint16]unix.Errno // by request type: the errno it answers with
	refuseP map[uint8]unix.Errno  // by protocol (no udp_diag: ENOENT)
	intr    int                   // the first intr dumps end flagged NLM_F_DUMP_INTR
	peers   map[uint32]uint16     // by inode: the remote port (of 127.0.0.2 or ::2)
}

func (k *fakeKernel) answer(req []byte) [][]byte {
	ne := binary.NativeEndian
	seq := reqSeq(req)
	if len(req) < nlmsgHdrLen+unixDiagReqLen || int(ne.Uint32(req[nlLen:])) != len(req) ||
		ne.Uint16(req[nlFlags:]) != unix.NLM_F_REQUEST|unix.NLM_F_DUMP {
		return [][]byte{nlErrorMsg(seq, unix.EINVAL)}
	}
	typ := ne.Uint16(req[nlType:])
	if errno, ok := k.refuse[typ]; ok {
		return [][]byte{nlErrorMsg(seq, errno)}
	}
	var family, proto uint8
	var states uint32
	switch typ {
	case tcpDiagGetSock:
		if len(req) < nlmsgHdrLen+inetDiagReqV1Len {
			return [][]byte{nlErrorMsg(seq, unix.EINVAL)}
		}
		proto, states = unix.IPPROTO_TCP, ne.Uint32(req[reqV1States:])
	case sockDiagByFamily:
		family, proto, states = req[reqFamily], req[reqProto], ne.Uint32(req[reqStates:])
		if family != unix.AF_UNIX && len(req) < nlmsgHdrLen+inetDiagReqLen {
			return [][]byte{nlErrorMsg(seq, unix.EINVAL)}
		}
	default:
		return [][]byte{nlErrorMsg(seq, unix.EINVAL)}
	}
	if errno, ok := k.refuseP[proto]; ok && family != unix.AF_UNIX {
		return [][]byte{nlErrorMsg(seq, errno)}
	}
	var reads [][]byte
	var read []byte
	n := 0
	for _, s := range k.socks {
		if (s.family == unix.AF_UNIX) != (family == unix.AF_UNIX) || family != 0 && s.family != family ||
			s.family != unix.AF_UNIX && s.proto != proto || states&(1<<s.state) == 0 {
			continue
		}
		read = append(read, nlMsg(typ, unix.NLM_F_MULTI, seq, sockMsg(s, k.peers[s.inode]))...)
		if n++; k.perRead > 0 && n%k.perRead == 0 {
			reads, read = append(reads, read), nil
		}
	}
	flags := uint16(unix.NLM_F_MULTI)
	if k.intr > 0 {
		k.intr-- // netlink flags the NLMSG_DONE of a dump whose table changed under it
		flags |= unix.NLM_F_DUMP_INTR
	}
	return append(reads, append(read, nlMsg(unix.NLMSG_DONE, flags, seq, make([]byte, 4))...))
}

// sockMsg is s as the kernel describes it: an inet_diag_msg, or a
// unix_diag_msg.
func sockMsg(s fakeSock, peer uint16) []byte {
	ne := binary.NativeEndian
	if s.family == unix.AF_UNIX {
		m := make([]byte, unixDiagMsgLen)
		m[0], m[unixState] = unix.AF_UNIX, s.state
		ne.PutUint32(m[unixInode:], s.inode)
		return m
	}
	m := make([]byte, inetDiagMsgLen)
	m[diagFamily], m[diagState] = s.family, s.state
	binary.BigEndian.PutUint16(m[diagSport:], uint16(s.inode))
	if m[diagSrc] = 127; s.family == unix.AF_INET6 {
		m[diagSrc], m[diagSrc+15] = 0, 1
	}
	if peer != 0 {
		binary.BigEndian.PutUint16(m[diagDport:], peer)
		if m[diagDst] = 127; s.family == unix.AF_INET6 {
			m[diagDst], m[diagDst+15] = 0, 2
		} else {
			m[diagDst+3] = 2
		}
	}
	ne.PutUint32(m[diagInode:], s.inode)
	return m
}

func nlMsg(typ, flags uint16, seq uint32, payload []byte) []byte {
	ne := binary.NativeEndian
	b := make([]byte, nlmsgHdrLen, nlmsgHdrLen+len(payload)+3)
	ne.PutUint32(b[nlLen:], uint32(nlmsgHdrLen+len(payload)))
	ne.PutUint16(b[nlType:], typ)
	ne.PutUint16(b[nlFlags:], flags)
	ne.PutUint32(b[nlSeq:], seq)
	b = append(b, payload...)
	return append(b, make([]byte, (4-len(b)%4)%4)...)
}

// nlErrorMsg is the kernel's refusal of a request (NETLINK_CAP_ACK: the
// request not echoed).
func nlErrorMsg(seq uint32, errno unix.Errno) []byte {
	p := make([]byte, 4+nlmsgHdrLen)
	binary.NativeEndian.PutUint32(p, uint32(-int32(errno)))
	return nlMsg(unix.NLMSG_ERROR, 0, seq, p)
}

func reqSeq(req []byte) uint32 {
	if len(req) < nlmsgHdrLen {
		return 0
	}
	return binary.NativeEndian.Uint32(req[nlSeq:])
}

// What a request asked for, in the order sent: "joint" for TCPDIAG_GETSOCK,
// else the type.
func requested(reqs [][]byte) []string {
	var names []string
	for _, r := range reqs {
		if binary.NativeEndian.Uint16(r[nlType:]) == tcpDiagGetSock {
			names = append(names, "joint")
			continue
		}
		name := "?"
		for typ, fp := range typeFamilyProto {
			if fp.family == r[reqFamily] && fp.proto == r[reqProto] {
				name = Type(typ).String()
			}
		}
		names = append(names, name)
	}
	return names
}

// The dumps over a fake wire: the joint TCP dump and its fallback to one
// dump per family, the retry of a dump the kernel flags as interrupted, and
// what ends a count with an error, as non-root, with no kernel.
func TestDumpOverTheWire(t *testing.T) {
	socks := []fakeSock{
		{unix.AF_INET, unix.IPPROTO_TCP, uint8(Listen), 11},
		{unix.AF_INET, unix.IPPROTO_TCP, uint8(Established), 12},
		{unix.AF_INET, unix.IPPROTO_TCP, uint8(Established), 13},
		{unix.AF_INET, unix.IPPROTO_TCP, uint8(TimeWait), 0},
		{unix.AF_INET, unix.IPPROTO_TCP, tcpNewSynRecv, 0},
		{unix.AF_INET6, unix.IPPROTO_TCP, uint8(Listen), 21},
		{unix.AF_INET6, unix.IPPROTO_TCP, uint8(Established), 22},
		{unix.AF_INET6, unix.IPPROTO_TCP, 13, 23}, // BOUND_INACTIVE: not counted
		{unix.AF_INET, unix.IPPROTO_UDP, 7, 31},   // CLOSE
		{unix.AF_INET, unix.IPPROTO_UDP, 1, 32},   // connected
		{unix.AF_INET6, unix.IPPROTO_UDP, 7, 41},
		{unix.AF_UNIX, 0, uint8(Listen), 51},
		{unix.AF_UNIX, 0, uint8(Established), 52},
		{unix.AF_UNIX, 0, 7, 53},
	}
	var all Counts
	all[TCP][Listen], all[TCP][Established], all[TCP][TimeWait], all[TCP][SynRecv] = 1, 2, 1, 1
	all[TCP6][Listen], all[TCP6][Established] = 1, 1
	all[UDP][None], all[UDP6][None] = 2, 1
	all[Unix][Listen], all[Unix][Established], all[Unix][None] = 1, 1, 1
	var estab Counts
	estab[TCP][Established], estab[TCP6][Established], estab[Unix][Established] = 2, 1, 1
	withUnix := All
	withUnix.Types |= 1 << Unix
	perFamily := []string{"joint", "tcp", "tcp6", "udp", "udp6", "unix"}

	tests := []struct {
		name   string
		k      fakeKernel
		f      Filter
		want   Counts // with err: what the dumps before the failure listed
		err    error  // errors.Is target
		op     string
		dumped []string
	}{
		{"tcp and tcp6 in one dump", fakeKernel{}, withUnix, all, nil, "", []string{"joint", "udp", "udp6", "unix"}},
		{"many reads", fakeKernel{perRead: 2}, withUnix, all, nil, "", []string{"joint", "udp", "udp6", "unix"}},
		{"one TCP type: no joint dump", fakeKernel{}, Filter{Types: 1 << TCP6, Statuses: All.Statuses}, Counts{TCP6: all[TCP6]}, nil, "", []string{"tcp6"}},
		{"the kernel filters the states", fakeKernel{}, Filter{Types: withUnix.Types, Statuses: 1 << Established}, estab, nil, "", []string{"joint", "unix"}},
		{"joint dump refused (EINVAL): one dump per family", fakeKernel{refuse: map[uint16]unix.Errno{tcpDiagGetSock: unix.EINVAL}}, withUnix, all, nil, "", perFamily},
		{"joint dump refused (ENOENT): one dump per family", fakeKernel{refuse: map[uint16]unix.Errno{tcpDiagGetSock: unix.ENOENT}}, withUnix, all, nil, "", perFamily},
		{"joint dump fails: an error, no fallback", fakeKernel{refuse: map[uint16]unix.Errno{tcpDiagGetSock: unix.ENOBUFS}}, withUnix, Counts{}, unix.ENOBUFS, "dump tcp and tcp6", []string{"joint"}},
		{"interrupted twice, the third consistent", fakeKernel{intr: 2}, withUnix, all, nil, "", []string{"joint", "joint", "joint", "udp", "udp6", "unix"}},
		{"interrupted every time: an error", fakeKernel{intr: 100}, withUnix, Counts{}, errDumpInterrupted, "dump tcp and tcp6", []string{"joint", "joint", "joint"}},
		{"udp_diag missing: an error (auto reads /proc)", fakeKernel{refuseP: map[uint8]unix.Errno{unix.IPPROTO_UDP: unix.ENOENT}}, withUnix, Counts{TCP: all[TCP], TCP6: all[TCP6]}, unix.ENOENT, "dump udp", []string{"joint", "udp"}},
	}
	for _, tt := range tests {
		for _, listing := range []bool{false, true} {
			name := tt.name
			if listing {
				name += ", listing"
			}
			t.Run(name, func(t *testing.T) {
				k := tt.k
				k.socks = socks
				c := &fakeConn{answer: k.answer}
				var l listSink
				var sink Sink
				if listing {
					sink = &l
				}
				got, err := newSockDiag(c).collect(context.Background(), tt.f, sink)
				if tt.err != nil {
					var de *DumpError
					if !errors.Is(err, tt.err) || !errors.As(err, &de) || de.Op != tt.op {
						t.Errorf("err = %v, want %v from %q", err, tt.err, tt.op)
					}
					if listing && CountSockets(l.list) != tt.want {
						t.Errorf("a failed count listed %v, want %v (a failed dump's sockets must not stand)", CountSockets(l.list), tt.want)
					}
				} else if err != nil {
					t.Fatal(err)
				} else if got != tt.want {
					t.Errorf("counts %v, want %v", got, tt.want)
				}
				if listing && err == nil {
					if CountSockets(l.list) != got {
						t.Errorf("the list counts %v, the counts are %v", CountSockets(l.list), got)
					}
					seen := map[uint32]bool{}
					for _, s := range l.list {
						if s.Inode != 0 && seen[s.Inode] {
							t.Errorf("socket %d listed twice", s.Inode)
						}
						seen[s.Inode] = true
						if s.Type.IsInet() && (s.Local.Port() != uint16(s.Inode) || !s.Local.Addr().IsLoopback()) {
							t.Errorf("socket %d: local address %v", s.Inode, s.Local)
						}
					}
				}
				if d := requested(c.requests); !slices.Equal(d, tt.dumped) {
					t.Errorf("dumped %v, want %v", d, tt.dumped)
				}
				for i, r := range c.requests {
					if reqSeq(r) != uint32(i+1) {
						t.Errorf("request %d has seq %d", i+1, reqSeq(r))
					}
				}
			})
		}
	}
}

// Auto reads from /proc what sock_diag refuses: udp without udp_diag, tcp
// still from the (joint) dump.
func TestAutoOverTheWire(t *testing.T) {
	k := fakeKernel{
		socks: []fakeSock{
			{unix.AF_INET, unix.IPPROTO_TCP, uint8(Established), 12},
			{unix.AF_INET6, unix.IPPROTO_TCP, uint8(Established), 22},
			{unix.AF_INET, unix.IPPROTO_UDP, 7, 31},
		},
		refuseP: map[uint8]unix.Errno{unix.IPPROTO_UDP: unix.ENOENT},
	}
	c := &fakeConn{answer: k.answer}
	a := &Auto{sockDiag: func() (dumper, error) { return newSockDiag(c), nil }, procfs: Procfs{Dir: "../../testdata/procnet"}}
	list, got, err := List(context.Background(), a, All)
	if err != nil {
		t.Fatal(err)
	}
	procfs, err := Count(context.Background(), Procfs{Dir: "../../testdata/procnet"}, Filter{Types: 1<<UDP | 1<<UDP6, Statuses: All.Statuses})
	if err != nil {
		t.Fatal(err)
	}
	var want Counts
	want[TCP][Established], want[TCP6][Established] = 1, 1
	want[UDP], want[UDP6] = procfs[UDP], procfs[UDP6]
	if got != want || CountSockets(list) != got {
		t.Errorf("counts %v, list %v, want %v", got, CountSockets(list), want)
	}
	if d := requested(c.requests); !slices.Equal(d, []string{"joint", "udp", "udp6"}) {
		t.Errorf("dumped %v", d)
	}
	if !c.closed {
		t.Error("the netlink socket was not closed")
	}
}

// pairSink takes IPv4 pairs as numbers (Pairs4) and the rest as sockets.
type pairSink struct {
	listSink
	pairs []Socket
}

func (p *pairSink) Needs(Status, uint16, uint16) bool { return true }

func (p *pairSink) AddPair4(local, remote [4]byte, localPort, remotePort uint16, inode uint32) {
	p.pairs = append(p.pairs, Socket{Type: TCP, Status: Established, Inode: inode,
		Local: netip.AddrPortFrom(netip.AddrFrom4(local), localPort), Remote: netip.AddrPortFrom(netip.AddrFrom4(remote), remotePort)})
}

// A Pairs4 sink gets each IPv4 TCP socket with a peer, not listening, as
// its numbers, exactly as the Socket would carry them, and every other
// socket as a Socket; the counts are those of a plain count.
func TestPairsOverTheWire(t *testing.T) {
	k := fakeKernel{perRead: 2, socks: []fakeSock{
		{unix.AF_INET, unix.IPPROTO_TCP, uint8(Listen), 11},
		{unix.AF_INET, unix.IPPROTO_TCP, uint8(Established), 12},
		{unix.AF_INET, unix.IPPROTO_TCP, uint8(Established), 13}, // no peer
		{unix.AF_INET6, unix.IPPROTO_TCP, uint8(Established), 22},
		{unix.AF_INET, unix.IPPROTO_UDP, 1, 31},
	}, peers: map[uint32]uint16{12: 80, 22: 80, 31: 53}}
	f := All
	f.Types = 1<<TCP | 1<<TCP6 | 1<<UDP
	plain, err := newSockDiag(&fakeConn{answer: k.answer}).collect(context.Background(), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	var p pairSink
	got, err := newSockDiag(&fakeConn{answer: k.answer}).collect(context.Background(), f, &p)
	if err != nil {
		t.Fatal(err)
	}
	if got != plain {
		t.Errorf("counts %v, a plain count %v", got, plain)
	}
	want := Socket{Type: TCP, Status: Established, Inode: 12, Local: netip.MustParseAddrPort("127.0.0.0:12"), Remote: netip.MustParseAddrPort("127.0.0.2:80")}
	if len(p.pairs) != 1 || p.pairs[0] != want {
		t.Errorf("pairs %+v, want %+v", p.pairs, want)
	}
	var inodes []uint32
	for _, s := range p.list {
		inodes = append(inodes, s.Inode)
	}
	if !slices.Equal(inodes, []uint32{11, 13, 22, 31}) {
		t.Errorf("sockets %v, want 11, 13, 22, 31", inodes)
	}
}
