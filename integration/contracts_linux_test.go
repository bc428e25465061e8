package integration

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Thousands of scoping values, which once outgrew the kernel's 16-bit
// bytecode lengths: every backend counts what ss counts with one value.
func TestManyScopingValues(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	m := socketMix(t)
	times := func(n int, v string) string { return strings.TrimSuffix(strings.Repeat(v+",", n), ",") }
	var even []string // 4000 ports below the ephemeral range: nothing there
	for p := 2; p <= 8000; p += 2 {
		even = append(even, strconv.Itoa(p))
	}
	var v6 []string // 4000 addresses that touch no other
	for i := 1; i <= 4000; i++ {
		v6 = append(v6, fmt.Sprintf("fd00::%x:1", i))
	}
	port := strconv.Itoa(m.port)
	tests := []struct {
		name string
		args []string
		ss   []string // the same selection as an ss filter
	}{
		{"::1 x2048", []string{"--local-address", times(2048, "::1")}, []string{"src", "[::1]"}},
		{"fd00::9 and ::1 x2048", []string{"--local-address", "fd00::9," + times(2048, "::1")}, []string{"src", "[::1]"}},
		{"port 1 and remote port 0 x3276", []string{"--local-port", "1", "--remote-port", times(3276, "0")}, []string{"sport", "=", ":1"}},
		{"the listener's port x3277", []string{"--local-port", times(3277, port)}, []string{"sport", "=", ":" + port}},
		{"4000 distinct ports and the listener's", []string{"--local-port", strings.Join(even, ",") + "," + port}, []string{"sport", "=", ":" + port}},
		{"4001 distinct remote addresses", []string{"--remote-address", strings.Join(v6, ",") + ",::1"}, []string{"dst", "[::1]"}},
		{"4000 ports, one by one", append(strings.Split("--local-port="+strings.Join(even, " --local-port="), " "), "--local-port", port), []string{"sport", "=", ":" + port}},
	}
	for _, tt := range tests {
		want := ssCounts(t, tt.ss...)
		for _, backend := range allBackends {
			t.Run(tt.name+" "+backend, func(t *testing.T) {
				stdout, stderr, code := runBinary(t, append([]string{"--backend", backend}, tt.args...)...)
				if got := perfCounts(t, stdout); formatCounts(got) != formatCounts(want) || code != 0 || stderr != "" {
					t.Errorf("exit %d, counts %s; ss %q counts %s\nstdout: %.300s\nstderr: %q", code, formatCounts(got), tt.ss, formatCounts(want), stdout, stderr)
				}
			})
		}
	}
}

// A dual-stack socket's IPv4-mapped address is an IPv6 address: every
// backend selects it by ::ffff:127.0.0.1, ::ffff:0:0/96 and ::/0.
func TestIPv4MappedAddresses(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	m := socketMix(t)
	mapped := "tcp6 ESTABLISHED: 1|'tcp6_ESTABLISHED'=1;;;0\n"
	dual := strconv.Itoa(m.dualPort)
	runCases(t, allBackends, []outputCase{
		{[]string{"--local-address", "::ffff:127.0.0.1"}, mapped, 0},
		{[]string{"--local-address", "::ffff:0:0/96"}, mapped, 0},
		{[]string{"--remote-address", "::ffff:127.0.0.1", "--remote-port", dual}, // the client is IPv4
			`No connections of type "all" in status "all" found for --remote-port ` + dual + " --remote-address ::ffff:127.0.0.1.\n", 0},
		{[]string{"--local-address", "::ffff:127.0.0.1", "--local-port", dual}, mapped, 0},
		{[]string{"--local-address", "::/0"}, "tcp6 ESTABLISHED: 3, tcp6 LISTEN: 2, udp6 NONE: 1|'tcp6_ESTABLISHED'=3;;;0 'tcp6_LISTEN'=2;;;0 'udp6_NONE'=1;;;0\n", 0},
	})
}

// Connections a unix listener has not accepted yet have no socket inode;
// /proc/net/unix lists them (St 02, inode 0), unix_diag and ss do not.
func TestUnixNotYetAccepted(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	socketMix(t)
	sock := filepath.Join(t.TempDir(), "backlog")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 5 { // never accepted
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	want := ssUnixCounts(t)
	for _, backend := range kernelBackends {
		stdout, _, code := runBinary(t, "--backend", backend, "--conn-type", "unix")
		if got := perfCounts(t, stdout); formatCounts(got) != formatCounts(want) || code != 0 {
			t.Errorf("%s: exit %d, %s; ss: %s", backend, code, formatCounts(got), formatCounts(want))
		}
	}
}

// --top as a user who may not read the holders: gopsutil, like the netlink
// path, calls their sockets "owner not found", not the kernel's.
func TestTopUnprivilegedOwnerNotFound(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	socketMix(t) // held by this test, as root
	for _, tt := range []struct{ backend, noProcess, notFound string }{
		// The one connection in a full listener's queue has no inode yet:
		// sock_diag tells; gopsutil cannot (it shows no inodes), so only
		// TIME_WAIT and SYN_RECV are surely the kernel's there.
		{"netlink", "1 tcp ESTABLISHED, 1 tcp TIME WAIT", "9 tcp ESTABLISHED"},
		{"gopsutil", "1 tcp TIME WAIT", "10 tcp ESTABLISHED"},
	} {
		cmd := asNobody(t, "--backend", tt.backend, "--conn-type", "tcp", "--conn-status", "established,time_wait", "--top", "3")
		out, _ := cmd.Output()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		want := []string{
			"no process: " + tt.noProcess + " (TIME_WAIT sockets and connections not yet accepted belong to the kernel)",
			"owner not found: " + tt.notFound + " (held by processes we may not read",
		}
		if len(lines) != 4 || lines[2] != want[0] || !strings.HasPrefix(lines[3], want[1]) {
			t.Errorf("%s as nobody:\n%s\nwant lines 3 and 4:\n%s", tt.backend, out, strings.Join(want, "\n"))
		}
	}
}

// Selectors: any spelling applies; one that names no group is refused.
func TestSelectorsApplyOrRefuse(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	socketMix(t)
	runCases(t, nil, []outputCase{
		{[]string{"--conn-type", "tcp6", "-c", "tcp6-established=2", "-w", "TCP6_LISTEN=1"},
			"tcp6 ESTABLISHED: 3 [CRITICAL], tcp6 LISTEN: 2 [WARNING]|'tcp6_ESTABLISHED'=3;;2;0 'tcp6_LISTEN'=2;1;;0\n", 2},
		{[]string{"--conn-type", "tcp", "--conn-status", "close_wait", "-c", "tcp_close-wait=2"},
			"tcp CLOSE WAIT: 3 [CRITICAL]|'tcp_CLOSE_WAIT'=3;;2;0\n", 2},
		{[]string{"--conn-type", "tcp6", "-c", "tcp6_listen=0", "-c", "tcp6-LISTEN="},
			"tcp6 ESTABLISHED: 3, tcp6 LISTEN: 2|'tcp6_ESTABLISHED'=3;;;0 'tcp6_LISTEN'=2;;;0\n", 0},
		{[]string{"--group-by", "none", "-c", "total=20"}, "total: 30 [CRITICAL]|'total'=30;;20;0\n", 2},
		{[]string{"-c", "total=0"}, "UNKNOWN: --critical \"total=0\" names no group: total is the one group of --group-by none, not of --group-by type,status (a plain range covers every group)\n", 3},
		{[]string{"--group-by", "type", "-c", "established=0"}, "UNKNOWN: --critical \"established=0\" names no group: --group-by type makes no groups by status\n", 3},
		{[]string{"--group-by", "status", "-w", "tcp=0"}, "UNKNOWN: --warning \"tcp=0\" names no group: --group-by status makes no groups by type\n", 3},
		{[]string{"--group-by", "status", "-w", "tcp_listen=0"}, "UNKNOWN: --warning \"tcp_listen=0\" names no group: groups of one type and status exist with --group-by type,status, not with --group-by status\n", 3},
		// A selector for what the filter leaves out is not an error: one
		// list of thresholds serves services that count different sockets.
		{[]string{"--conn-type", "tcp", "--conn-status", "listen", "-w", "udp=0", "-w", "time_wait=0"}, "tcp LISTEN: 3|'tcp_LISTEN'=3;;;0\n", 0},
	})
}
