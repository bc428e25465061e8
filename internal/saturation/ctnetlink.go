package saturation

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// Who fills a conntrack table: when the table alerts, the check dumps it
// through ctnetlink (as conntrack -L does) and tallies the entries by the
// original direction's source address and protocol. Framing and decoding
// here work on bytes; ctnetlink_linux.go owns the socket.

// The netlink and nfnetlink numbering, as include/uapi/linux/netlink.h,
// netfilter/nfnetlink.h and netfilter/nfnetlink_conntrack.h name it.
const (
	nlmsgHdrLen = 16 // struct nlmsghdr
	nfgenmsgLen = 4  // struct nfgenmsg: family, version, res_id
	nlaHdrLen   = 4  // struct nlattr

	nlmsgError = 0x2
	nlmsgDone  = 0x3

	nlmFRequest  = 0x1
	nlmFDumpIntr = 0x10
	nlmFRoot     = 0x100
	nlmFMatch    = 0x200
	nlmFDump     = nlmFRoot | nlmFMatch

	nlaFNested       = 1 << 15
	nlaFNetByteorder = 1 << 14
	nlaTypeMask      = ^uint16(nlaFNested | nlaFNetByteorder)

	nfnetlinkV0         = 0
	nfnlSubsysCtnetlink = 1
	afUnspec            = 0
)

// enum cntl_msg_types
const (
	ipctnlMsgCtNew = 0
	ipctnlMsgCtGet = 1
)

// enum ctattr_type, enum ctattr_tuple, enum ctattr_ip, enum ctattr_l4proto:
// the attributes read, where they nest.
const (
	ctaTupleOrig  = 1 // CTA_TUPLE_ORIG
	ctaTupleIP    = 1 // CTA_TUPLE_IP, in a tuple
	ctaTupleProto = 2 // CTA_TUPLE_PROTO, in a tuple
	ctaIPV4Src    = 1 // CTA_IP_V4_SRC, in CTA_TUPLE_IP
	ctaIPV6Src    = 3 // CTA_IP_V6_SRC, in CTA_TUPLE_IP
	ctaProtoNum   = 1 // CTA_PROTO_NUM, in CTA_TUPLE_PROTO
)

// The bounds of one table's tally: the entries read, the sources kept.
const (
	MaxSourceEntries = 1_000_000
	MaxSources       = 65536
	TopSources       = 5
)

// Sources is who fills a namespace's conntrack table: its entries by
// source address and protocol, the most first.
type Sources struct {
	Entries  int      // entries read
	Cut      Cut      // the bounds that stopped the tally (0: it read the whole table)
	Top      []Source // the TopSources with the most entries
	Err      string   // the dump failed
	NeedsCap bool     // it failed for want of CAP_NET_ADMIN
}

// Source is an original direction's source address and L4 protocol.
type Source struct {
	Addr    netip.Addr
	Proto   uint8
	Entries int
}

// Protocol is the source's L4 protocol by name, or by number.
func (s Source) Protocol() string {
	switch s.Proto { // IANA's numbers, as include/uapi/linux/in.h names them
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1:
		return "icmp"
	case 58:
		return "icmpv6"
	case 132:
		return "sctp"
	case 33:
		return "dccp"
	case 136:
		return "udplite"
	case 47:
		return "gre"
	}
	return strconv.Itoa(int(s.Proto))
}

// Cut is the bounds that stopped a tally, a bit each.
type Cut uint8

const (
	CutEntries     Cut = 1 << iota // MaxSourceEntries read, more came
	CutSources                     // MaxSources kept, entries of others counted without their source
	CutDeadline                    // a quarter of --timeout passed
	CutInterrupted                 // the table changed under the dump (NLM_F_DUMP_INTR)
)

// dumpRequest is IPCTNL_MSG_CT_GET with NLM_F_DUMP for every family: a
// nlmsghdr and a nfgenmsg.
func dumpRequest(seq uint32) []byte {
	b := make([]byte, nlmsgHdrLen+nfgenmsgLen)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], nfnlSubsysCtnetlink<<8|ipctnlMsgCtGet)
	ne.PutUint16(b[6:], nlmFRequest|nlmFDump)
	ne.PutUint32(b[8:], seq)
	// pid 0: the kernel's; nfgenmsg: AF_UNSPEC, NFNETLINK_V0, res_id 0.
	b[16], b[17] = afUnspec, nfnetlinkV0
	return b
}

// sourceKey is a tally's key: an address (IPv4 in the first 4 bytes) and
// a protocol.
type sourceKey struct {
	addr  [16]byte
	v6    bool
	proto uint8
}

// tally counts a dump's entries by source, within its bounds.
type tally struct {
	entries    int
	bySource   map[sourceKey]int
	cut        Cut
	maxEntries int
	maxSources int
}

func newTally() *tally {
	return &tally{bySource: map[sourceKey]int{}, maxEntries: MaxSourceEntries, maxSources: MaxSources}
}

var errMalformed = errors.New("malformed netlink message")

// read takes one receive's messages of the dump with sequence number seq.
// done: the dump ended (NLMSG_DONE), failed (err) or reached a bound.
func (t *tally) read(b []byte, seq uint32) (done bool, err error) {
	ne := binary.NativeEndian
	for len(b) >= nlmsgHdrLen {
		n := int(ne.Uint32(b[0:]))
		if n < nlmsgHdrLen || n > len(b) {
			return true, errMalformed
		}
		typ, flags, s := ne.Uint16(b[4:]), ne.Uint16(b[6:]), ne.Uint32(b[8:])
		payload := b[nlmsgHdrLen:n]
		b = b[min(align4(n), len(b)):]
		if s != seq {
			continue // not an answer to our request
		}
		if flags&nlmFDumpIntr != 0 {
			t.cut |= CutInterrupted
		}
		switch typ {
		case nlmsgDone:
			if len(payload) >= 4 {
				if code := int32(ne.Uint32(payload)); code < 0 {
					return true, fmt.Errorf("dump: %w", syscall.Errno(-code))
				}
			}
			return true, nil
		case nlmsgError:
			if len(payload) < 4 {
				return true, errMalformed
			}
			if code := int32(ne.Uint32(payload)); code < 0 {
				return true, fmt.Errorf("dump: %w", syscall.Errno(-code))
			}
		case nfnlSubsysCtnetlink<<8 | ipctnlMsgCtNew:
			if t.entries == t.maxEntries {
				t.cut |= CutEntries
				return true, nil
			}
			t.entry(payload)
		}
	}
	return false, nil
}

// entry counts one conntrack entry: nfgenmsg, then its attributes.
func (t *tally) entry(payload []byte) {
	t.entries++
	if len(payload) < nfgenmsgLen {
		return
	}
	orig := attr(payload[nfgenmsgLen:], ctaTupleOrig)
	ip, proto := attr(orig, ctaTupleIP), attr(orig, ctaTupleProto)
	num := attr(proto, ctaProtoNum)
	var k sourceKey
	if a := attr(ip, ctaIPV4Src); len(a) == 4 {
		copy(k.addr[:], a)
	} else if a := attr(ip, ctaIPV6Src); len(a) == 16 {
		copy(k.addr[:], a)
		k.v6 = true
	} else {
		return // no source: counted, not kept
	}
	if len(num) >= 1 {
		k.proto = num[0]
	}
	if c, ok := t.bySource[k]; ok {
		t.bySource[k] = c + 1
	} else if len(t.bySource) < t.maxSources {
		t.bySource[k] = 1
	} else {
		t.cut |= CutSources
	}
}

// attr is the payload of the first attribute of type typ in b, nil if none.
func attr(b []byte, typ uint16) []byte {
	ne := binary.NativeEndian
	for len(b) >= nlaHdrLen {
		n := int(ne.Uint16(b[0:]))
		if n < nlaHdrLen || n > len(b) {
			return nil
		}
		if ne.Uint16(b[2:])&nlaTypeMask == typ {
			return b[nlaHdrLen:n]
		}
		b = b[min(align4(n), len(b)):]
	}
	return nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// sources is the tally's result: the TopSources with the most entries,
// ties by address, then protocol, so that runs agree.
func (t *tally) sources() Sources {
	all := make([]Source, 0, len(t.bySource))
	for k, n := range t.bySource {
		a := netip.AddrFrom16(k.addr)
		if !k.v6 {
			a = netip.AddrFrom4([4]byte(k.addr[:4]))
		}
		all = append(all, Source{Addr: a, Proto: k.proto, Entries: n})
	}
	slices.SortFunc(all, func(a, b Source) int {
		return cmp.Or(cmp.Compare(b.Entries, a.Entries), a.Addr.Compare(b.Addr), cmp.Compare(a.Proto, b.Proto))
	})
	return Sources{Entries: t.entries, Cut: t.cut, Top: all[:min(len(all), TopSources)]}
}

// wire is a netlink socket as the dump uses it: tests fake it.
type wire interface {
	send(b []byte) error
	// receive reads one datagram, giving up at deadline (zero: never)
	// with errDeadline.
	receive(b []byte, deadline time.Time) (int, error)
}

var errDeadline = errors.New("deadline passed")

// passed reports whether deadline (zero: none) has come.
func passed(deadline time.Time) bool { return !deadline.IsZero() && !time.Now().Before(deadline) }

// receiveBuffer holds one datagram of a dump: the kernel fills up to
// 32 KiB (NLMSG_GOODSIZE on 4 KiB pages is less).
const receiveBuffer = 64 << 10

// dump asks w for the conntrack table and tallies what comes until the
// dump ends, a bound stops it or the deadline passes.
func dump(w wire, deadline time.Time, t *tally) error {
	const seq = 1
	if passed(deadline) {
		t.cut |= CutDeadline // no dump begun after it
		return nil
	}
	if err := w.send(dumpRequest(seq)); err != nil {
		return err
	}
	buf := make([]byte, receiveBuffer)
	for {
		if passed(deadline) {
			t.cut |= CutDeadline
			return nil
		}
		n, err := w.receive(buf, deadline)
		if errors.Is(err, errDeadline) {
			t.cut |= CutDeadline
			return nil
		}
		if err != nil {
			return err
		}
		if done, err := t.read(buf[:n], seq); done || err != nil {
			return err
		}
	}
}

// sourcesOver tallies the table w dumps.
func sourcesOver(w wire, deadline time.Time) Sources {
	t := newTally()
	if err := dump(w, deadline, t); err != nil {
		return Sources{Err: err.Error(), NeedsCap: errors.Is(err, syscall.EPERM)}
	}
	return t.sources()
}
