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

// Linux shares a local port among destinations: connect() needs it free for
// the one (local address, remote address, remote port) only.
const perDestination = true

func readPorts() Ports {
	b, err := os.ReadFile(portRangeFile)
	if err != nil {
		return Ports{Err: err.Error()}
	}
	r, err := os.ReadFile(reservedPortsFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Ports{Err: err.Error()}
	}
	return ParsePorts(string(b), string(r))
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
