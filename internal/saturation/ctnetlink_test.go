package saturation

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"syscall"
	"testing"
	"time"
)

// The wire as the kernel writes it, built by hand from the uapi headers.

// nla is an attribute holding the bytes of its children (nested when
// there is more than a value), padded to 4.
func nla(typ uint16, children ...[]byte) []byte {
	payload := slices.Concat(children...)
	b := make([]byte, nlaHdrLen, align4(nlaHdrLen+len(payload)))
	binary.NativeEndian.PutUint16(b[0:], uint16(nlaHdrLen+len(payload)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	b = append(b, payload...)
	return append(b, make([]byte, cap(b)-len(b))...)
}

func nested(typ uint16, children ...[]byte) []byte { return nla(typ|nlaFNested, children...) }

func nlmsg(typ, flags uint16, seq uint32, payload []byte) []byte {
	b := make([]byte, nlmsgHdrLen, align4(nlmsgHdrLen+len(payload)))
	binary.NativeEndian.PutUint32(b[0:], uint32(nlmsgHdrLen+len(payload)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	binary.NativeEndian.PutUint32(b[8:], seq)
	b = append(b, payload...)
	return append(b, make([]byte, cap(b)-len(b))...)
}

// tuple is a CTA_TUPLE_IP and CTA_TUPLE_PROTO from src to dst.
func tuple(typ uint16, src, dst netip.Addr, proto uint8) []byte {
	srcAttr, dstAttr := uint16(ctaIPV4Src), uint16(ctaIPV4Src+1)
	if src.Is6() {
		srcAttr, dstAttr = ctaIPV6Src, ctaIPV6Src+1
	}
	be16 := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	return nested(typ,
		nested(ctaTupleIP, nla(srcAttr, src.AsSlice()), nla(dstAttr, dst.AsSlice())),
		nested(ctaTupleProto, nla(ctaProtoNum, []byte{proto}), nla(2|nlaFNetByteorder, be16(40000)), nla(3|nlaFNetByteorder, be16(80))))
}

// entry is an IPCTNL_MSG_CT_NEW as a dump carries it: the reply tuple
// first (the kernel puts it second) so that a decoder reading the wrong
// one fails, then the original, then CTA_STATUS.
func entry(seq uint32, flags uint16, src string, proto uint8) []byte {
	s := netip.MustParseAddr(src)
	dst, family := netip.MustParseAddr("192.0.2.1"), byte(syscall.AF_INET)
	if s.Is6() {
		dst, family = netip.MustParseAddr("2001:db8::1"), syscall.AF_INET6
	}
	payload := slices.Concat([]byte{family, nfnetlinkV0, 0, 0},
		tuple(2, dst, netip.MustParseAddr(map[bool]string{false: "198.51.100.9", true: "2001:db8::9"}[s.Is6()]), proto),
		tuple(ctaTupleOrig, s, dst, proto),
		nla(3|nlaFNetByteorder, binary.BigEndian.AppendUint32(nil, 0x8)))
	return nlmsg(nfnlSubsysCtnetlink<<8|ipctnlMsgCtNew, flags|0x2 /* NLM_F_MULTI */, seq, payload)
}

func done(seq uint32, code int32) []byte {
	return nlmsg(nlmsgDone, 0x2, seq, binary.NativeEndian.AppendUint32(nil, uint32(code)))
}

func nlerror(seq uint32, code int32) []byte {
	return nlmsg(nlmsgError, 0, seq, slices.Concat(binary.NativeEndian.AppendUint32(nil, uint32(code)), dumpRequest(seq)[:nlmsgHdrLen]))
}

// entries is n entries from src.
func entries(n int, src string, proto uint8) []byte {
	var b []byte
	for range n {
		b = append(b, entry(1, 0, src, proto)...)
	}
	return b
}

// fakeWire answers the request with its datagrams, then runs out (as a
// deadline would).
type fakeWire struct {
	sent      [][]byte
	datagrams [][]byte
}

func (w *fakeWire) send(b []byte) error { w.sent = append(w.sent, slices.Clone(b)); return nil }

func (w *fakeWire) receive(b []byte, _ time.Time) (int, error) {
	if len(w.datagrams) == 0 {
		return 0, errDeadline
	}
	n := copy(b, w.datagrams[0])
	w.datagrams = w.datagrams[1:]
	return n, nil
}

func top(s ...string) []string { return s }

func TestSourcesTally(t *testing.T) {
	const tcp, udp, icmpv6 = 6, 17, 58
	first := slices.Concat(entries(3, "10.0.3.7", tcp), entries(2, "10.0.3.9", udp), entries(4, "2001:db8::7", tcp))
	second := slices.Concat(entries(1, "2001:db8::8", icmpv6), entries(2, "10.0.3.7", udp), entries(1, "10.0.3.10", 250))
	mixed := slices.Concat(first, second)
	tests := []struct {
		name                   string
		datagrams              [][]byte
		maxEntries, maxSources int
		deadline               time.Time
		entries                int
		top                    []string
		cut                    Cut
		err                    string
		needsCap               bool
		unsent                 bool // no request: the deadline had passed
	}{
		{name: "v4 and v6 to NLMSG_DONE, in two reads", datagrams: [][]byte{first, slices.Concat(second, done(1, 0))},
			entries: 13, top: top("2001:db8::7 tcp 4", "10.0.3.7 tcp 3", "10.0.3.7 udp 2", "10.0.3.9 udp 2", "10.0.3.10 250 1")},
		{name: "ties by address, then protocol", datagrams: [][]byte{slices.Concat(entries(1, "10.0.0.2", udp), entries(1, "10.0.0.1", udp),
			entries(1, "::1", tcp), entries(1, "10.0.0.1", tcp), done(1, 0))},
			entries: 4, top: top("10.0.0.1 tcp 1", "10.0.0.1 udp 1", "10.0.0.2 udp 1", "::1 tcp 1")},
		{name: "another request's messages are not ours", datagrams: [][]byte{slices.Concat(entry(7, 0, "10.9.9.9", tcp), entries(1, "10.0.0.1", tcp), done(7, 0), done(1, 0))},
			entries: 1, top: top("10.0.0.1 tcp 1")},
		{name: "an empty table", datagrams: [][]byte{done(1, 0)}, top: top()},
		{name: "NLMSG_ERROR EPERM: needs CAP_NET_ADMIN", datagrams: [][]byte{nlerror(1, -int32(syscall.EPERM))},
			err: "dump: " + syscall.EPERM.Error(), needsCap: true},
		{name: "NLMSG_ERROR after entries", datagrams: [][]byte{slices.Concat(entries(2, "10.0.0.1", tcp), nlerror(1, -int32(syscall.ENOMEM)))},
			err: "dump: " + syscall.ENOMEM.Error()},
		{name: "NLMSG_DONE carrying an error", datagrams: [][]byte{slices.Concat(entries(1, "10.0.0.1", tcp), done(1, -int32(syscall.EINVAL)))},
			err: "dump: " + syscall.EINVAL.Error()},
		{name: "an acknowledgement is no error", datagrams: [][]byte{slices.Concat(nlerror(1, 0), entries(1, "10.0.0.1", tcp), done(1, 0))},
			entries: 1, top: top("10.0.0.1 tcp 1")},
		{name: "NLM_F_DUMP_INTR: possibly inexact", datagrams: [][]byte{slices.Concat(entries(1, "10.0.0.1", tcp), entry(1, nlmFDumpIntr, "10.0.0.2", tcp), done(1, 0))},
			entries: 2, top: top("10.0.0.1 tcp 1", "10.0.0.2 tcp 1"), cut: CutInterrupted},
		{name: "the entry bound stops the dump", datagrams: [][]byte{mixed, done(1, 0)}, maxEntries: 4,
			entries: 4, top: top("10.0.3.7 tcp 3", "10.0.3.9 udp 1"), cut: CutEntries},
		{name: "as many entries as the bound: whole", datagrams: [][]byte{slices.Concat(entries(3, "10.0.0.1", tcp), done(1, 0))}, maxEntries: 3,
			entries: 3, top: top("10.0.0.1 tcp 3")},
		{name: "the source bound keeps the first sources, counts every entry", datagrams: [][]byte{slices.Concat(entries(1, "10.0.0.1", tcp),
			entries(1, "10.0.0.2", tcp), entries(5, "10.0.0.3", tcp), entries(2, "10.0.0.1", tcp), done(1, 0))}, maxSources: 2,
			entries: 9, top: top("10.0.0.1 tcp 3", "10.0.0.2 tcp 1"), cut: CutSources},
		{name: "the deadline passes before the end", datagrams: [][]byte{entries(2, "10.0.0.1", tcp)},
			entries: 2, top: top("10.0.0.1 tcp 2"), cut: CutDeadline},
		{name: "the deadline passed before the dump: none begins", datagrams: [][]byte{entries(2, "10.0.0.1", tcp)}, deadline: time.Unix(1, 0),
			top: top(), cut: CutDeadline, unsent: true},
		{name: "a message longer than the read", datagrams: [][]byte{entry(1, 0, "10.0.0.1", tcp)[:30]}, err: errMalformed.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &fakeWire{datagrams: tt.datagrams}
			tl := newTally()
			if tt.maxEntries > 0 {
				tl.maxEntries = tt.maxEntries
			}
			if tt.maxSources > 0 {
				tl.maxSources = tt.maxSources
			}
			err := dump(w, tt.deadline, tl)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %s", err, tt.err)
				}
				if got := errors.Is(err, syscall.EPERM); got != tt.needsCap {
					t.Fatalf("errors.Is(%v, EPERM) = %v", err, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := tl.sources()
			var got []string
			for _, src := range s.Top {
				got = append(got, fmt.Sprintf("%s %s %d", src.Addr, src.Protocol(), src.Entries))
			}
			if s.Entries != tt.entries || !slices.Equal(got, tt.top) || s.Cut != tt.cut {
				t.Fatalf("%d entries, top %q, cut %b; want %d, %q, cut %b", s.Entries, got, s.Cut, tt.entries, tt.top, tt.cut)
			}
			if tt.unsent {
				if len(w.sent) != 0 {
					t.Fatalf("sent %x after the deadline", w.sent)
				}
				return
			}
			if len(w.sent) != 1 || !slices.Equal(w.sent[0], dumpRequest(1)) {
				t.Fatalf("sent %x, want one dump request", w.sent)
			}
		})
	}
}

// sourcesOver says the capability is missing apart from other errors.
func TestSourcesNeedCap(t *testing.T) {
	s := sourcesOver(&fakeWire{datagrams: [][]byte{nlerror(1, -int32(syscall.EPERM))}}, time.Time{})
	if !s.NeedsCap || s.Err == "" {
		t.Fatalf("%+v: want NeedsCap", s)
	}
	s = sourcesOver(&fakeWire{datagrams: [][]byte{nlerror(1, -int32(syscall.EOPNOTSUPP))}}, time.Time{})
	if s.NeedsCap || s.Err != "dump: "+syscall.EOPNOTSUPP.Error() {
		t.Fatalf("%+v: want the error, not NeedsCap", s)
	}
}

// The request: nlmsghdr (length 20, IPCTNL_MSG_CT_GET of ctnetlink,
// NLM_F_REQUEST|NLM_F_DUMP, the sequence, pid 0) and nfgenmsg (AF_UNSPEC,
// NFNETLINK_V0, res_id 0), in host byte order as netlink wants it.
func TestDumpRequest(t *testing.T) {
	b := dumpRequest(42)
	ne := binary.NativeEndian
	got := []uint64{uint64(len(b)), uint64(ne.Uint32(b[0:])), uint64(ne.Uint16(b[4:])), uint64(ne.Uint16(b[6:])),
		uint64(ne.Uint32(b[8:])), uint64(ne.Uint32(b[12:])), uint64(b[16]), uint64(b[17]), uint64(binary.BigEndian.Uint16(b[18:]))}
	want := []uint64{20, 20, 0x101, 0x301, 42, 0, 0, 0, 0}
	if !slices.Equal(got, want) {
		t.Fatalf("request %x: fields %v, want %v", b, got, want)
	}
}

func TestProtocolNames(t *testing.T) {
	for p, want := range map[uint8]string{1: "icmp", 6: "tcp", 17: "udp", 33: "dccp", 47: "gre", 58: "icmpv6", 132: "sctp", 136: "udplite", 0: "0", 250: "250"} {
		if got := (Source{Proto: p}).Protocol(); got != want {
			t.Errorf("protocol %d: %s, want %s", p, got, want)
		}
	}
}

// The sink dumps a table only when the ranges alert on its percent.
func TestConntrackPct(t *testing.T) {
	for _, c := range []struct {
		c    Conntrack
		want float64
	}{{Conntrack{Loaded: true, Count: 239060, Max: 262144}, 91.1942}, {Conntrack{Loaded: true, Count: 1, Max: 262144}, 0.0004},
		{Conntrack{Loaded: false, Count: 5, Max: 10}, 0}, {Conntrack{Loaded: true, Count: 5}, 0}} {
		if got := c.c.Pct(); got != c.want {
			t.Errorf("%+v: %v%%, want %v%%", c.c, got, c.want)
		}
	}
}

// BenchmarkSourcesTally is a dump's cost per entry: 100,000 entries from
// 1,000 sources, v4 and v6, read in the kernel's 32 KiB datagrams.
func BenchmarkSourcesTally(b *testing.B) {
	var datagrams [][]byte
	var cur []byte
	for i := range 100_000 {
		src := netip.AddrFrom4([4]byte{10, 0, byte(i % 1000 / 256), byte(i % 1000)}).String()
		if i%4 == 0 {
			src = fmt.Sprintf("2001:db8::%x", i%1000)
		}
		e := entry(1, 0, src, uint8(6+11*(i%2)))
		if len(cur)+len(e) > 32<<10 {
			datagrams, cur = append(datagrams, cur), nil
		}
		cur = append(cur, e...)
	}
	datagrams = append(datagrams, append(cur, done(1, 0)...))
	b.ResetTimer()
	for b.Loop() {
		t := newTally()
		for _, d := range datagrams {
			if _, err := t.read(d, 1); err != nil {
				b.Fatal(err)
			}
		}
		if s := t.sources(); s.Entries != 100_000 {
			b.Fatal(s.Entries)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100_000/1000, "µs/entry")
}

// FuzzSourcesTally: whatever a read holds, the tally neither panics nor
// counts past its bounds.
func FuzzSourcesTally(f *testing.F) {
	f.Add(slices.Concat(entries(2, "10.0.0.1", 6), entry(1, nlmFDumpIntr, "2001:db8::1", 17), done(1, 0)))
	f.Add(nlerror(1, -int32(syscall.EPERM)))
	f.Add(entry(1, 0, "10.0.0.1", 6)[:24])
	f.Fuzz(func(t *testing.T, b []byte) {
		tl := newTally()
		tl.maxEntries, tl.maxSources = 3, 2
		tl.read(b, 1)
		if s := tl.sources(); s.Entries > 3 || len(s.Top) > 2 {
			t.Fatalf("%+v past the bounds", s)
		}
	})
}
