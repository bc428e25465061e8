package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// peers opens connections from known loopback addresses to two listeners:
// one IPv4, one dual-stack (whose IPv4 clients are IPv4-mapped peers). It
// returns the listeners' ports.
func peers(t *testing.T) (v4Port, dualPort int) {
	t.Helper()
	keep := func(c interface{ Close() error }) { t.Cleanup(func() { c.Close() }) }
	l4, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	keep(l4)
	dual, err := net.Listen("tcp", "[::]:0")
	if err != nil {
		t.Fatal(err)
	}
	keep(dual)
	dial := func(network, from string, l net.Listener, to string, n int) {
		for range n {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
			c, err := d.Dial(network, net.JoinHostPort(to, strconv.Itoa(port(l.Addr()))))
			if err != nil {
				t.Fatal(err)
			}
			keep(c)
			s, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			keep(s)
		}
	}
	dial("tcp4", "127.0.0.2", l4, "127.0.0.1", 5)
	dial("tcp4", "127.0.0.3", l4, "127.0.0.1", 3)
	dial("tcp4", "127.0.0.4", l4, "127.0.0.1", 3) // ties with 127.0.0.3
	dial("tcp4", "127.1.0.9", l4, "127.0.0.1", 2)
	dial("tcp4", "127.0.0.5", dual, "127.0.0.1", 4) // IPv4-mapped on the server side
	dial("tcp6", "::1", dual, "::1", 2)
	return port(l4.Addr()), port(dual.Addr())
}

// ssPeers is the admins' pipeline: ss's peers of the server sides, by
// address (IPv4-mapped shown as IPv4), counted.
func ssPeers(t *testing.T, ports ...int) map[string]int {
	t.Helper()
	var expr []string
	for _, p := range ports {
		expr = append(expr, fmt.Sprintf("sport = :%d", p))
	}
	out, err := exec.Command("ss", "-tnH", "state", "established", "( "+strings.Join(expr, " or ")+" )").Output()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		host, _, _ := net.SplitHostPort(f[3])
		counts[strings.TrimPrefix(host, "::ffff:")]++
	}
	return counts
}

// entityTotals reads "KEY: 5 tcp ESTABLISHED, 2 tcp6 ESTABLISHED" lines.
func entityTotals(t *testing.T, stdout string) (map[string]int, []string) {
	t.Helper()
	totals := map[string]int{}
	var order []string
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	for _, l := range lines[min(2, len(lines)):] {
		key, counts, ok := strings.Cut(l, ": ")
		if !ok {
			t.Fatalf("bad entity line %q in\n%s", l, stdout)
		}
		for _, c := range strings.Split(strings.TrimSuffix(strings.TrimSuffix(counts, " [WARNING]"), " [CRITICAL]"), ", ") {
			n, err := strconv.Atoi(strings.Fields(c)[0])
			if err != nil {
				t.Fatalf("bad count %q in %q", c, l)
			}
			totals[key] += n
		}
		order = append(order, key)
	}
	return totals, order
}

func TestTopBy(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	p4, pd := peers(t)
	scope := []string{"--conn-status", "established", "--local-port", fmt.Sprintf("%d,%d", p4, pd)}
	want := ssPeers(t, p4, pd)
	if fmt.Sprint(want) != "map[127.0.0.2:5 127.0.0.3:3 127.0.0.4:3 127.0.0.5:4 127.1.0.9:2 ::1:2]" {
		t.Fatalf("the peers as ss sees them: %v", want)
	}
	for _, backend := range allBackends {
		t.Run("remote-address "+backend, func(t *testing.T) {
			stdout, _, code := runBinary(t, append([]string{"--backend", backend, "--top", "10", "--top-by", "remote-address"}, scope...)...)
			got, order := entityTotals(t, stdout)
			if fmt.Sprint(got) != fmt.Sprint(want) || code != 0 {
				t.Errorf("exit %d, %v; ss: %v\n%s", code, got, want, stdout)
			}
			// Largest first, ties by address.
			if strings.Join(order, " ") != "127.0.0.2 127.0.0.5 127.0.0.3 127.0.0.4 127.1.0.9 ::1" {
				t.Errorf("order %v", order)
			}
			if !strings.Contains(stdout, "127.0.0.5: 4 tcp6 ESTABLISHED\n") || !strings.Contains(stdout, "'top_remote_address_max'=5;;;0") {
				t.Errorf("mapped peer or perfdata:\n%s", stdout)
			}
		})
	}

	runCases(t, allBackends, []outputCase{
		{append([]string{"--top", "3", "--top-by", "remote-network"}, scope...),
			"tcp ESTABLISHED: 13, tcp6 ESTABLISHED: 6|'tcp_ESTABLISHED'=13;;;0 'tcp6_ESTABLISHED'=6;;;0 'top_remote_network_max'=15;;;0\n" +
				"Top remote networks by sockets in all groups (tcp ESTABLISHED, tcp6 ESTABLISHED):\n" +
				"127.0.0.0/24: 11 tcp ESTABLISHED, 4 tcp6 ESTABLISHED\n127.1.0.0/24: 2 tcp ESTABLISHED\n::/64: 2 tcp6 ESTABLISHED\n", 0},
		{append([]string{"--top", "1", "--top-by", "remote-network", "--network-prefix", "8,128"}, scope...),
			"tcp ESTABLISHED: 13, tcp6 ESTABLISHED: 6|'tcp_ESTABLISHED'=13;;;0 'tcp6_ESTABLISHED'=6;;;0 'top_remote_network_max'=17;;;0\n" +
				"Top remote networks by sockets in all groups (tcp ESTABLISHED, tcp6 ESTABLISHED):\n" +
				"127.0.0.0/8: 13 tcp ESTABLISHED, 4 tcp6 ESTABLISHED\n", 0},
		{[]string{"--top", "2", "--top-by", "local-port", "--conn-status", "established", "--conn-type", "tcp,tcp6"},
			fmt.Sprintf("tcp ESTABLISHED: 30, tcp6 ESTABLISHED: 8|'tcp_ESTABLISHED'=30;;;0 'tcp6_ESTABLISHED'=8;;;0 'top_local_port_max'=13;;;0\n"+
				"Top local ports by sockets in all groups (tcp ESTABLISHED, tcp6 ESTABLISHED):\n"+
				"%d: 13 tcp ESTABLISHED\n%d: 6 tcp6 ESTABLISHED\n", p4, pd), 0},
		{[]string{"--top", "2", "--top-by", "remote-port", "--conn-status", "established"},
			fmt.Sprintf("tcp ESTABLISHED: 30, tcp6 ESTABLISHED: 8|'tcp_ESTABLISHED'=30;;;0 'tcp6_ESTABLISHED'=8;;;0 'top_remote_port_max'=13;;;0\n"+
				"Top remote ports by sockets in all groups (tcp ESTABLISHED, tcp6 ESTABLISHED):\n"+
				"%d: 13 tcp ESTABLISHED\n%d: 4 tcp ESTABLISHED, 2 tcp6 ESTABLISHED\n", p4, pd), 0},
		// A limit per peer: the one over it raises the state and is named.
		{append([]string{"--top-by", "remote-address", "--top-critical", "4"}, scope...),
			"tcp ESTABLISHED: 13, tcp6 ESTABLISHED: 6, 1 remote address over the limit: 127.0.0.2 (5)|'tcp_ESTABLISHED'=13;;;0 'tcp6_ESTABLISHED'=6;;;0 'top_remote_address_max'=5;;4;0\n" +
				"Remote addresses over the limit, by sockets in all groups (tcp ESTABLISHED, tcp6 ESTABLISHED):\n" +
				"127.0.0.2: 5 tcp ESTABLISHED [CRITICAL]\n", 2},
		{append([]string{"--top-by", "remote-address", "--top-warning", "@3:4", "--top-critical", "5"}, scope...),
			"tcp ESTABLISHED: 13, tcp6 ESTABLISHED: 6, 3 remote addresses over the limit: 127.0.0.5 (4), 127.0.0.3 (3), 127.0.0.4 (3)|'tcp_ESTABLISHED'=13;;;0 'tcp6_ESTABLISHED'=6;;;0 'top_remote_address_max'=5;@3:4;5;0\n" +
				"Remote addresses over the limit, by sockets in all groups (tcp ESTABLISHED, tcp6 ESTABLISHED):\n" +
				"127.0.0.5: 4 tcp6 ESTABLISHED [WARNING]\n127.0.0.3: 3 tcp ESTABLISHED [WARNING]\n127.0.0.4: 3 tcp ESTABLISHED [WARNING]\n", 1},
		// --top and a limit: the largest, marked where over it.
		{append([]string{"--top", "2", "--top-by", "remote-address", "--top-warning", "4"}, scope...),
			"tcp ESTABLISHED: 13, tcp6 ESTABLISHED: 6, 1 remote address over the limit: 127.0.0.2 (5)|'tcp_ESTABLISHED'=13;;;0 'tcp6_ESTABLISHED'=6;;;0 'top_remote_address_max'=5;4;;0\n" +
				"Top remote addresses by sockets in all groups (tcp ESTABLISHED, tcp6 ESTABLISHED):\n" +
				"127.0.0.2: 5 tcp ESTABLISHED [WARNING]\n127.0.0.5: 4 tcp6 ESTABLISHED\n", 1},
		// --top 1 and offenders beyond it: those have their lines too.
		{append([]string{"--top", "1", "--top-by", "remote-address", "--top-warning", "@3:3"}, scope...),
			"tcp ESTABLISHED: 13, tcp6 ESTABLISHED: 6, 2 remote addresses over the limit: 127.0.0.3 (3), 127.0.0.4 (3)|'tcp_ESTABLISHED'=13;;;0 'tcp6_ESTABLISHED'=6;;;0 'top_remote_address_max'=5;@3:3;;0\n" +
				"Top remote addresses by sockets in all groups (tcp ESTABLISHED, tcp6 ESTABLISHED):\n" +
				"127.0.0.2: 5 tcp ESTABLISHED\n127.0.0.3: 3 tcp ESTABLISHED [WARNING]\n127.0.0.4: 3 tcp ESTABLISHED [WARNING]\n", 1},
		// Listeners have no peer: no entity, nothing to judge.
		{[]string{"--conn-status", "listen", "--top-by", "remote-port", "--top-critical", "0"},
			"tcp LISTEN: 1, tcp6 LISTEN: 1|'tcp_LISTEN'=1;;;0 'tcp6_LISTEN'=1;;;0 'top_remote_port_max'=0;;0;0\n", 0},
		{[]string{"--top-by", "nothing", "--top", "3"}, "UNKNOWN: --top-by: unknown key \"nothing\" (want one of process, remote-address, remote-network, local-port, remote-port, netns)\n", 3},
		{[]string{"--top-by", "remote-port", "--top-warning", "10:5"}, "UNKNOWN: --top-warning: range \"10:5\": start is greater than end\n", 3},
	})

	// JSON lists the entities with their counts and states.
	stdout, _, _ := runBinary(t, append([]string{"--format", "json", "--top", "2", "--top-by", "remote-address", "--top-warning", "4"}, scope...)...)
	doc := checkJSON(t, jsonSchema(t), stdout)
	b, _ := json.Marshal(doc["top_by"])
	if want := `{"alerting_groups_only":false,"count":6,"critical":"","entities":[{"groups":[{"count":5,"label":"tcp ESTABLISHED"}],"key":"127.0.0.2","state":"WARNING","total":5},{"groups":[{"count":4,"label":"tcp6 ESTABLISHED"}],"key":"127.0.0.5","state":"OK","total":4}],"groups":["tcp ESTABLISHED","tcp6 ESTABLISHED"],"key":"remote-address","max":5,"offenders":[{"groups":[{"count":5,"label":"tcp ESTABLISHED"}],"key":"127.0.0.2","state":"WARNING","total":5}],"warning":"4"}`; string(b) != want {
		t.Errorf("top_by: %s\nwant %s", b, want)
	}
}
