package saturation

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/network-connections/network-connections/internal/sock"
)

// ParsePorts reads ip_local_port_range ("32768\t60999") and
// ip_local_reserved_ports ("8000-8100,9000", or empty).
func ParsePorts(rangeText, reservedText string) Ports {
	f := strings.Fields(rangeText)
	if len(f) != 2 {
		return Ports{Err: fmt.Sprintf("%s: %q is not two ports", "ip_local_port_range", strings.TrimSpace(rangeText))}
	}
	lo, err1 := strconv.ParseUint(f[0], 10, 16)
	hi, err2 := strconv.ParseUint(f[1], 10, 16)
	if err1 != nil || err2 != nil || lo > hi {
		return Ports{Err: fmt.Sprintf("%s: %q is not a range of ports", "ip_local_port_range", strings.TrimSpace(rangeText))}
	}
	p := Ports{Low: int(lo), High: int(hi)}
	for _, item := range strings.Split(strings.TrimSpace(reservedText), ",") {
		if item == "" {
			continue
		}
		first, last, ok := sock.ParsePorts(item)
		if !ok {
			return Ports{Err: fmt.Sprintf("%s: %q is not a port or a range", "ip_local_reserved_ports", item)}
		}
		for port := int(first); port <= int(last); port++ {
			if p.usable(uint16(port)) {
				p.Reserved++
			}
			p.take(port)
		}
	}
	return p
}
