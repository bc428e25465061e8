package collect

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/network-connections/network-connections/internal/sock"
)

// Endpoint selects sockets by one side's address and port: a socket passes
// when its port is in one of Ports and its address in one of Prefixes (an
// empty list passes everything).
type Endpoint struct {
	Ports    []PortRange
	Prefixes []netip.Prefix
	sorted   bool // set by merged: disjoint and in order, searched in halves
}

// PortRange is an inclusive range of ports.
type PortRange struct{ First, Last uint16 }

// IsAny reports whether the endpoint selects every socket.
func (e Endpoint) IsAny() bool { return len(e.Ports) == 0 && len(e.Prefixes) == 0 }

// Match reports whether an address and port pass. An IPv4-mapped IPv6
// address also matches its IPv4 prefix.
func (e Endpoint) Match(addr netip.Addr, port uint16) bool {
	if len(e.Ports) > 0 && !e.matchPort(port) {
		return false
	}
	if len(e.Prefixes) > 0 {
		return e.matchAddr(addr) || addr.Is4In6() && e.matchAddr(addr.Unmap())
	}
	return true
}

func (e Endpoint) matchPort(port uint16) bool {
	if e.sorted { // the last range starting at or below port
		i, _ := slices.BinarySearchFunc(e.Ports, port, func(r PortRange, p uint16) int { return cmp.Compare(r.First, p) })
		if i < len(e.Ports) && e.Ports[i].First == port {
			return true
		}
		return i > 0 && port <= e.Ports[i-1].Last
	}
	return slices.ContainsFunc(e.Ports, func(r PortRange) bool { return r.First <= port && port <= r.Last })
}

func (e Endpoint) matchAddr(addr netip.Addr) bool {
	if e.sorted { // disjoint prefixes: only the last one at or below addr can hold it
		i, found := slices.BinarySearchFunc(e.Prefixes, addr, func(p netip.Prefix, a netip.Addr) int { return p.Addr().Compare(a) })
		if found {
			return true
		}
		return i > 0 && e.Prefixes[i-1].Contains(addr)
	}
	return slices.ContainsFunc(e.Prefixes, func(p netip.Prefix) bool { return p.Contains(addr) })
}

// merged selects what e selects with the fewest values, disjoint and in
// order: port ranges joined where they overlap or touch, prefixes without
// repeats or those inside another. Thousands of values from a careless config
// often shrink to a few, and Match searches the rest in halves.
func (e Endpoint) merged() Endpoint {
	out := Endpoint{sorted: true}
	ports := slices.Clone(e.Ports)
	slices.SortFunc(ports, func(a, b PortRange) int { return cmp.Compare(a.First, b.First) })
	for _, r := range ports {
		if n := len(out.Ports); n > 0 && uint32(r.First) <= uint32(out.Ports[n-1].Last)+1 {
			out.Ports[n-1].Last = max(out.Ports[n-1].Last, r.Last)
			continue
		}
		out.Ports = append(out.Ports, r)
	}
	// By address (IPv4 before IPv6), the wider first at one address: a prefix
	// holding another comes before it, and is the last one kept when it does.
	prefixes := slices.Clone(e.Prefixes)
	slices.SortFunc(prefixes, func(a, b netip.Prefix) int {
		return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
	})
	for _, p := range prefixes {
		if n := len(out.Prefixes); n > 0 && out.Prefixes[n-1].Contains(p.Addr()) && out.Prefixes[n-1].Bits() <= p.Bits() {
			continue
		}
		out.Prefixes = append(out.Prefixes, p)
	}
	return out
}

// ParsePortRange reads a port (443) or an inclusive range (8000-8100).
func ParsePortRange(s string) (PortRange, error) {
	first, last, ok := sock.ParsePorts(s)
	if !ok {
		return PortRange{}, fmt.Errorf("%q is not a port (0-65535) or a range of ports (8000-8100)", s)
	}
	return PortRange{first, last}, nil
}

// ParsePrefix reads an IPv4 or IPv6 address or CIDR prefix.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an address or a CIDR prefix", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or a CIDR prefix", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
