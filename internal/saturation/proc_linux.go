package saturation

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// The files are the thread's: /proc/sys/net and /proc/thread-self/net show
// the network namespace of the thread that opens them, the one entered.
const (
	portRangeFile     = "/proc/sys/net/ipv4/ip_local_port_range"
	reservedPortsFile = "/proc/sys/net/ipv4/ip_local_reserved_ports"
	conntrackCount    = "/proc/sys/net/netfilter/nf_conntrack_count"
	conntrackMax      = "/proc/sys/net/netfilter/nf_conntrack_max"
	netstatFile       = "/proc/thread-self/net/netstat"
)

func readPorts() Ports {
	b, err := os.ReadFile(portRangeFile)
	if err != nil {
		return Ports{Err: err.Error()}
	}
	r, err := os.ReadFile(reservedPortsFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Ports{Err: err.Error()}
	}
	return parsePorts(string(b), string(r))
}

// parsePorts reads ip_local_port_range ("32768\t60999") and
// ip_local_reserved_ports ("8000-8100,9000", or empty).
func parsePorts(rangeText, reservedText string) Ports {
	f := strings.Fields(rangeText)
	if len(f) != 2 {
		return Ports{Err: fmt.Sprintf("%s: %q is not two ports", portRangeFile, strings.TrimSpace(rangeText))}
	}
	lo, err1 := strconv.ParseUint(f[0], 10, 16)
	hi, err2 := strconv.ParseUint(f[1], 10, 16)
	if err1 != nil || err2 != nil || lo > hi {
		return Ports{Err: fmt.Sprintf("%s: %q is not a range of ports", portRangeFile, strings.TrimSpace(rangeText))}
	}
	p := Ports{Low: int(lo), High: int(hi)}
	for _, item := range strings.Split(strings.TrimSpace(reservedText), ",") {
		if item == "" {
			continue
		}
		first, last, isRange := strings.Cut(item, "-")
		if !isRange {
			last = first
		}
		a, err1 := strconv.ParseUint(first, 10, 16)
		b, err2 := strconv.ParseUint(last, 10, 16)
		if err1 != nil || err2 != nil || a > b {
			return Ports{Err: fmt.Sprintf("%s: %q is not a port or a range", reservedPortsFile, item)}
		}
		if p.reserved == nil {
			p.reserved = new([1 << 10]uint64)
		}
		for port := a; port <= b; port++ {
			if p.reserved[port>>6]&(1<<(port&63)) == 0 && int(port) >= p.Low && int(port) <= p.High {
				p.Reserved++
			}
			p.reserved[port>>6] |= 1 << (port & 63)
		}
	}
	return p
}

func readConntrack() Conntrack {
	c, err := os.ReadFile(conntrackCount)
	if errors.Is(err, fs.ErrNotExist) {
		return Conntrack{} // the module is not loaded
	}
	if err != nil {
		return Conntrack{Err: err.Error()}
	}
	m, err := os.ReadFile(conntrackMax)
	if err != nil {
		return Conntrack{Err: err.Error()}
	}
	count, err1 := strconv.Atoi(strings.TrimSpace(string(c)))
	limit, err2 := strconv.Atoi(strings.TrimSpace(string(m)))
	if err1 != nil || err2 != nil {
		return Conntrack{Err: fmt.Sprintf("%s %q, %s %q: not numbers", conntrackCount, bytes.TrimSpace(c), conntrackMax, bytes.TrimSpace(m))}
	}
	return Conntrack{Loaded: true, Count: count, Max: limit}
}

func readNetstat() Netstat {
	b, err := os.ReadFile(netstatFile)
	if err != nil {
		return Netstat{Err: err.Error()}
	}
	return parseNetstat(string(b))
}

// parseNetstat reads TcpExt's ListenOverflows and ListenDrops from
// /proc/net/netstat: a line of names, then a line of values.
func parseNetstat(text string) Netstat {
	lines := strings.Split(text, "\n")
	for i := 0; i+1 < len(lines); i++ {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) == 0 || names[0] != "TcpExt:" || len(values) != len(names) || values[0] != "TcpExt:" {
			continue
		}
		var n Netstat
		found := 0
		for j, name := range names {
			v, err := strconv.ParseInt(values[j], 10, 64)
			switch {
			case name == "ListenOverflows" && err == nil:
				n.ListenOverflows = v
				found++
			case name == "ListenDrops" && err == nil:
				n.ListenDrops = v
				found++
			}
		}
		if found == 2 {
			return n
		}
	}
	return Netstat{Err: netstatFile + ": no TcpExt ListenOverflows and ListenDrops"}
}
