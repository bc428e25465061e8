package saturation

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/network-connections/network-connections/internal/sock"
)

func TestParsePorts(t *testing.T) {
	tests := []struct {
		rng, reserved      string
		low, high, usable  int
		err                bool
		usableP, reservedP uint16
	}{
		{rng: "32768\t60999\n", low: 32768, high: 60999, usable: 28232, usableP: 40000, reservedP: 1000},
		{rng: "40000 40099", reserved: "40010-40019\n", low: 40000, high: 40099, usable: 90, usableP: 40020, reservedP: 40015},
		{rng: "40000 40099", reserved: "8000-8100,40000,40099,40099", low: 40000, high: 40099, usable: 98, usableP: 40001, reservedP: 40099},
		{rng: "40000", err: true},
		{rng: "60999 32768", err: true},
		{rng: "1 2", reserved: "9-x", err: true},
	}
	for _, tt := range tests {
		p := ParsePorts(tt.rng, tt.reserved)
		if (p.Err != "") != tt.err {
			t.Errorf("%q %q: error %q", tt.rng, tt.reserved, p.Err)
			continue
		}
		if tt.err {
			if p.Usable() != 0 {
				t.Errorf("%q: usable %d with an error", tt.rng, p.Usable())
			}
			continue
		}
		if p.Low != tt.low || p.High != tt.high || p.Usable() != tt.usable {
			t.Errorf("%q %q: %d-%d usable %d, want %d-%d usable %d", tt.rng, tt.reserved, p.Low, p.High, p.Usable(), tt.low, tt.high, tt.usable)
		}
		if !p.usable(tt.usableP) || p.usable(tt.reservedP) {
			t.Errorf("%q %q: port %d usable %v, port %d usable %v", tt.rng, tt.reserved, tt.usableP, p.usable(tt.usableP), tt.reservedP, p.usable(tt.reservedP))
		}
	}
}

// The sink keeps the listeners and each destination's usable ports of the
// dumps that finished; a restarted dump's are forgotten; IPv4 and mapped
// IPv6 share a destination, as they share the kernel's ports.
func TestSink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("on Windows the ports run out per local address (the destination shows as *): these cases are Linux's per-destination rule")
	}
	s := NewSink(Options{ListenQueue: true, PortUsage: true})
	if got := s.Statuses(); got&(1<<sock.Listen) == 0 || got&(1<<sock.Established) == 0 || got&(1<<sock.None) != 0 {
		t.Errorf("statuses %b", got)
	}
	s.EnterWith(nil, Limits{Ports: ParsePorts("40000 40099", "40010-40019")})
	ap := netip.MustParseAddrPort
	conn := func(local, remote string) sock.Socket {
		return sock.Socket{Type: sock.TCP, Status: sock.Established, Local: ap(local), Remote: ap(remote), Inode: 7}
	}
	s.Add(sock.Socket{Type: sock.TCP, Status: sock.Listen, Local: ap("0.0.0.0:80"), Queued: 3, Backlog: 8, Queues: true})
	s.Add(conn("10.0.0.1:40000", "10.0.0.2:80"))
	s.Add(conn("10.0.0.1:40015", "10.0.0.2:80")) // reserved
	s.Add(conn("10.0.0.1:39999", "10.0.0.2:80")) // outside
	s.Done()
	s.Add(conn("10.0.0.1:40001", "10.0.0.2:80"))
	s.Add(sock.Socket{Type: sock.TCP, Status: sock.Listen, Local: ap("0.0.0.0:81")})
	s.Restart() // the dump starts again: its sockets come again
	s.Add(sock.Socket{Type: sock.TCP6, Status: sock.TimeWait, Local: ap("[::ffff:10.0.0.1]:40001"), Remote: ap("[::ffff:10.0.0.2]:80")})
	s.Add(conn("10.0.0.1:40002", "10.0.0.3:80"))
	s.Add(sock.Socket{Type: sock.UDP, Status: sock.Established, Local: ap("10.0.0.1:40003"), Remote: ap("10.0.0.3:80")})
	s.Done()
	sp := s.Spaces()
	if len(sp) != 1 || len(sp[0].Listeners) != 1 || sp[0].Listeners[0].Queued != 3 {
		t.Fatalf("spaces %+v", sp)
	}
	want := map[string]int32{"10.0.0.1 10.0.0.2:80": 2, "10.0.0.1 10.0.0.3:80": 1}
	got := map[string]int32{}
	for tu, u := range sp[0].Tuples() {
		d := DestinationOf(tu, u)
		got[d.Local.String()+" "+d.Remote.String()] = u.Ports
	}
	if len(got) != len(want) || got["10.0.0.1 10.0.0.2:80"] != 2 || got["10.0.0.1 10.0.0.3:80"] != 1 {
		t.Errorf("destinations %v, want %v", got, want)
	}
}

// Thousands of destinations, more than the table's first size, across
// dumps one of which restarts part way, IPv4 sockets half as Sockets and
// half as sock_diag's numbers: each tuple's ports and first holder are
// those of the dumps that finished, in their order.
func TestSinkMany(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("per-destination tuples are Linux's rule")
	}
	conn := func(i int) sock.Socket {
		peer := netip.AddrFrom4([4]byte{10, byte(i % 7), byte(i % 3001 >> 8), byte(i % 3001)})
		remote := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 5)}), uint16(80+i%4))
		typ := sock.TCP
		switch i % 11 {
		case 3: // mapped: the same tuples as IPv4
			typ, peer, remote = sock.TCP6, netip.AddrFrom16(peer.As16()), netip.AddrPortFrom(netip.AddrFrom16(remote.Addr().As16()), remote.Port())
		case 7:
			typ, peer = sock.TCP6, netip.MustParseAddr("2001:db8::1")
			remote = netip.AddrPortFrom(netip.MustParseAddr("2001:db8::2"), remote.Port())
		}
		inode := uint32(i + 1)
		if i%13 == 0 {
			inode = 0 // TIME_WAIT: no holder
		}
		return sock.Socket{Type: typ, Status: sock.Established, Local: netip.AddrPortFrom(peer, uint16(1024+i%50000)), Remote: remote, Inode: inode}
	}
	dumps := [][2]int{{0, 9000}, {9000, 20000}, {20000, 26000}}
	s := NewSink(Options{PortUsage: true})
	s.EnterWith(nil, Limits{Ports: ParsePorts("1024 65535", "")})
	want := map[Tuple]Use{}
	for d, r := range dumps {
		if d == 1 { // a dump the kernel interrupts: its sockets come again
			for i := r[0]; i < r[1]-3000; i++ {
				s.Add(conn(i + 7))
			}
			s.Restart()
		}
		for i := r[0]; i < r[1]; i++ {
			k := conn(i)
			if k.Type == sock.TCP && i%2 == 0 { // as sock_diag hands them over (collect.Pairs4)
				s.AddPair4(k.Local.Addr().As4(), k.Remote.Addr().As4(), k.Local.Port(), k.Remote.Port(), k.Inode)
			} else {
				s.Add(k)
			}
			tu := Tuple{Local: k.Local.Addr().Unmap().As16(), Remote: k.Remote.Addr().Unmap().As16(), Port: k.Remote.Port()}
			u := want[tu]
			u.Ports++
			if u.Inode == 0 {
				u.Inode = k.Inode
			}
			want[tu] = u
		}
		s.Done()
	}
	got := map[Tuple]Use{}
	for tu, u := range s.Spaces()[0].Tuples() {
		if _, dup := got[tu]; dup {
			t.Errorf("%v twice", DestinationOf(tu, u))
		}
		got[tu] = u
	}
	if len(got) != len(want) {
		t.Errorf("%d tuples, want %d", len(got), len(want))
	}
	for tu, u := range want {
		if got[tu] != u {
			t.Errorf("%v: %+v, want %+v", DestinationOf(tu, u), got[tu], u)
		}
	}
}

// The sink needs listeners, and of the rest those with a peer on a port
// connect() may pick: not the sockets a listener accepted, on its port.
func TestSinkNeeds(t *testing.T) {
	s := NewSink(Options{PortUsage: true})
	s.EnterWith(nil, Limits{Ports: ParsePorts("40000 40099", "40010")})
	s.Add(sock.Socket{Type: sock.TCP, Status: sock.Listen, Local: netip.MustParseAddrPort("0.0.0.0:40050")})
	for _, tt := range []struct {
		status        sock.Status
		local, remote uint16
		want          bool
	}{
		{sock.Listen, 80, 0, true},
		{sock.Established, 40001, 80, true},
		{sock.TimeWait, 40001, 80, true},
		{sock.Established, 40050, 80, false}, // a listener's
		{sock.Established, 40010, 80, false}, // reserved
		{sock.Established, 39999, 80, false}, // outside the range
		{sock.SynSent, 40001, 0, false},      // no peer
	} {
		if got := s.Needs(tt.status, tt.local, tt.remote); got != tt.want {
			t.Errorf("Needs(%v, %d, %d) = %v", tt.status, tt.local, tt.remote, got)
		}
	}
	if q := NewSink(Options{ListenQueue: true}); q.Needs(sock.Established, 40001, 80) {
		t.Error("the listen queues need no connection")
	}
}

// Listeners whose ports share a bit of the mask (port%64) are told apart
// by the bitmap, and a port on that bit that no listener holds stays
// usable; a listener on a reserved port, or one seen twice, counts once.
func TestPortsShareABit(t *testing.T) {
	p := ParsePorts("40000 40199", "40010")
	for _, port := range []uint16{40050, 40114, 40114, 40010, 39000} { // 40050%64 == 40114%64
		p.listen(port)
	}
	if p.Listening != 2 || p.Reserved != 1 || p.Usable() != 200-1-2 {
		t.Errorf("listening %d, reserved %d, usable %d", p.Listening, p.Reserved, p.Usable())
	}
	for port, want := range map[uint16]bool{40050: false, 40114: false, 40178: true, 40010: false, 40051: true, 40000: true, 40199: true, 39999: false, 40200: false} {
		if got := p.usable(port); got != want {
			t.Errorf("usable(%d) = %v", port, got)
		}
	}
}

// A collector that tells a socket's process, not its inode (gopsutil),
// has it named by pid.
func TestSinkPids(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("per-destination tuples are Linux's rule")
	}
	s := NewSink(Options{PortUsage: true})
	s.EnterWith(nil, Limits{Ports: ParsePorts("40000 40099", "")})
	s.Add(sock.Socket{Type: sock.TCP, Status: sock.Established, Local: netip.MustParseAddrPort("10.0.0.1:40001"), Remote: netip.MustParseAddrPort("10.0.0.2:80"), Pid: 4242})
	s.Done()
	for _, u := range s.Spaces()[0].Tuples() {
		if u.Pid != 4242 || u.Inode != 0 || u.Ports != 1 {
			t.Errorf("use %+v, want pid 4242", u)
		}
	}
}
