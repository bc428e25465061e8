package integration

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ssCounts counts the namespace's inet sockets with ss, keyed as our
// perfdata labels; filter is an ss filter expression, such as "sport = :80".
func ssCounts(t *testing.T, filter ...string) map[string]int {
	t.Helper()
	return ssCountsIn(t, "", filter...)
}

// ssCountsIn is ssCounts run in the namespace at nsPath ("" for this one).
func ssCountsIn(t *testing.T, nsPath string, filter ...string) map[string]int {
	t.Helper()
	states := map[string]string{
		"ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECV",
		"FIN-WAIT-1": "FIN_WAIT1", "FIN-WAIT-2": "FIN_WAIT2", "TIME-WAIT": "TIME_WAIT",
		"UNCONN": "CLOSE", "CLOSE-WAIT": "CLOSE_WAIT", "LAST-ACK": "LAST_ACK",
		"LISTEN": "LISTEN", "CLOSING": "CLOSING",
	}
	counts := map[string]int{}
	for _, q := range []struct{ proto, flags string }{{"tcp", "-tan"}, {"udp", "-uan"}} {
		// Both families in one run: ss -4/-6 reject a filter on the other
		// family's addresses, and an IPv4 prefix also matches IPv4-mapped ones.
		args := append([]string{"ss", "-H", q.flags}, filter...)
		if nsPath != "" {
			args = append([]string{"nsenter", "--net=" + nsPath}, args...)
		}
		out, err := exec.Command(args[0], args[1:]...).Output()
		if err != nil {
			t.Fatalf("ss %s %q: %v", q.flags, filter, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if len(f) < 4 {
				continue
			}
			status, ok := states[f[0]]
			if !ok {
				t.Fatalf("ss %s: unknown state in %q", q.flags, line)
			}
			if q.proto == "udp" {
				status = "NONE" // UDP has no states: connected or not
			}
			typ := q.proto
			if strings.HasPrefix(f[3], "[") || strings.HasPrefix(f[3], "*:") { // ss shows :: as *
				typ += "6"
			}
			counts[typ+"_"+status]++
		}
	}
	return counts
}

// ssUnixCounts counts the namespace's unix sockets with ss.
func ssUnixCounts(t *testing.T) map[string]int {
	t.Helper()
	out, err := exec.Command("ss", "-H", "-xan").Output()
	if err != nil {
		t.Fatalf("ss -xan: %v", err)
	}
	states := map[string]string{"LISTEN": "LISTEN", "ESTAB": "ESTABLISHED", "UNCONN": "NONE"}
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			status, ok := states[f[1]]
			if !ok {
				t.Fatalf("ss -xan: unknown state in %q", line)
			}
			counts["unix_"+status]++
		}
	}
	return counts
}

// perfCounts reads the counts back from the plugin's perfdata.
func perfCounts(t *testing.T, stdout string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	_, perf, _ := strings.Cut(strings.TrimSpace(stdout), "|")
	for _, item := range strings.Fields(perf) {
		label, rest, ok := strings.Cut(item, "=")
		value, _, _ := strings.Cut(rest, ";")
		n, err := strconv.Atoi(value)
		if !ok || err != nil {
			t.Fatalf("bad perfdata item %q in %q", item, stdout)
		}
		counts[strings.Trim(label, "'")] = n
	}
	return counts
}

func formatCounts(c map[string]int) string {
	var keys []string
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%d ", k, c[k])
	}
	return b.String()
}

// waitForSS waits until ss sees exactly want: states settle asynchronously.
func waitForSS(t *testing.T, want map[string]int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := ssCounts(t)
		if formatCounts(got) == formatCounts(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the socket mix did not settle:\n ss:   %s\n want: %s", formatCounts(got), formatCounts(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mix is what socketMix opened: the ports of its listeners, and the counts
// ss must see (inet sockets; unix ones in unix).
type mix struct {
	want                              map[string]int
	unix                              map[string]int
	port, deferPort, v6Port, dualPort int
	udpPort                           int
}

// socketMix opens sockets in known states on loopback, and unix sockets.
// Call it only inside a private network namespace.
func socketMix(t *testing.T) mix {
	t.Helper()
	keep := func(c interface{ Close() error }) { t.Cleanup(func() { c.Close() }) }
	listen := func(network, addr string) net.Listener {
		l, err := net.Listen(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		keep(l)
		return l
	}
	// pair dials l and accepts: two connected sockets.
	pair := func(network string, l net.Listener) (client, server *net.TCPConn) {
		c, err := net.Dial(network, l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		keep(c)
		keep(s)
		return c.(*net.TCPConn), s.(*net.TCPConn)
	}

	// tcp LISTEN 1, ESTABLISHED 3 pairs.
	l := listen("tcp4", "127.0.0.1:0")
	for range 3 {
		pair("tcp4", l)
	}
	// The server shuts its side: FIN_WAIT2 there, CLOSE_WAIT at the client.
	for range 2 {
		_, s := pair("tcp4", l)
		s.CloseWrite()
	}
	// The server closes: an orphaned FIN_WAIT2 (on loopback a full socket
	// until tcp_fin_timeout, elsewhere often a timewait socket in FIN_WAIT2).
	_, s := pair("tcp4", l)
	s.Close()
	// The client closes first, then the server: the client waits in TIME_WAIT.
	c, s := pair("tcp4", l)
	c.Close()
	s.Read(make([]byte, 1)) // EOF once the client's FIN arrived
	s.Close()

	// SYN_RECV: with TCP_DEFER_ACCEPT the server keeps a connection that sent
	// no data as a request socket (NEW_SYN_RECV in the kernel).
	deferred := listen("tcp4", "127.0.0.1:0")
	raw, _ := deferred.(*net.TCPListener).SyscallConn()
	raw.Control(func(fd uintptr) {
		if err := syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT, 60); err != nil {
			t.Fatal(err)
		}
	})
	dc, err := net.Dial("tcp4", deferred.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	keep(dc)

	// SYN_SENT: a listener with backlog 0 takes one connection into its
	// accept queue, then drops every SYN, so the next connect hangs.
	lfd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(lfd) })
	if err := syscall.Bind(lfd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(lfd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(lfd)
	full, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port))
	if err != nil {
		t.Fatal(err)
	}
	keep(full)
	waitForSS(t, map[string]int{"tcp_LISTEN": 3, "tcp_ESTABLISHED": 9, "tcp_FIN_WAIT2": 3, "tcp_CLOSE_WAIT": 3, "tcp_TIME_WAIT": 1, "tcp_SYN_RECV": 1})
	sfd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(sfd) })
	if err := syscall.Connect(sfd, sa); err != syscall.EINPROGRESS {
		t.Fatalf("connect to the full listener: %v, want EINPROGRESS", err)
	}

	// udp: one bound, one connected to it. Both are NONE.
	u, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	keep(u)
	uc, err := net.Dial("udp4", u.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	keep(uc)
	u6, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	keep(u6)

	// tcp6: a pair on ::1, and an IPv4 client of a dual-stack listener,
	// whose accepted socket is IPv6 (IPv4-mapped) and so counts as tcp6.
	l6 := listen("tcp6", "[::1]:0")
	pair("tcp6", l6)
	dual := listen("tcp", "[::]:0")
	pair("tcp4", dual) // net.Dial("tcp4", "[::]:port") reaches it on 127.0.0.1

	want := map[string]int{
		"tcp_ESTABLISHED": 10, "tcp_LISTEN": 3, "tcp_FIN_WAIT2": 3, "tcp_CLOSE_WAIT": 3,
		"tcp_TIME_WAIT": 1, "tcp_SYN_SENT": 1, "tcp_SYN_RECV": 1,
		"tcp6_ESTABLISHED": 3, "tcp6_LISTEN": 2,
		"udp_NONE": 2, "udp6_NONE": 1,
	}
	waitForSS(t, want)

	// unix: a listener with one connection (two connected sockets), and an
	// unconnected datagram socket.
	sock := filepath.Join(t.TempDir(), "s")
	ul, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	keep(ul)
	uconn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	keep(uconn)
	userver, err := ul.Accept()
	if err != nil {
		t.Fatal(err)
	}
	keep(userver)
	ug, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock + "g", Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	keep(ug)
	unixWant := map[string]int{"unix_LISTEN": 1, "unix_ESTABLISHED": 2, "unix_NONE": 1}
	if got := ssUnixCounts(t); formatCounts(got) != formatCounts(unixWant) {
		t.Fatalf("unix sockets: ss sees %s, want %s", formatCounts(got), formatCounts(unixWant))
	}
	return mix{want: want, unix: unixWant, port: port(l.Addr()), deferPort: port(deferred.Addr()),
		v6Port: port(l6.Addr()), dualPort: port(dual.Addr()), udpPort: port(u.LocalAddr())}
}

func port(a net.Addr) int {
	_, p, _ := net.SplitHostPort(a.String())
	n, _ := strconv.Atoi(p)
	return n
}

func TestNamespaceCounts(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	want := socketMix(t).want

	tests := []outputCase{
		{nil, "tcp ESTABLISHED: 10, tcp CLOSE WAIT: 3, tcp FIN WAIT2: 3, tcp LISTEN: 3, tcp6 ESTABLISHED: 3, tcp6 LISTEN: 2, udp NONE: 2, tcp SYN RECV: 1, tcp SYN SENT: 1, tcp TIME WAIT: 1, udp6 NONE: 1" +
			"|'tcp_ESTABLISHED'=10;;;0 'tcp_CLOSE_WAIT'=3;;;0 'tcp_FIN_WAIT2'=3;;;0 'tcp_LISTEN'=3;;;0 'tcp6_ESTABLISHED'=3;;;0 'tcp6_LISTEN'=2;;;0 'udp_NONE'=2;;;0 'tcp_SYN_RECV'=1;;;0 'tcp_SYN_SENT'=1;;;0 'tcp_TIME_WAIT'=1;;;0 'udp6_NONE'=1;;;0", 0},
		{[]string{"--conn-type", "tcp", "--conn-status", "established"}, "tcp ESTABLISHED: 10|'tcp_ESTABLISHED'=10;;;0", 0},
		{[]string{"--conn-type", "tcp", "--conn-status", "established", "--warning", "8"}, "tcp ESTABLISHED: 10 [WARNING]|'tcp_ESTABLISHED'=10;8;;0", 1},
		{[]string{"--conn-type=all", "--conn-status=established", "--warning=30:40"}, "tcp ESTABLISHED: 10 [WARNING], tcp6 ESTABLISHED: 3 [WARNING]|'tcp_ESTABLISHED'=10;30:40;;0 'tcp6_ESTABLISHED'=3;30:40;;0", 1},
		{[]string{"--conn-type", "TCP6,udp6"}, "tcp6 ESTABLISHED: 3, tcp6 LISTEN: 2, udp6 NONE: 1|'tcp6_ESTABLISHED'=3;;;0 'tcp6_LISTEN'=2;;;0 'udp6_NONE'=1;;;0", 0},
		{[]string{"--conn-status", "time_wait", "--conn-status", "SYN_SENT,fin_wait2", "-w", "1", "-c", "2"}, "tcp FIN WAIT2: 3 [CRITICAL], tcp SYN SENT: 1, tcp TIME WAIT: 1|'tcp_FIN_WAIT2'=3;1;2;0 'tcp_SYN_SENT'=1;1;2;0 'tcp_TIME_WAIT'=1;1;2;0", 2},
		{[]string{"--conn-status", "fin_wait2"}, "tcp FIN WAIT2: 3|'tcp_FIN_WAIT2'=3;;;0", 0},
		{[]string{"--conn-status", "time_wait"}, "tcp TIME WAIT: 1|'tcp_TIME_WAIT'=1;;;0", 0},
		{[]string{"--conn-status", "syn_recv,listen", "-c", "@3"}, "tcp LISTEN: 3 [CRITICAL], tcp6 LISTEN: 2 [CRITICAL], tcp SYN RECV: 1 [CRITICAL]|'tcp_LISTEN'=3;;@3;0 'tcp6_LISTEN'=2;;@3;0 'tcp_SYN_RECV'=1;;@3;0", 2},
		{[]string{"--conn-type", "udp", "--conn-type", "udp6", "--conn-status", "none", "-c", "@2:2", "--no-perfdata"}, "udp NONE: 2 [CRITICAL], udp6 NONE: 1", 2},
		{[]string{"--conn-type", "tcp", "-w", "2", "-c", "8", "--always-ok"}, "tcp ESTABLISHED: 10 [CRITICAL], tcp CLOSE WAIT: 3 [WARNING], tcp FIN WAIT2: 3 [WARNING], tcp LISTEN: 3 [WARNING], tcp SYN RECV: 1, tcp SYN SENT: 1, tcp TIME WAIT: 1 (always ok)" +
			"|'tcp_ESTABLISHED'=10;2;8;0 'tcp_CLOSE_WAIT'=3;2;8;0 'tcp_FIN_WAIT2'=3;2;8;0 'tcp_LISTEN'=3;2;8;0 'tcp_SYN_RECV'=1;2;8;0 'tcp_SYN_SENT'=1;2;8;0 'tcp_TIME_WAIT'=1;2;8;0", 0},
		{[]string{"--conn-type", "udp6", "--conn-status", "established,closing", "-w", "30:40"}, `No connections of type "udp6" in status "established,closing" found.`, 0},
		{[]string{"--conn-status", "last_ack"}, `No connections of type "all" in status "last_ack" found.`, 0},
	}
	// Every backend gives the same answer, a line each.
	for i := range tests {
		tests[i].stdout += "\n"
	}
	runCases(t, allBackends, tests)

	// The plugin and ss count the same sockets.
	stdout, _, _ := runBinary(t)
	if got, ss := perfCounts(t, stdout), ssCounts(t); formatCounts(got) != formatCounts(ss) || formatCounts(ss) != formatCounts(want) {
		t.Errorf("counts differ:\n plugin: %s\n ss:     %s\n mix:    %s", formatCounts(got), formatCounts(ss), formatCounts(want))
	}
}
