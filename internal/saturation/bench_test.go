package saturation

import (
	"net/netip"
	"testing"

	"github.com/network-connections/network-connections/internal/sock"
)

// BenchmarkAdd is the port measure's cost a socket: 100k connections over
// loopback from 1,000 peers, as make bench holds them: the clients' half to
// one listener, the server's half on its port.
func BenchmarkAdd(b *testing.B) {
	socks := make([]sock.Socket, 100000)
	for i := range socks {
		s := &socks[i]
		s.Type, s.Status, s.Inode = sock.TCP, sock.Established, uint32(i+1)
		peer := netip.AddrFrom4([4]byte{127, 1, byte(i % 1000 >> 8), byte(i % 1000)})
		if i%2 == 0 {
			s.Local, s.Remote = netip.AddrPortFrom(peer, uint16(1024+i/2)), netip.MustParseAddrPort("127.0.0.1:5000")
		} else {
			s.Local, s.Remote = netip.MustParseAddrPort("127.0.0.1:5000"), netip.AddrPortFrom(peer, uint16(1024+i/2))
		}
	}
	for b.Loop() {
		s := NewSink(Options{PortUsage: true})
		s.EnterWith(nil, Limits{Ports: ParsePorts("1024 65535", "")})
		s.Add(sock.Socket{Type: sock.TCP, Status: sock.Listen, Local: netip.MustParseAddrPort("127.0.0.1:5000")})
		for _, k := range socks {
			s.Add(k)
		}
		s.Done()
	}
}
