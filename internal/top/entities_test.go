package top

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/network-connections/network-connections/internal/sock"
)

func TestTally(t *testing.T) {
	ap := netip.MustParseAddrPort
	mk := func(typ sock.Type, st sock.Status, local, remote string) sock.Socket {
		return sock.Socket{Type: typ, Status: st, Local: ap(local), Remote: ap(remote)}
	}
	est, listen := sock.Established, sock.Listen
	sockets := []sock.Socket{
		mk(sock.TCP, est, "10.0.0.1:443", "203.0.113.7:5000"),
		mk(sock.TCP, est, "10.0.0.1:443", "203.0.113.7:5001"),
		mk(sock.TCP, sock.SynRecv, "10.0.0.1:443", "203.0.113.7:5002"),
		mk(sock.TCP6, est, "[::ffff:10.0.0.1]:443", "[::ffff:203.0.113.9]:6000"), // mapped: an IPv4 peer
		mk(sock.TCP6, est, "[2001:db8::1]:443", "[2001:db8::5]:6000"),
		mk(sock.TCP6, est, "[2001:db8::1]:443", "[2001:db8::1:5]:6001"),
		mk(sock.TCP, listen, "0.0.0.0:443", "0.0.0.0:0"),   // no peer
		mk(sock.UDP, sock.None, "0.0.0.0:53", "0.0.0.0:0"), // no peer
		{Type: sock.Unix, Status: est},                     // no addresses
	}
	all := Scope{Labels: []string{"tcp ESTABLISHED", "tcp SYN RECV", "tcp6 ESTABLISHED", "tcp LISTEN", "udp NONE"}}
	all.GroupOf = func(typ sock.Type, st sock.Status) (int, bool) {
		for i, l := range all.Labels {
			if l == fmt.Sprintf("%s %s", typ, map[sock.Status]string{est: "ESTABLISHED", sock.SynRecv: "SYN RECV", listen: "LISTEN", sock.None: "NONE"}[st]) {
				return i, true
			}
		}
		return 0, false
	}
	tests := []struct {
		key   Key
		bits4 int
		bits6 int
		want  string
	}{
		{ByRemoteAddress, 24, 64, "203.0.113.7=3[2 tcp ESTABLISHED,1 tcp SYN RECV] 203.0.113.9=1[1 tcp6 ESTABLISHED] 2001:db8::5=1[1 tcp6 ESTABLISHED] 2001:db8::1:5=1[1 tcp6 ESTABLISHED]"},
		{ByRemoteNetwork, 24, 64, "203.0.113.0/24=4[2 tcp ESTABLISHED,1 tcp SYN RECV,1 tcp6 ESTABLISHED] 2001:db8::/64=2[2 tcp6 ESTABLISHED]"},
		{ByRemoteNetwork, 32, 112, "203.0.113.7/32=3[2 tcp ESTABLISHED,1 tcp SYN RECV] 203.0.113.9/32=1[1 tcp6 ESTABLISHED] 2001:db8::/112=1[1 tcp6 ESTABLISHED] 2001:db8::1:0/112=1[1 tcp6 ESTABLISHED]"},
		{ByLocalPort, 24, 64, "443=7[3 tcp6 ESTABLISHED,2 tcp ESTABLISHED,1 tcp LISTEN,1 tcp SYN RECV] 53=1[1 udp NONE]"},
		{ByRemotePort, 24, 64, "6000=2[2 tcp6 ESTABLISHED] 5000=1[1 tcp ESTABLISHED] 5001=1[1 tcp ESTABLISHED] 5002=1[1 tcp SYN RECV] 6001=1[1 tcp6 ESTABLISHED]"},
	}
	for _, tt := range tests {
		tl := NewTally(tt.key, tt.bits4, tt.bits6, false, "host")
		// A dump the kernel interrupted, then its retry: counted once.
		for _, s := range sockets[:3] {
			tl.Add(s)
		}
		tl.Restart()
		for _, s := range sockets {
			tl.Add(s)
		}
		tl.Done()
		var got string
		for i, e := range tl.Entities(all) {
			if i > 0 {
				got += " "
			}
			got += fmt.Sprintf("%s=%d[", e.Name, e.Total)
			for j, g := range e.Groups {
				if j > 0 {
					got += ","
				}
				got += fmt.Sprintf("%d %s", g.Count, g.Label)
			}
			got += "]"
		}
		if got != tt.want {
			t.Errorf("%s /%d /%d:\n got %s\nwant %s", tt.key, tt.bits4, tt.bits6, got, tt.want)
		}
	}
}

func TestKeys(t *testing.T) {
	for _, k := range []Key{ByProcess, ByRemoteAddress, ByRemoteNetwork, ByLocalPort, ByRemotePort, ByNetns} {
		if got, err := ParseKey(k.String()); got != k || err != nil {
			t.Errorf("ParseKey(%q) = %v, %v", k, got, err)
		}
	}
	if _, err := ParseKey("namespace"); err == nil {
		t.Error("namespace: want an error")
	}
	for k, want := range map[Key]string{ByRemoteAddress: "2 remote addresses", ByLocalPort: "2 local ports", ByRemoteNetwork: "2 remote networks", ByNetns: "2 network namespaces"} {
		if got := k.Noun(2); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if got := ByRemoteAddress.Noun(1); got != "1 remote address" {
		t.Errorf("%q", got)
	}
}

// Under --netns all each namespace counts on a Tally of its own: loopback
// and link-local peers stay apart by namespace (and link) whatever the
// grouping, other keys are summed unless the grouping tells namespaces.
func TestTallyNamespaces(t *testing.T) {
	est := sock.Established
	scope := Scope{Labels: []string{"tcp ESTABLISHED", "tcp6 ESTABLISHED"}}
	scope.GroupOf = func(typ sock.Type, st sock.Status) (int, bool) {
		return int(typ), st == est && typ <= sock.TCP6
	}
	mk := func(typ sock.Type, local, remote netip.AddrPort) sock.Socket {
		return sock.Socket{Type: typ, Status: est, Local: local, Remote: remote}
	}
	ap := netip.MustParseAddrPort
	zoned := func(addr string, zone string, port uint16) netip.AddrPort {
		return netip.AddrPortFrom(netip.MustParseAddr(addr).WithZone(zone), port)
	}
	// Five pods, each with 2 connections to its own 127.0.0.1:5432 and one
	// to the shared database 10.0.0.9:5432; two of them reach fe80::2 on
	// links of the same index in their own namespace, a third on link 3.
	fill := func(tl *Tally, perNetns bool) {
		for i := range 5 {
			s := tl.For(uint64(100+i), fmt.Sprintf("pod ns/p%d", i))
			for range 2 {
				s.Add(mk(sock.TCP, ap("127.0.0.1:40000"), ap("127.0.0.1:5432")))
			}
			s.Add(mk(sock.TCP, ap("10.1.0.1:40001"), ap("10.0.0.9:5432")))
			if i < 2 {
				s.Add(mk(sock.TCP6, zoned("fe80::1", "2", 40002), zoned("fe80::2", "2", 22)))
			}
			if i == 2 {
				s.Add(mk(sock.TCP6, zoned("fe80::1", "3", 40002), zoned("fe80::2", "3", 22)))
			}
			s.Done()
		}
		gone := tl.For(999, "pod gone/x") // stopped while counted
		gone.Add(mk(sock.TCP, ap("10.1.0.1:1"), ap("10.0.0.9:5432")))
		gone.Done()
		tl.Drop(999)
	}
	show := func(es []Entity) string {
		var parts []string
		for _, e := range es {
			n := e.Name
			if e.Netns != "" {
				n = e.Netns + ": " + n
			}
			parts = append(parts, fmt.Sprintf("%s=%d", n, e.Total))
		}
		return strings.Join(parts, " ")
	}
	tests := []struct {
		key      Key
		perNetns bool
		want     string
	}{
		{ByRemoteAddress, false, "10.0.0.9=5 pod ns/p0: 127.0.0.1=2 pod ns/p1: 127.0.0.1=2 pod ns/p2: 127.0.0.1=2 pod ns/p3: 127.0.0.1=2 pod ns/p4: 127.0.0.1=2 " +
			"pod ns/p0: fe80::2%2=1 pod ns/p1: fe80::2%2=1 pod ns/p2: fe80::2%3=1"},
		{ByRemoteAddress, true, "pod ns/p0: 127.0.0.1=2 pod ns/p1: 127.0.0.1=2 pod ns/p2: 127.0.0.1=2 pod ns/p3: 127.0.0.1=2 pod ns/p4: 127.0.0.1=2 " +
			"pod ns/p0: 10.0.0.9=1 pod ns/p1: 10.0.0.9=1 pod ns/p2: 10.0.0.9=1 pod ns/p3: 10.0.0.9=1 pod ns/p4: 10.0.0.9=1 " +
			"pod ns/p0: fe80::2%2=1 pod ns/p1: fe80::2%2=1 pod ns/p2: fe80::2%3=1"},
		{ByRemoteNetwork, false, "10.0.0.0/24=5 pod ns/p0: 127.0.0.0/24=2 pod ns/p1: 127.0.0.0/24=2 pod ns/p2: 127.0.0.0/24=2 pod ns/p3: 127.0.0.0/24=2 pod ns/p4: 127.0.0.0/24=2 " +
			"pod ns/p0: fe80::/64%2=1 pod ns/p1: fe80::/64%2=1 pod ns/p2: fe80::/64%3=1"},
		// The local port of a loopback connection is its namespace's; the
		// same port towards the shared database is the node's.
		{ByRemotePort, false, "5432=5 pod ns/p0: 5432=2 pod ns/p1: 5432=2 pod ns/p2: 5432=2 pod ns/p3: 5432=2 pod ns/p4: 5432=2 pod ns/p0: 22=1 pod ns/p1: 22=1 pod ns/p2: 22=1"},
		{ByLocalPort, false, "40001=5 pod ns/p0: 40000=2 pod ns/p1: 40000=2 pod ns/p2: 40000=2 pod ns/p3: 40000=2 pod ns/p4: 40000=2 " +
			"pod ns/p0: 40002=1 pod ns/p1: 40002=1 pod ns/p2: 40002=1"},
		{ByNetns, false, "pod ns/p0=4 pod ns/p1=4 pod ns/p2=4 pod ns/p3=3 pod ns/p4=3"},
	}
	for _, tt := range tests {
		tl := NewTally(tt.key, 24, 64, tt.perNetns, "host")
		fill(tl, tt.perNetns)
		if got := show(tl.Entities(scope)); got != tt.want {
			t.Errorf("%s (per namespace %v):\n got %s\nwant %s", tt.key, tt.perNetns, got, tt.want)
		}
	}
}
