package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestScoping checks each scoping option in a private namespace, against ss
// with the equivalent filter where ss has one, and exact lines for recipes.
func TestScoping(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	m := socketMix(t)
	p, p6, dual, udp := m.port, m.v6Port, m.dualPort, m.udpPort

	// Our counts (from perfdata) equal what ss counts with a filter.
	againstSS := []struct {
		args []string
		ss   string
	}{
		{[]string{"--local-port", fmt.Sprint(p)}, fmt.Sprintf("sport = :%d", p)},
		{[]string{"--remote-port", fmt.Sprint(p)}, fmt.Sprintf("dport = :%d", p)},
		{[]string{"--local-port", fmt.Sprint(p6), "--local-port", fmt.Sprint(udp)}, fmt.Sprintf("sport = :%d or sport = :%d", p6, udp)},
		{[]string{"--local-port", fmt.Sprintf("%d-%d", min(p, dual), max(p, dual))}, fmt.Sprintf("sport >= :%d and sport <= :%d", min(p, dual), max(p, dual))},
		{[]string{"--local-port", "1-65535"}, "sport >= :1"},
		{[]string{"--local-address", "::1"}, "src [::1]"},
		{[]string{"--remote-address", "::1/128,127.0.0.2"}, "dst [::1]"},
		{[]string{"--local-address", "127.0.0.0/8", "--remote-port", fmt.Sprint(p)}, fmt.Sprintf("src 127.0.0.0/8 and dport = :%d", p)},
		{[]string{"--remote-address", "0.0.0.0/0"}, "dst 0.0.0.0/0"},
	}
	for _, backend := range []string{"netlink", "procfs", "gopsutil"} {
		for _, tt := range againstSS {
			args := append([]string{"--backend", backend}, tt.args...)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				stdout, stderr, code := runBinary(t, args...)
				got, want := formatCounts(perfCounts(t, stdout)), formatCounts(ssCounts(t, tt.ss))
				if got != want || code != 0 || stderr != "" {
					t.Errorf("exit %d, counts %s\nss %q counts %s\nstdout %q stderr %q", code, got, tt.ss, want, stdout, stderr)
				}
			})
		}
	}

	// An IPv4-mapped address matches its IPv4 CIDR: the dual-stack server's
	// accepted socket (tcp6, ::ffff:127.0.0.1) counts with 127.0.0.0/8.
	exact := []outputCase{
		{[]string{"--local-port", fmt.Sprint(dual), "--conn-status", "established"},
			"tcp6 ESTABLISHED: 1|'tcp6_ESTABLISHED'=1;;;0", 0},
		{[]string{"--local-port", fmt.Sprint(dual), "--conn-status", "established", "--local-address", "127.0.0.1"},
			"tcp6 ESTABLISHED: 1|'tcp6_ESTABLISHED'=1;;;0", 0},
		{[]string{"--local-port", fmt.Sprint(dual), "--conn-status", "established", "--local-address", "10.0.0.0/8"},
			fmt.Sprintf(`No connections of type "all" in status "established" found for --local-port %d --local-address 10.0.0.0/8.`, dual), 0},
		// Is anything still listening on the port? With --report-missing a
		// vanished listener is a 0 that alerts.
		{[]string{"--conn-type", "tcp", "--conn-status", "listen", "--local-port", fmt.Sprint(p), "--report-missing", "-c", "1:"},
			"tcp LISTEN: 1|'tcp_LISTEN'=1;;1:;0", 0},
		{[]string{"--conn-type", "tcp", "--conn-status", "listen", "--local-port", "1", "--report-missing", "-c", "1:"},
			"tcp LISTEN: 0 [CRITICAL]|'tcp_LISTEN'=0;;1:;0", 2},
		{[]string{"--conn-type", "tcp", "--conn-status", "listen", "--local-port", "1", "-c", "1:"},
			`No connections of type "tcp" in status "listen" found for --local-port 1.`, 0},
		{[]string{"--conn-type", "tcp,udp", "--conn-status", "listen,none", "--local-port", "1", "--report-missing"},
			"tcp LISTEN: 0, udp NONE: 0|'tcp_LISTEN'=0;;;0 'udp_NONE'=0;;;0", 0},
		// CLOSE_WAIT piling up on the app port (the clients' side here).
		{[]string{"--conn-status", "close_wait", "--remote-port", fmt.Sprint(p), "-w", "2", "-c", "5"},
			"tcp CLOSE WAIT: 3 [WARNING]|'tcp_CLOSE_WAIT'=3;2;5;0", 1},
		{[]string{"--group-by", "status", "--conn-status", "established,listen"},
			"ESTABLISHED: 13, LISTEN: 5|'ESTABLISHED'=13;;;0 'LISTEN'=5;;;0", 0},
		{[]string{"--group-by", "type", "-w", "udp=1", "-c", "20"},
			"tcp: 22 [CRITICAL], tcp6: 5, udp: 2 [WARNING], udp6: 1|'tcp'=22;;20;0 'tcp6'=5;;20;0 'udp'=2;1;20;0 'udp6'=1;;20;0", 2},
		{[]string{"--group-by", "none", "-w", "total=25"},
			"total: 30 [WARNING]|'total'=30;25;;0", 1},
		{[]string{"--group-by", "status", "--conn-type", "all,unix", "--conn-status", "listen,none"},
			"LISTEN: 6, NONE: 4|'LISTEN'=6;;;0 'NONE'=4;;;0", 0},
		// Per-group thresholds: label, then status, then type, then plain.
		{[]string{"--conn-type", "tcp,tcp6", "--conn-status", "established,listen", "-w", "time_wait=0", "-w", "established=5", "-w", "tcp6_established=2", "-c", "tcp6=@2", "-c", "20"},
			"tcp ESTABLISHED: 10 [WARNING], tcp LISTEN: 3, tcp6 ESTABLISHED: 3 [WARNING], tcp6 LISTEN: 2 [CRITICAL]" +
				"|'tcp_ESTABLISHED'=10;5;20;0 'tcp_LISTEN'=3;;20;0 'tcp6_ESTABLISHED'=3;2;@2;0 'tcp6_LISTEN'=2;;@2;0", 2},
		{[]string{"--conn-type", "unix"},
			"unix ESTABLISHED: 2, unix LISTEN: 1, unix NONE: 1|'unix_ESTABLISHED'=2;;;0 'unix_LISTEN'=1;;;0 'unix_NONE'=1;;;0", 0},
		{[]string{"--conn-type", "unix", "--conn-status", "listen,established", "--report-missing", "-c", "unix_listen=1:"},
			"unix ESTABLISHED: 2, unix LISTEN: 1|'unix_ESTABLISHED'=2;;;0 'unix_LISTEN'=1;;1:;0", 0},
	}
	// gopsutil cannot tell unix states (an UNKNOWN, tested below).
	var inet, unixCases []outputCase
	for _, c := range exact {
		c.stdout += "\n"
		if strings.Contains(strings.Join(c.args, " "), "unix") {
			unixCases = append(unixCases, c)
		} else {
			inet = append(inet, c)
		}
	}
	runCases(t, []string{"auto", "procfs", "gopsutil"}, inet)
	runCases(t, []string{"auto", "procfs"}, unixCases)

	// unix: the same as ss -x, for both Linux backends.
	for _, backend := range []string{"netlink", "procfs"} {
		stdout, _, _ := runBinary(t, "--backend", backend, "--conn-type", "unix")
		if got := formatCounts(perfCounts(t, stdout)); got != formatCounts(ssUnixCounts(t)) {
			t.Errorf("--backend %s --conn-type unix: %s, ss -x: %s", backend, got, formatCounts(ssUnixCounts(t)))
		}
	}
	stdout, stderr, code := runBinary(t, "--backend", "gopsutil", "--conn-type", "unix")
	checkUnknown(t, "gopsutil with unix", stdout, stderr, code, "UNKNOWN: ")
	if !strings.Contains(stdout, "unix") {
		t.Errorf("gopsutil with unix: %q, want an UNKNOWN naming unix", stdout)
	}
}

// TestNetns counts the mix from outside its namespace with --netns.
func TestNetns(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	m := socketMix(t)
	here, _, _ := runBinary(t)
	if got := formatCounts(perfCounts(t, here)); got != formatCounts(m.want) {
		t.Fatalf("in the namespace: %s, want %s", got, formatCounts(m.want))
	}
	self := fmt.Sprintf("/proc/%d/ns/net", os.Getpid())
	name := fmt.Sprintf("nc-test-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "attach", name, fmt.Sprint(os.Getpid())).CombinedOutput(); err != nil {
		t.Fatalf("ip netns attach: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", name).Run() })

	// From another, empty namespace, each backend that can enter one.
	for _, target := range []string{self, name} {
		for _, backend := range kernelBackends {
			args := []string{"-n", binary, "--netns", target, "--backend", backend}
			out, err := exec.Command("unshare", args...).Output()
			if string(out) != here || err != nil {
				t.Errorf("unshare %q: %v\n%s\nwant:\n%s", args, err, out, here)
			}
		}
	}
	out, _ := exec.Command("unshare", "-n", binary).Output()
	if want := `No connections of type "all" in status "all" found.` + "\n"; string(out) != want {
		t.Errorf("the empty namespace itself: %q", out)
	}

	runCases(t, nil, []outputCase{
		{[]string{"--netns", "nc-no-such-namespace"}, "UNKNOWN: --netns /run/netns/nc-no-such-namespace: no such file or directory\n", 3},
		{[]string{"--netns", "/proc/self/ns/uts"}, "UNKNOWN: --netns /proc/self/ns/uts: not a network namespace: invalid argument\n", 3},
		{[]string{"--netns", self, "--backend", "gopsutil"}, "UNKNOWN: --netns " + self + ": it works with the auto, netlink and procfs backends, not gopsutil\n", 3},
	})
	// Without the privilege: a clear UNKNOWN naming the capability missing:
	// CAP_SYS_ADMIN to enter its own namespace, CAP_SYS_PTRACE first to open
	// another user's process's (this test's, root's).
	for path, capability := range map[string]string{"/proc/self/ns/net": "needs CAP_SYS_ADMIN", self: "needs CAP_SYS_PTRACE"} {
		stdout, stderr, code := runCmd(t, asNobody(t, "--netns", path))
		checkUnknown(t, "as nobody, --netns "+path, stdout, stderr, code, "UNKNOWN: --netns "+path+": ")
		if !strings.Contains(stdout, capability) {
			t.Errorf("as nobody, --netns %s: %q, want one UNKNOWN that %s", path, stdout, capability)
		}
	}
}
