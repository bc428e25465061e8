//go:build linux || windows

package collect

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/shirou/gopsutil/v4/net"
)

func TestCountConnections(t *testing.T) {
	const inet, inet6, stream, dgram = syscall.AF_INET, syscall.AF_INET6, syscall.SOCK_STREAM, syscall.SOCK_DGRAM
	a := func(ip string, port uint32) net.Addr { return net.Addr{IP: ip, Port: port} }
	conns := []net.ConnectionStat{
		{Family: inet, Type: stream, Laddr: a("127.0.0.1", 80), Status: "LISTEN", Pid: 1},
		// The same socket held by a second process (Linux lists it twice).
		{Family: inet, Type: stream, Laddr: a("127.0.0.1", 80), Status: "LISTEN", Pid: 2},
		{Family: inet, Type: stream, Laddr: a("127.0.0.1", 80), Raddr: a("127.0.0.1", 5000), Status: "ESTABLISHED"},
		{Family: inet, Type: stream, Laddr: a("127.0.0.1", 80), Raddr: a("127.0.0.1", 5001), Status: "ESTABLISHED"},
		{Family: inet6, Type: stream, Laddr: a("::1", 80), Raddr: a("::1", 5001), Status: "SYN_RECEIVED"}, // Windows, lsof
		{Family: inet6, Type: stream, Laddr: a("::1", 81), Raddr: a("::1", 5001), Status: "FIN_WAIT_2"},
		{Family: inet6, Type: stream, Laddr: a("::1", 82), Raddr: a("::1", 5001), Status: "CLOSED"},
		{Family: inet, Type: dgram, Laddr: a("0.0.0.0", 53), Status: ""},        // Windows, lsof
		{Family: inet, Type: dgram, Laddr: a("0.0.0.0", 54), Status: "NONE"},    // Linux
		{Family: inet6, Type: dgram, Laddr: a("::", 53), Status: "ESTABLISHED"}, // connected UDP is still NONE
		{Family: syscall.AF_UNIX, Type: stream, Laddr: a("/run/x", 0)},          // not ours
	}
	list, err := listConnections(conns, All)
	if err != nil {
		t.Fatal(err)
	}
	c := CountSockets(list)
	want := Counts{}
	want[TCP][Listen] = 1
	if gopsutilRowIsSocket { // Windows: two rows are two sockets
		want[TCP][Listen] = 2
	}
	want[TCP][Established] = 2
	want[TCP6][SynRecv] = 1
	want[TCP6][FinWait2] = 1
	want[TCP6][Close] = 1
	want[UDP][None] = 2
	want[UDP6][None] = 1
	if c != want {
		t.Errorf("got %v\nwant %v", c, want)
	}

	list, _ = listConnections(conns, Filter{Types: 1 << TCP, Statuses: 1 << Established})
	c = CountSockets(list)
	if c[TCP][Established] != 2 || c[TCP][Listen] != 0 || c[UDP][None] != 0 {
		t.Errorf("filtered: got %v", c)
	}

	if _, err := listConnections([]net.ConnectionStat{{Family: inet, Type: stream, Status: "BOGUS"}}, All); err == nil {
		t.Error("an unknown TCP state must be an error, not a silent miss")
	}
}

func TestParseNames(t *testing.T) {
	for _, tt := range []struct {
		name string
		want Type
	}{{"tcp", TCP}, {"TCP6", TCP6}, {"Udp", UDP}, {"udp6", UDP6}, {"UNIX", Unix}} {
		if got, err := ParseType(tt.name); err != nil || got != tt.want {
			t.Errorf("ParseType(%q) = %v, %v", tt.name, got, err)
		}
	}
	for _, bad := range []string{"", "all", "tcp4", "sctp", "unix6"} {
		if _, err := ParseType(bad); err == nil {
			t.Errorf("ParseType(%q): want an error", bad)
		}
	}
	for _, tt := range []struct {
		name string
		want Status
	}{{"established", Established}, {"CLOSE_WAIT", CloseWait}, {"close-wait", CloseWait}, {"None", None}, {"fin_wait1", FinWait1}, {"listen", Listen}, {"closing", Closing}} {
		if got, err := ParseStatus(tt.name); err != nil || got != tt.want {
			t.Errorf("ParseStatus(%q) = %v, %v", tt.name, got, err)
		}
	}
	for _, bad := range []string{"", "estab", "close wait", "new_syn_recv", "all"} {
		if _, err := ParseStatus(bad); err == nil {
			t.Errorf("ParseStatus(%q): want an error", bad)
		}
	}
}

func TestGopsutilError(t *testing.T) {
	_, lookErr := exec.LookPath("surely-not-installed-lsof")
	if got := gopsutilError("inet", fmt.Errorf("lsof: %w", lookErr)).Error(); !strings.Contains(got, "lsof is not installed") {
		t.Errorf("missing lsof: %q", got)
	}
	if got := gopsutilError("tcp4", errors.New("boom")).Error(); got != "gopsutil tcp4 connections: boom" {
		t.Errorf("other error: %q", got)
	}
}
