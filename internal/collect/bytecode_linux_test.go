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
