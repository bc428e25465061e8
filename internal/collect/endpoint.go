package collect

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Endpoint selects sockets by one side's address and port: a socket passes
// when its port is in one of Ports and its address in one of Prefixes (an
// empty list passes everything).
type Endpoint struct {
	Ports    []PortRange
	Prefixes []netip.Prefix
}

// PortRange is an inclusive range of ports.
type PortRange struct{ First, Last uint16 }

// IsAny reports whether the endpoint selects every socket.
func (e Endpoint) IsAny() bool { return len(e.Ports) == 0 && len(e.Prefixes) == 0 }

// Match reports whether an address and port pass. An IPv4-mapped IPv6
// address also matches its IPv4 prefix.
func (e Endpoint) Match(addr netip.Addr, port uint16) bool {
	if len(e.Ports) > 0 {
		in := false
		for _, r := range e.Ports {
			in = in || r.First <= port && port <= r.Last
		}
		if !in {
			return false
		}
	}
	if len(e.Prefixes) > 0 {
		unmapped := addr.Unmap()
		for _, p := range e.Prefixes {
			if p.Contains(addr) || p.Contains(unmapped) {
				return true
			}
		}
		return false
	}
	return true
}

// ParsePortRange reads a port (443) or an inclusive range (8000-8100).
func ParsePortRange(s string) (PortRange, error) {
	first, last, isRange := strings.Cut(s, "-")
	if !isRange {
		last = first
	}
	a, err1 := strconv.ParseUint(first, 10, 16)
	b, err2 := strconv.ParseUint(last, 10, 16)
	if err1 != nil || err2 != nil || a > b {
		return PortRange{}, fmt.Errorf("%q is not a port (0-65535) or a range of ports (8000-8100)", s)
	}
	return PortRange{uint16(a), uint16(b)}, nil
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
