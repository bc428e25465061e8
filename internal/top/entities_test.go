package top

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/network-connections/network-connections/internal/collect"
)

func TestTally(t *testing.T) {
	ap := netip.MustParseAddrPort
	sock := func(typ collect.Type, st collect.Status, local, remote string) collect.Socket {
		return collect.Socket{Type: typ, Status: st, Local: ap(local), Remote: ap(remote)}
	}
	est, listen := collect.Established, collect.Listen
	sockets := []collect.Socket{
		sock(collect.TCP, est, "10.0.0.1:443", "203.0.113.7:5000"),
		sock(collect.TCP, est, "10.0.0.1:443", "203.0.113.7:5001"),
		sock(collect.TCP, collect.SynRecv, "10.0.0.1:443", "203.0.113.7:5002"),
		sock(collect.TCP6, est, "[::ffff:10.0.0.1]:443", "[::ffff:203.0.113.9]:6000"), // mapped: an IPv4 peer
		sock(collect.TCP6, est, "[2001:db8::1]:443", "[2001:db8::5]:6000"),
		sock(collect.TCP6, est, "[2001:db8::1]:443", "[2001:db8::1:5]:6001"),
		sock(collect.TCP, listen, "0.0.0.0:443", "0.0.0.0:0"),      // no peer
		sock(collect.UDP, collect.None, "0.0.0.0:53", "0.0.0.0:0"), // no peer
		{Type: collect.Unix, Status: est},                          // no addresses
	}
	all := Scope{Labels: []string{"tcp ESTABLISHED", "tcp SYN RECV", "tcp6 ESTABLISHED", "tcp LISTEN", "udp NONE"}}
	all.GroupOf = func(typ collect.Type, st collect.Status) (int, bool) {
		for i, l := range all.Labels {
			if l == fmt.Sprintf("%s %s", typ, map[collect.Status]string{est: "ESTABLISHED", collect.SynRecv: "SYN RECV", listen: "LISTEN", collect.None: "NONE"}[st]) {
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
		tl := NewTally(tt.key, tt.bits4, tt.bits6)
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
	for _, k := range []Key{ByProcess, ByRemoteAddress, ByRemoteNetwork, ByLocalPort, ByRemotePort} {
		if got, err := ParseKey(k.String()); got != k || err != nil {
			t.Errorf("ParseKey(%q) = %v, %v", k, got, err)
		}
	}
	if _, err := ParseKey("netns"); err == nil {
		t.Error("netns: want an error")
	}
	for k, want := range map[Key]string{ByRemoteAddress: "2 remote addresses", ByLocalPort: "2 local ports", ByRemoteNetwork: "2 remote networks"} {
		if got := k.Noun(2); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if got := ByRemoteAddress.Noun(1); got != "1 remote address" {
		t.Errorf("%q", got)
	}
}
