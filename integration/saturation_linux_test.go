package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The three measures (--listen-queue-*, --port-usage-*, --conntrack-*)
// against the kernel's own numbers: ss for the queues and ports, the
// namespace's /proc/sys/net/netfilter for conntrack.

// ssListenQueue is Recv-Q and Send-Q of the one listener ss finds with args
// (for a listener: the connections waiting for accept(), and the backlog).
func ssListenQueue(t *testing.T, args ...string) (queued, backlog int) {
	t.Helper()
	out, err := exec.Command("ss", append([]string{"-Hn"}, args...)...).Output()
	if err != nil {
		t.Fatalf("ss %q: %v", args, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 {
		t.Fatalf("ss %q: want one listener, got %q", args, out)
	}
	f := strings.Fields(lines[0])
	for i, w := range f {
		if w == "LISTEN" && i+2 < len(f) {
			queued, _ = strconv.Atoi(f[i+1])
			backlog, _ = strconv.Atoi(f[i+2])
			return queued, backlog
		}
	}
	t.Fatalf("ss %q: no LISTEN in %q", args, out)
	return 0, 0
}

var listenPct = regexp.MustCompile(`'listen_queue_max_pct'=([0-9.]+)%;`)

// pctOf reads a percent from the perfdata.
func pctOf(t *testing.T, re *regexp.Regexp, stdout string) float64 {
	t.Helper()
	m := re.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no %s in %q", re, stdout)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// comm is this test process's command name, as the check names a holder.
func comm(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// fillListenQueue connects to a listener with backlog 8 that never accepts,
// one connection a step, and checks the check's percent against ss's
// Recv-Q/Send-Q at each step, and its state: WARNING over 50, CRITICAL over
// 100 (full: the kernel queues backlog+1, then drops).
func fillListenQueue(t *testing.T, connect func() error, ss []string, args []string, name string) {
	t.Helper()
	prev := -1
	for step := 0; step <= 11; step++ {
		if step > 0 {
			if err := connect(); err != nil && !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINPROGRESS) {
				t.Fatalf("connect %d: %v", step, err)
			}
		}
		// The handshake completes in the kernel: wait until the queue
		// stops growing.
		queued, backlog := ssListenQueue(t, ss...)
		for deadline := time.Now().Add(2 * time.Second); queued == prev && step <= 9 && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
			queued, backlog = ssListenQueue(t, ss...)
		}
		prev = queued
		if backlog != 8 {
			t.Fatalf("ss says backlog %d, want 8", backlog)
		}
		stdout, stderr, code := runBinary(t, append(args, "--listen-queue-warning", "50", "--listen-queue-critical", "100")...)
		if stderr != "" {
			t.Fatalf("stderr: %q", stderr)
		}
		got := pctOf(t, listenPct, stdout)
		want := float64(100*queued) / float64(backlog)
		if again, _ := ssListenQueue(t, ss...); again != queued {
			t.Fatalf("step %d: the queue changed during the check (%d, then %d)", step, queued, again)
		}
		if fmt.Sprintf("%.2f", got) != fmt.Sprintf("%.2f", want) {
			t.Fatalf("step %d: listen_queue_max_pct %v, ss %d/%d = %v\n%s", step, got, queued, backlog, want, stdout)
		}
		wantCode := 0
		switch {
		case want > 100:
			wantCode = 2
		case want > 50:
			wantCode = 1
		}
		if code != wantCode {
			t.Fatalf("step %d (%d of %d queued): exit %d, want %d\n%s", step, queued, backlog, code, wantCode, stdout)
		}
		if wantCode > 0 && !strings.Contains(stdout, name+" ("+comm(t)+") "+strconv.FormatFloat(want, 'f', -1, 64)+"% [") {
			t.Fatalf("step %d: the listener %s is not named: %s", step, name, stdout)
		}
		t.Logf("step %d: %d queued of backlog %d: %v%%, exit %d", step, queued, backlog, got, code)
	}
	if prev != 9 {
		t.Fatalf("the queue ended at %d, want 9 (backlog 8 holds one more)", prev)
	}
}

func TestListenQueueTCP(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	need(t, "ss", "iproute2")
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 8); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	port := sa.(*unix.SockaddrInet4).Port
	var clients []int
	defer func() {
		for _, c := range clients {
			unix.Close(c)
		}
	}()
	connect := func() error {
		c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		clients = append(clients, c)
		return unix.Connect(c, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port})
	}
	name := fmt.Sprintf("127.0.0.1:%d", port)
	fillListenQueue(t, connect, []string{"-lt", "sport", "=", fmt.Sprintf(":%d", port)}, nil, name)
}

func TestListenQueueUnix(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	need(t, "ss", "iproute2")
	path := filepath.Join(t.TempDir(), "h23-queue.sock")
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 8); err != nil {
		t.Fatal(err)
	}
	var clients []int
	defer func() {
		for _, c := range clients {
			unix.Close(c)
		}
	}()
	connect := func() error {
		c, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		clients = append(clients, c)
		return unix.Connect(c, &unix.SockaddrUnix{Name: path})
	}
	fillListenQueue(t, connect, []string{"-lx", "src", path}, []string{"--conn-type", "unix"}, path)
}

// runJSON runs the check with --format json and decodes its document,
// valid against the schema.
func runJSON(t *testing.T, args ...string) (map[string]any, int) {
	t.Helper()
	stdout, stderr, code := runBinary(t, append(args, "--format", "json")...)
	if stderr != "" {
		t.Fatalf("stderr: %q", stderr)
	}
	return checkJSON(t, jsonSchema(t), stdout), code
}

// at walks a decoded document by keys and indexes.
func at(doc any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := doc.(map[string]any)
			doc = m[k]
		case int:
			l, _ := doc.([]any)
			if k >= len(l) {
				return nil
			}
			doc = l[k]
		}
	}
	return doc
}

// Ports: a namespace whose ephemeral range is 100 ports, 10 of them
// reserved and one a listener's (connect() skips it); connections to one
// destination until connect() fails with EADDRNOTAVAIL. The percent is the
// client sockets ss finds over 89 at each step, and reaches 100 exactly
// when the kernel refuses.
func TestPortUsage(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	need(t, "ss", "iproute2")
	for _, kv := range []string{"net.ipv4.ip_local_port_range=40000 40099", "net.ipv4.ip_local_reserved_ports=40010-40019"} {
		if out, err := exec.Command("sysctl", "-qw", kv).CombinedOutput(); err != nil {
			t.Fatalf("sysctl %s: %v: %s", kv, err, out)
		}
	}
	srv, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(srv)
	unix.SetsockoptInt(srv, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(srv, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 5000}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(srv, 4096); err != nil {
		t.Fatal(err)
	}
	var fds []int
	defer func() {
		for _, c := range fds {
			unix.Close(c)
		}
	}()
	inRange, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	fds = append(fds, inRange)
	if err := unix.Bind(inRange, &unix.SockaddrInet6{Port: 40050}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(inRange, 8); err != nil {
		t.Fatal(err)
	}
	ssClients := func() int {
		out, err := exec.Command("ss", "-Htn", "state", "established", "dst", "127.0.0.1:5000", "sport", ">=", ":40000", "sport", "<=", ":40099").Output()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(l)
			if len(f) < 3 {
				continue
			}
			_, p, _ := strings.Cut(f[len(f)-2], ":")
			if port, _ := strconv.Atoi(p); port >= 40010 && port <= 40019 || port == 40050 {
				t.Fatalf("the kernel gave a reserved or a listener's port: %s", l)
			}
			n++
		}
		return n
	}
	// check runs the check after step connections and returns the percent.
	check := func(step int) float64 {
		doc, code := runJSON(t, "--port-usage-warning", "50", "--port-usage-critical", "99.99")
		pu := at(doc, "saturation", "port_usage")
		if r := at(pu, "ranges", 0); at(r, "low") != 40000.0 || at(r, "high") != 40099.0 || at(r, "reserved") != 10.0 || at(r, "listening") != 1.0 || at(r, "usable") != 89.0 {
			t.Fatalf("ranges: %v", at(pu, "ranges"))
		}
		clients := ssClients()
		if clients != step {
			t.Fatalf("step %d: ss finds %d client sockets", step, clients)
		}
		got, _ := at(pu, "max_pct").(float64)
		want := float64(int(10000*float64(clients)/89+0.5)) / 100
		if got != want {
			t.Fatalf("step %d: max_pct %v, want %d/89 = %v: %v", step, got, clients, want, pu)
		}
		if step > 0 {
			f := at(pu, "fullest")
			if at(f, "remote") != "127.0.0.1:5000" || at(f, "local_address") != "127.0.0.1" || at(f, "in_use") != float64(clients) {
				t.Fatalf("step %d: fullest %v", step, f)
			}
		}
		wantCode := 0
		switch {
		case got > 99.99:
			wantCode = 2
		case got > 50:
			wantCode = 1
		}
		if code != wantCode {
			t.Fatalf("step %d: exit %d, want %d: %v", step, code, wantCode, pu)
		}
		return got
	}
	// 100% must come exactly when the next connect() is refused.
	pct := check(0)
	for step := 1; ; step++ {
		c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, c)
		err = unix.Connect(c, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 5000})
		refused := errors.Is(err, unix.EADDRNOTAVAIL)
		if err != nil && !refused {
			t.Fatalf("connect %d: %v", step, err)
		}
		if refused != (pct == 100) {
			t.Fatalf("connect %d: refused %v (%v), after the check said %v%%", step, refused, err, pct)
		}
		if refused {
			if step-1 != 89 {
				t.Fatalf("the kernel refused after %d connections, want 89", step-1)
			}
			stdout, _, _ := runBinary(t, "--port-usage-critical", "99.99")
			if !strings.Contains(stdout, "127.0.0.1 -> 127.0.0.1:5000 ("+comm(t)+") 100% [CRITICAL]") {
				t.Fatalf("the destination is not named: %s", stdout)
			}
			return
		}
		pct = check(step)
	}
}

// conntrackCount is a namespace's nf_conntrack_count, read inside it.
func conntrackCount(t *testing.T, name string) int {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", name, "cat", "/proc/sys/net/netfilter/nf_conntrack_count").Output()
	if err != nil {
		t.Fatalf("nf_conntrack_count in %s: %v", name, err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

// Conntrack: two namespaces, one whose rule uses ct state and holds
// tracked connections (to a listener that never accepts them), one without
// a rule. Under --netns all each one's count equals its own
// nf_conntrack_count and the percent its share of nf_conntrack_max
// (read-only outside the host's namespace on recent kernels, so not
// lowered: the warning range is set below the fill instead); the listener
// is named with its namespace.
func TestConntrack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: ip netns add")
	}
	need(t, "ip", "iproute2")
	need(t, "iptables", "iptables")
	active, idle := "h23-ct-active", "h23-ct-idle"
	for _, n := range []string{active, idle} {
		exec.Command("ip", "netns", "del", n).Run()
		if out, err := exec.Command("ip", "netns", "add", n).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", n, err, out)
		}
		t.Cleanup(func() { exec.Command("ip", "netns", "del", n).Run() })
		if out, err := exec.Command("ip", "-n", n, "link", "set", "lo", "up").CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	if out, err := exec.Command("ip", "netns", "exec", active, "iptables", "-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT").CombinedOutput(); err != nil {
		t.Fatalf("iptables in %s: %v: %s", active, err, out)
	}
	// Tracked connections: 20 over loopback, held open.
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	err := inNamedNetns(active, func() error {
		srv, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		fds = append(fds, srv)
		if err := unix.Bind(srv, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 7000}); err != nil {
			return err
		}
		if err := unix.Listen(srv, 64); err != nil {
			return err
		}
		for range 20 {
			c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			fds = append(fds, c)
			if err := unix.Connect(c, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 7000}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	maxText, err := os.ReadFile("/proc/sys/net/netfilter/nf_conntrack_max")
	if err != nil {
		t.Fatal(err)
	}
	limit, _ := strconv.Atoi(strings.TrimSpace(string(maxText)))
	for try := 0; ; try++ {
		before := map[string]int{active: conntrackCount(t, active), idle: conntrackCount(t, idle)}
		if before[active] < 20 {
			t.Fatalf("%s tracks %d connections, want at least 20", active, before[active])
		}
		// --netns all's document: its netns parts are not in the schema yet.
		stdout, _, code := runBinary(t, "--netns", "all", "--format", "json", "--group-by", "netns", "--conntrack-warning", "0:0.001", "--conntrack-critical", "50",
			"--listen-queue-warning", "30")
		var doc map[string]any
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("%v: %s", err, stdout)
		}
		after := map[string]int{active: conntrackCount(t, active), idle: conntrackCount(t, idle)}
		if fmt.Sprint(before) != fmt.Sprint(after) {
			if try < 3 {
				continue // an entry came or went meanwhile
			}
			t.Fatalf("the counts keep changing: %v, then %v", before, after)
		}
		found := 0
		tables, _ := at(doc, "saturation", "conntrack", "namespaces").([]any)
		for _, tb := range tables {
			name, _ := at(tb, "netns").(string)
			want, ok := before[name]
			if !ok {
				continue
			}
			found++
			pct := math.Round(1e6*float64(want)/float64(limit)) / 1e4 // 4 decimals: a big table
			if at(tb, "count") != float64(want) || at(tb, "max") != float64(limit) || at(tb, "pct") != pct || at(tb, "loaded") != true {
				t.Fatalf("%s: %v, want count %d of %d, %v%%", name, tb, want, limit, pct)
			}
			wantState := "OK"
			if pct > 0.001 {
				wantState = "WARNING"
			}
			if at(tb, "state") != wantState {
				t.Fatalf("%s: %v, want %s", name, tb, wantState)
			}
		}
		if found != 2 {
			t.Fatalf("want both namespaces in %v", tables)
		}
		// The listener that never accepted its 20 connections, named with
		// its namespace and process: 20 of backlog 64.
		named := false
		offenders, _ := at(doc, "saturation", "listen_queue", "offenders").([]any)
		for _, o := range offenders {
			if at(o, "netns") == active && at(o, "address") == "127.0.0.1:7000" {
				named = at(o, "queued") == 20.0 && at(o, "backlog") == 64.0 && at(o, "pct") == 31.25 && at(o, "process") == comm(t) && at(o, "state") == "WARNING"
			}
		}
		if !named {
			t.Fatalf("the listener of %s is not named right: %v", active, offenders)
		}
		if code == 3 {
			t.Fatalf("exit %d: %v", code, at(doc, "saturation"))
		}
		stdout, _, _ = runBinary(t, "--netns", "all", "--group-by", "netns", "--conntrack-warning", "0:0.001")
		// The series of those that alert come first: with hundreds of
		// foreign namespaces on the host, the bound may leave out the idle one.
		if !strings.Contains(stdout, "'"+active+"_conntrack_pct'=") ||
			!strings.Contains(stdout, "'"+idle+"_conntrack_pct'=0%;0:0.001;;0") && !strings.Contains(stdout, "perfdata: conntrack of some of") {
			t.Fatalf("no conntrack perfdata per namespace: %s", stdout)
		}
		return
	}
}

// All three measures at once, unix listeners too: one document the schema
// validates, with every measure, and the listeners of the namespace.
func TestSaturationJSON(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	l, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(l)
	if err := unix.Bind(l, &unix.SockaddrUnix{Name: "@h23-json"}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(l, 3); err != nil {
		t.Fatal(err)
	}
	doc, _ := runJSON(t, "--conn-type", "all,unix", "--listen-queue-critical", "100", "--port-usage-critical", "100", "--conntrack-critical", "100")
	for _, m := range []string{"listen_queue", "port_usage", "conntrack"} {
		if at(doc, "saturation", m) == nil {
			t.Errorf("no %s in %v", m, at(doc, "saturation"))
		}
	}
	if f := at(doc, "saturation", "listen_queue", "fullest"); at(f, "address") != "@h23-json" || at(f, "backlog") != 3.0 || at(f, "type") != "unix" {
		t.Errorf("the unix listener: %v", f)
	}
}
