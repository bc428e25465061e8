package collect

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// runBytecode is the kernel's inet_diag_bc_run and inet_diag_bc_audit
// (net/ipv4/inet_diag.c), for the ops we emit: it checks that every jump
// lands on an op, then runs the program on one socket.
func runBytecode(t *testing.T, prog []byte, family uint8, src, dst netip.Addr, sport, dport uint16) bool {
	t.Helper()
	ne := binary.NativeEndian
	// The audit: walking by "yes" must visit every jump target.
	ops := map[int]bool{len(prog): true, len(prog) + 4: true}
	for at := 0; at < len(prog); at += int(prog[at+1]) {
		ops[at] = true
		if prog[at+1] < 4 || prog[at+1]%4 != 0 {
			t.Fatalf("op at %d: yes %d", at, prog[at+1])
		}
	}
	for at := 0; at < len(prog); at += int(prog[at+1]) {
		if no := int(ne.Uint16(prog[at+2:])); !ops[at+no] || no%4 != 0 {
			t.Fatalf("op at %d: no %d lands between ops", at, no)
		}
	}
	addr16 := func(a netip.Addr) [16]byte { return a.As16() }
	at := 0
	for at < len(prog) {
		code, yes, no := prog[at], int(prog[at+1]), int(ne.Uint16(prog[at+2:]))
		ok := true
		switch code {
		case bcJmp:
			ok = false
		case bcSGE, bcSLE, bcDGE, bcDLE:
			p := ne.Uint16(prog[at+6:])
			port := sport
			if code == bcDGE || code == bcDLE {
				port = dport
			}
			if code == bcSGE || code == bcDGE {
				ok = port >= p
			} else {
				ok = port <= p
			}
		case bcSCond, bcDCond:
			cfamily, bits := prog[at+4], int(prog[at+5])
			a := src
			if code == bcDCond {
				a = dst
			}
			var want []byte
			got := addr16(a)
			have := got[:]
			if cfamily == 2 { // AF_INET
				want = prog[at+12 : at+16]
				if family == 10 && !a.Is4In6() {
					ok = false
					break
				}
				have = got[12:]
			} else {
				want = prog[at+12 : at+28]
				if family != 10 {
					ok = false
					break
				}
			}
			for i := 0; i < bits; i++ {
				if (have[i/8]>>(7-i%8))&1 != (want[i/8]>>(7-i%8))&1 {
					ok = false
					break
				}
			}
		default:
			t.Fatalf("unknown op %d", code)
		}
		if ok {
			at += yes
		} else {
			at += no
		}
	}
	return at == len(prog)
}

func TestBytecode(t *testing.T) {
	v4 := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	pr := func(s string) netip.Prefix { p, _ := ParsePrefix(s); return p }
	filters := []Filter{
		{Local: Endpoint{Ports: []PortRange{{443, 443}}}},
		{Local: Endpoint{Ports: []PortRange{{80, 80}, {8000, 8100}}}},
		{Remote: Endpoint{Ports: []PortRange{{5432, 5432}}}, Local: Endpoint{Prefixes: []netip.Prefix{pr("10.0.0.0/8"), pr("::1")}}},
		{Local: Endpoint{Ports: []PortRange{{1, 1024}}, Prefixes: []netip.Prefix{pr("127.0.0.1")}}, Remote: Endpoint{Ports: []PortRange{{9, 9}, {20, 30}}, Prefixes: []netip.Prefix{pr("fd00::/8"), pr("192.168.0.0/16")}}},
	}
	sockets := []struct {
		family       uint8
		src, dst     netip.Addr
		sport, dport uint16
	}{
		{2, v4("127.0.0.1"), v4("127.0.0.1"), 443, 40000},
		{2, v4("10.1.2.3"), v4("192.168.1.1"), 80, 5432},
		{2, v4("127.0.0.1"), v4("192.168.9.9"), 1024, 25},
		{2, v4("127.0.0.1"), v4("192.169.9.9"), 1024, 25},
		{10, v4("::1"), v4("fd12::1"), 8050, 9},
		{10, v4("::ffff:10.0.0.1"), v4("::ffff:127.0.0.1"), 8100, 5432},
		{10, v4("::ffff:127.0.0.1"), v4("::ffff:192.168.0.1"), 7, 30},
		{10, v4("2001:db8::1"), v4("::1"), 8101, 5432},
	}
	for i, f := range filters {
		prog := bytecode(f)
		for _, s := range sockets {
			want := f.Local.Match(s.src, s.sport) && f.Remote.Match(s.dst, s.dport)
			if got := runBytecode(t, prog, s.family, s.src, s.dst, s.sport, s.dport); got != want {
				t.Errorf("filter %d on %v:%d -> %v:%d: bytecode %v, Match %v", i, s.src, s.sport, s.dst, s.dport, got, want)
			}
		}
	}
	if bytecode(Filter{}) != nil {
		t.Error("no endpoints: want no bytecode")
	}
}

// Thousands of values: merged, the program stays exact; past what the kernel
// takes, the dump filters here, and both agree with Match on the raw lists.
func TestManyValues(t *testing.T) {
	pr := func(s string) netip.Prefix { p, _ := ParsePrefix(s); return p }
	repeat := func(n int, p netip.Prefix) []netip.Prefix {
		out := make([]netip.Prefix, n)
		for i := range out {
			out[i] = p
		}
		return out
	}
	var odd []PortRange // 3300 ports that touch no other: nothing to merge
	for p := uint16(1); p < 6600; p += 2 {
		odd = append(odd, PortRange{p, p})
	}
	var v6 []netip.Prefix // 4000 /128s and a /120 holding 256 of them
	for i := range 4000 {
		v6 = append(v6, netip.PrefixFrom(netip.AddrFrom16([16]byte{0: 0xfd, 15: byte(i), 14: byte(i >> 8)}), 128))
	}
	v6 = append(v6, pr("fd00::/120"), pr("::1"), pr("127.0.0.0/8"), pr("127.0.0.1"))
	tests := []struct {
		name      string
		f         Filter
		inProcess bool
		ports     int // after merging
		prefixes  int
	}{
		{"::1 x2048", Filter{Local: Endpoint{Prefixes: repeat(2048, pr("::1"))}}, false, 0, 1},
		{"fd00::9 and ::1 x2048", Filter{Local: Endpoint{Prefixes: append([]netip.Prefix{pr("fd00::9")}, repeat(2048, pr("::1"))...)}}, false, 0, 2},
		{"port 9090 x3277", Filter{Local: Endpoint{Ports: slicesRepeat(PortRange{9090, 9090}, 3277)}}, false, 1, 0},
		{"ports 1-100 one by one", Filter{Local: Endpoint{Ports: func() (r []PortRange) {
			for p := uint16(100); p >= 1; p-- {
				r = append(r, PortRange{p, p})
			}
			return r
		}()}}, false, 1, 0},
		{"3276 odd ports fit", Filter{Local: Endpoint{Ports: odd[:3276]}}, false, 3276, 0},
		{"3277 odd ports do not", Filter{Local: Endpoint{Ports: odd[:3277]}}, true, 3277, 0},
		{"4000 addresses", Filter{Remote: Endpoint{Prefixes: v6}}, true, 0, 4000 - 256 + 1 + 1 + 1},
	}
	sockets := []struct {
		family       uint8
		src, dst     netip.Addr
		sport, dport uint16
	}{
		{2, pr("127.0.0.1").Addr(), pr("127.0.0.1").Addr(), 9090, 1},
		{2, pr("127.0.0.5").Addr(), pr("127.0.0.5").Addr(), 6553, 0},
		{10, pr("::1").Addr(), pr("::1").Addr(), 3277, 50},
		{10, pr("fd00::9").Addr(), pr("fd00::ff").Addr(), 6554, 100},
		{10, pr("fd00::1:9").Addr(), pr("fd00::f00").Addr(), 101, 6551},
		{10, pr("::ffff:127.0.0.9").Addr(), pr("::ffff:127.0.0.1").Addr(), 65535, 3},
		{10, pr("fd00::1:0").Addr(), pr("fd00::1:0").Addr(), 2, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := kernelFilter(tt.f)
			if k.inProcess != tt.inProcess || len(k.Local.Ports)+len(k.Remote.Ports) != tt.ports || len(k.Local.Prefixes)+len(k.Remote.Prefixes) != tt.prefixes {
				t.Fatalf("in process %v, %d ports, %d prefixes; want %v, %d, %d", k.inProcess, len(k.Local.Ports)+len(k.Remote.Ports),
					len(k.Local.Prefixes)+len(k.Remote.Prefixes), tt.inProcess, tt.ports, tt.prefixes)
			}
			if !k.inProcess && len(k.prog) > maxBytecode || k.inProcess && k.prog != nil {
				t.Fatalf("program of %d bytes, in process %v", len(k.prog), k.inProcess)
			}
			for _, s := range sockets {
				want := tt.f.Local.Match(s.src, s.sport) && tt.f.Remote.Match(s.dst, s.dport)
				if got := k.Local.Match(s.src, s.sport) && k.Remote.Match(s.dst, s.dport); got != want {
					t.Errorf("%v:%d -> %v:%d: merged %v, as given %v", s.src, s.sport, s.dst, s.dport, got, want)
				}
				if got := matchDiagMsg(diagMsg(s.family, s.src, s.dst, s.sport, s.dport), k); got != want {
					t.Errorf("%v:%d -> %v:%d: in process %v, want %v", s.src, s.sport, s.dst, s.dport, got, want)
				}
				if !k.inProcess {
					if got := runBytecode(t, k.prog, s.family, s.src, s.dst, s.sport, s.dport); got != want {
						t.Errorf("%v:%d -> %v:%d: bytecode %v, want %v", s.src, s.sport, s.dst, s.dport, got, want)
					}
				}
			}
		})
	}
}

func slicesRepeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// diagMsg is an inet_diag_msg with a socket's addresses and ports.
func diagMsg(family uint8, src, dst netip.Addr, sport, dport uint16) []byte {
	msg := make([]byte, inetDiagMsgLen)
	msg[0] = family
	binary.BigEndian.PutUint16(msg[4:], sport)
	binary.BigEndian.PutUint16(msg[6:], dport)
	put := func(at int, a netip.Addr) {
		if family == 2 {
			b := a.Unmap().As4()
			copy(msg[at:], b[:])
		} else {
			b := a.As16()
			copy(msg[at:], b[:])
		}
	}
	put(8, src)
	put(24, dst)
	return msg
}
