package integration

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Who fills a conntrack table: in a namespace of the test's, flows from
// several sources (v4 on loopback's 127/8, v6 on addresses added to lo),
// each with a count of its own. When the table alerts, the check's top
// sources and entries equal what conntrack -L lists in the namespace;
// without CAP_NET_ADMIN it says so, and the exit code stays.
func TestConntrackSources(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: ip netns add, iptables")
	}
	need(t, "ip", "iproute2")
	need(t, "iptables", "iptables")
	need(t, "ip6tables", "iptables")
	need(t, "conntrack", "conntrack")
	const ns = "h23-ct-sources"
	exec.Command("ip", "netns", "del", ns).Run()
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	for _, c := range [][]string{
		{"ip", "-n", ns, "link", "set", "lo", "up"},
		{"ip", "-n", ns, "addr", "add", "fd00::2/128", "dev", "lo", "nodad"},
		{"ip", "-n", ns, "addr", "add", "fd00::3/128", "dev", "lo", "nodad"},
		// A rule that uses ct state makes the namespace track, each family.
		{"ip", "netns", "exec", ns, "iptables", "-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
		{"ip", "netns", "exec", ns, "ip6tables", "-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%q: %v: %s", c, err, out)
		}
	}
	// Flows: (source, protocol, how many), each from a port of its own.
	flows := []struct {
		src   string
		proto int
		n     int
	}{{"127.0.0.2", unix.SOCK_STREAM, 7}, {"fd00::3", unix.SOCK_DGRAM, 6}, {"127.0.0.3", unix.SOCK_DGRAM, 5},
		{"fd00::2", unix.SOCK_STREAM, 4}, {"127.0.0.4", unix.SOCK_STREAM, 3}, {"127.0.0.4", unix.SOCK_DGRAM, 2}}
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	err := inNamedNetns(ns, func() error {
		socket := func(family, typ int) (int, error) {
			fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, 0)
			if err == nil {
				fds = append(fds, fd)
			}
			return fd, err
		}
		listeners := map[bool]unix.Sockaddr{false: &unix.SockaddrInet4{Port: 7100, Addr: [4]byte{127, 0, 0, 1}},
			true: &unix.SockaddrInet6{Port: 7100, Addr: [16]byte{15: 1}}}
		for v6, sa := range listeners {
			family := map[bool]int{false: unix.AF_INET, true: unix.AF_INET6}[v6]
			for _, typ := range []int{unix.SOCK_STREAM, unix.SOCK_DGRAM} {
				fd, err := socket(family, typ)
				if err != nil {
					return err
				}
				if err := unix.Bind(fd, sa); err != nil {
					return err
				}
				if typ == unix.SOCK_STREAM {
					if err := unix.Listen(fd, 64); err != nil {
						return err
					}
				}
			}
		}
		for _, f := range flows {
			a := netip.MustParseAddr(f.src)
			family, local := unix.AF_INET6, unix.Sockaddr(&unix.SockaddrInet6{Addr: a.As16()})
			if a.Is4() {
				family, local = unix.AF_INET, &unix.SockaddrInet4{Addr: a.As4()}
			}
			for range f.n {
				fd, err := socket(family, f.proto)
				if err != nil {
					return err
				}
				if err := unix.Bind(fd, local); err != nil {
					return fmt.Errorf("bind %s: %w", f.src, err)
				}
				if err := unix.Connect(fd, listeners[a.Is6()]); err != nil {
					return fmt.Errorf("connect from %s: %w", f.src, err)
				}
				if f.proto == unix.SOCK_DGRAM {
					if _, err := unix.Write(fd, []byte("x")); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for try := 0; ; try++ {
		before := conntrackList(t, ns)
		doc, code := runJSON(t, "--netns", ns, "--conntrack-warning", "0:0.0001")
		text, _, textCode := runBinary(t, "--netns", ns, "--conntrack-warning", "0:0.0001")
		if after := conntrackList(t, ns); !slices.Equal(before, after) {
			if try < 3 {
				continue // an entry came or went meanwhile
			}
			t.Fatalf("conntrack -L keeps changing: %v, then %v", before, after)
		}
		want, wantEntries := topSources(before)
		if wantEntries < 27 {
			t.Fatalf("conntrack -L lists %d entries, want the 27 flows: %v", wantEntries, before)
		}
		tables, _ := at(doc, "saturation", "conntrack", "namespaces").([]any)
		if len(tables) != 1 || at(tables[0], "state") != "WARNING" {
			t.Fatalf("want one table in WARNING: %v", tables)
		}
		src := at(tables[0], "sources")
		var got []string
		top, _ := at(src, "top").([]any)
		for _, s := range top {
			got = append(got, fmt.Sprintf("%v %v %v", at(s, "address"), at(s, "protocol"), at(s, "entries")))
		}
		if at(src, "entries") != float64(wantEntries) || at(src, "cut") != nil || !slices.Equal(got, want) {
			t.Fatalf("sources %v: want %d entries, top %q (conntrack -L: %q)", src, wantEntries, want, before)
		}
		wantLine := fmt.Sprintf("conntrack %s: who fills it: %s (of %d entries read)\n", ns, strings.Join(want, ", "), wantEntries)
		if !strings.Contains(text, wantLine) || code != 1 || textCode != 1 {
			t.Fatalf("exit %d, %d; want 1 and the line %q in:\n%s", code, textCode, wantLine, text)
		}
		t.Logf("conntrack -L: %d entries; the check: %s", wantEntries, wantLine)
		// Without CAP_NET_ADMIN (root's other capabilities kept, to enter
		// the namespace): the note, and the same status line and exit.
		need(t, "setpriv", "util-linux")
		capless, _, caplessCode := runCmd(t, exec.Command("setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin",
			binary, "--netns", ns, "--conntrack-warning", "0:0.0001"))
		note := fmt.Sprintf("conntrack %s: who fills it: needs CAP_NET_ADMIN (run as root or setcap cap_net_admin)\n", ns)
		firstLine := func(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }
		if !strings.Contains(capless, note) || caplessCode != textCode || firstLine(capless) != firstLine(text) {
			t.Fatalf("without CAP_NET_ADMIN: exit %d, want %d, the line %q and the status line of\n%s\nin:\n%s", caplessCode, textCode, note, text, capless)
		}
		// A table that does not alert is not dumped.
		ok, _ := runJSON(t, "--netns", ns, "--conntrack-warning", "90")
		if s := at(ok, "saturation", "conntrack", "namespaces", 0, "sources"); s != nil {
			t.Fatalf("a table under the limit was dumped: %v", s)
		}
		return
	}
}

// conntrackList is what conntrack -L lists in the namespace, each family:
// a line per entry, "protocol source" of the original direction, sorted.
func conntrackList(t *testing.T, ns string) []string {
	t.Helper()
	var out []string
	for _, family := range []string{"ipv4", "ipv6"} {
		b, err := exec.Command("ip", "netns", "exec", ns, "conntrack", "-L", "-f", family).Output()
		if err != nil {
			t.Fatalf("conntrack -L -f %s in %s: %v", family, ns, err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Fields(l)
			i := slices.IndexFunc(f, func(s string) bool { return strings.HasPrefix(s, "src=") })
			if len(f) == 0 || i < 0 {
				continue
			}
			out = append(out, f[0]+" "+strings.TrimPrefix(f[i], "src="))
		}
	}
	slices.Sort(out)
	return out
}

// topSources is the five sources with the most entries in conntrack -L's
// lines, ties by address then protocol, as "address protocol entries".
func topSources(lines []string) ([]string, int) {
	type key struct {
		addr  netip.Addr
		proto string
	}
	count := map[key]int{}
	for _, l := range lines {
		proto, addr, _ := strings.Cut(l, " ")
		count[key{netip.MustParseAddr(addr), proto}]++
	}
	keys := slices.Collect(maps.Keys(count))
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(count[b], count[a]), a.addr.Compare(b.addr), cmp.Compare(a.proto, b.proto))
	})
	var top []string
	for _, k := range keys[:min(5, len(keys))] {
		top = append(top, fmt.Sprintf("%s %s %d", k.addr, k.proto, count[k]))
	}
	return top, len(lines)
}
