package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"
)

// forged is a name any local user may give a process or an ip netns: it
// tries to end root's status line and start a CRITICAL of its own.
const forged = "x|y\nCRITICAL: z"

// noForgery fails when a name broke out of its place in the text output:
// more than one '|', a line the check did not write, invalid UTF-8.
func noForgery(t *testing.T, args []string, stdout string) {
	t.Helper()
	if strings.Count(stdout, "|") > 1 || !utf8.ValidString(stdout) || strings.Contains(stdout, "\r") {
		t.Errorf("%q: a name broke out of its place:\n%s", args, stdout)
	}
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "CRITICAL: z") || strings.HasPrefix(l, "y") {
			t.Errorf("%q: forged line %q in:\n%s", args, l, stdout)
		}
	}
}

// ipNetns makes a named network namespace with loopback up, removed at the
// end of the test.
func ipNetns(t *testing.T, name string) {
	t.Helper()
	exec.Command("ip", "netns", "del", name).Run()
	for _, argv := range [][]string{{"ip", "netns", "add", name}, {"ip", "-n", name, "link", "set", "lo", "up"}} {
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%q: %v: %s", argv, err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
}

// ssCount counts the lines ss prints in a named namespace.
func ssCount(t *testing.T, ns string, args ...string) int {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "ss", "-H"}, args...)...).Output()
	if err != nil {
		t.Fatalf("ss %q in %s: %v", args, ns, err)
	}
	return strings.Count(string(out), "\n")
}

type trustEntity struct {
	Key   string `json:"key"`
	Netns string `json:"netns"`
	Total int    `json:"total"`
	State string `json:"state"`
}

type trustDoc struct {
	State string `json:"state"`
	TopBy struct {
		Entities  []trustEntity `json:"entities"`
		Offenders []trustEntity `json:"offenders"`
	} `json:"top_by"`
}

func runDoc(t *testing.T, args ...string) trustDoc {
	t.Helper()
	// -t 120: on a busy host every namespace's dump walks the host's sockets.
	stdout, stderr, _ := runBinary(t, append(args, "--format", "json", "-t", "120")...)
	var d trustDoc
	if err := json.Unmarshal([]byte(stdout), &d); err != nil || stderr != "" {
		t.Fatalf("%q: %v\n%s%s", args, err, stdout, stderr)
	}
	return d
}

// TestNamesCannotForge: a process and an ip netns named to forge the
// status line, through every option that shows names.
func TestNamesCannotForge(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: ip netns add")
	}
	need(t, "ip", "iproute2")
	if !alone(t) { // --netns all finds the test's namespaces, none of the host's
		return
	}
	name := "h19-" + forged
	ipNetns(t, name)
	holderIn(t, fmt.Sprintf("ip netns exec '%s'", name), 2)
	pid, _ := holder(t, forged, 2) // its comm: the forged name
	_ = pid
	for _, args := range [][]string{
		{"--netns", name, "-vv", "-c", "0"},
		{"--netns", name, "--group-by", "netns", "-c", "0"},
		{"--netns", "all", "--group-by", "netns,type,status", "-c", "established=0", "-v"},
		{"--netns", "all", "--top-by", "netns", "--top", "400", "--top-warning", "1"},
		{"--netns", "all", "--top-by", "remote-address", "--top", "400", "--top-warning", "1"},
		{"--top", "5", "-w", "0"},
		{"--netns", "all", "--top", "400", "-c", "established=0"},
		{"--netns", "/run/netns/" + name + "x", "-v"},
	} {
		stdout, stderr, code := runBinary(t, append(args, "-t", "120")...)
		if stderr != "" || code < 1 {
			t.Errorf("%q: exit %d, stderr %q\n%s", args, code, stderr, stdout)
		}
		noForgery(t, args, stdout)
	}
	// What --top names is the forged process, cleaned.
	stdout, _, _ := runBinary(t, "--top", "400", "-w", "0")
	if !strings.Contains(stdout, "(x¦y\ufffdCRITICAL: z)") {
		t.Errorf("--top does not name the holder, cleaned:\n%s", stdout)
	}
}

// TestTopByNetns: --top-by under --netns all. Five pods each talk to their
// own 127.0.0.1: five entities, never one of five times the connections;
// --top-by netns counts each namespace as ss does in it.
func TestTopByNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: ip netns add")
	}
	need(t, "ip", "iproute2")
	need(t, "ss", "iproute2")
	if !alone(t) {
		return
	}
	pods := []string{"h19-pod0", "h19-pod1", "h19-pod2", "h19-pod3", "h19-pod4"}
	for _, p := range pods {
		ipNetns(t, p)
		holderIn(t, "ip netns exec "+p, 3)
	}
	for _, p := range pods {
		if n := ssCount(t, p, "-tn", "state", "established", "dst", "127.0.0.1"); n != 6 {
			t.Fatalf("%s: ss counts %d connections to 127.0.0.1, want 6", p, n)
		}
	}
	ours := func(es []trustEntity) map[string]trustEntity {
		m := map[string]trustEntity{}
		for _, e := range es {
			if strings.HasPrefix(e.Netns, "h19-pod") || strings.HasPrefix(e.Key, "h19-pod") {
				m[e.Netns+"/"+e.Key] = e
			}
		}
		return m
	}
	for _, by := range []string{"type,status", "netns,type,status"} {
		d := runDoc(t, "--netns", "all", "--group-by", by, "--top-by", "remote-address", "--top", "1000", "--top-warning", "6")
		got := ours(d.TopBy.Entities)
		for _, p := range pods {
			if e := got[p+"/127.0.0.1"]; e.Total != 6 || e.State != "OK" {
				t.Errorf("--group-by %s: %s's 127.0.0.1: %+v, want its own 6, OK", by, p, e)
			}
		}
		for _, e := range d.TopBy.Entities {
			if e.Key == "127.0.0.1" && e.Netns == "" {
				t.Errorf("--group-by %s: loopback summed over namespaces: %+v", by, e)
			}
		}
		d = runDoc(t, "--netns", "all", "--group-by", by, "--top-by", "local-port", "--top", "1000")
		for _, e := range d.TopBy.Entities {
			if strings.HasPrefix(e.Netns, "h19-pod") && e.Total > 6 {
				t.Errorf("--group-by %s: local port %s of %s: %d sockets, want its own", by, e.Key, e.Netns, e.Total)
			}
		}
	}
	d := runDoc(t, "--netns", "all", "--top-by", "netns", "--top", "1000")
	got := ours(d.TopBy.Entities)
	for _, p := range pods {
		if e, want := got["/"+p], ssCount(t, p, "-tuan"); e.Total != want {
			t.Errorf("--top-by netns: %s: %+v, want %d as ss counts", p, e, want)
		}
	}
	// A limit on each namespace: the pods over it are named.
	stdout, _, code := runBinary(t, "--netns", "all", "--group-by", "netns", "--top-by", "netns", "--top-critical", "5", "--conn-type", "tcp", "--conn-status", "established", "-t", "120")
	first, _, _ := strings.Cut(stdout, "\n")
	if code != 2 || !strings.Contains(first, "network namespaces over the limit: ") || !strings.Contains(first, "h19-pod0 (6)") {
		t.Errorf("exit %d, want 2 naming the pods:\n%s", code, stdout)
	}
}

// TestLinkLocalPeers: fe80::2 on two links is two peers.
func TestLinkLocalPeers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: ip netns add")
	}
	need(t, "ip", "iproute2")
	if !alone(t) {
		return
	}
	client, peers := "h19-ll", []string{"h19-ll-a", "h19-ll-b"}
	ipNetns(t, client)
	for i, p := range peers {
		ipNetns(t, p)
		here, there := fmt.Sprintf("h19ll%d", i), fmt.Sprintf("h19pr%d", i)
		for _, argv := range [][]string{
			{"ip", "-n", client, "link", "add", here, "type", "veth", "peer", "name", there, "netns", p},
			{"ip", "-n", client, "addr", "add", "fe80::1/64", "dev", here, "nodad"},
			{"ip", "-n", p, "addr", "add", "fe80::2/64", "dev", there, "nodad"},
			{"ip", "-n", client, "link", "set", here, "up"},
			{"ip", "-n", p, "link", "set", there, "up"},
		} {
			if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("%q: %v: %s", argv, err, out)
			}
		}
		var l net.Listener
		if err := inNamedNetns(p, func() (err error) { l, err = net.Listen("tcp6", "[::]:7000"); return err }); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		for range i + 1 { // 1 connection on the first link, 2 on the second
			var c net.Conn
			err := inNamedNetns(client, func() (err error) { c, err = net.Dial("tcp6", "[fe80::2%"+here+"]:7000"); return err })
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
		}
	}
	d := runDoc(t, "--netns", "all", "--top-by", "remote-address", "--top", "1000", "--conn-status", "established")
	var got []string
	for _, e := range d.TopBy.Entities {
		if e.Netns == client {
			got = append(got, fmt.Sprintf("%s=%d", e.Key, e.Total))
		}
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "fe80::2%") || !strings.HasSuffix(got[0], "=2") || !strings.HasSuffix(got[1], "=1") || got[0][:len(got[0])-2] == got[1][:len(got[1])-2] {
		t.Errorf("%s's peers: %v, want fe80::2 on two links: 2 and 1", client, got)
	}
}

// TestNetnsAllWithoutPtrace: granted CAP_SYS_ADMIN alone, the check cannot
// read root's processes' namespaces: one of them, pinned by nothing, holds
// a listener nobody counts. That is a partial view: UNKNOWN, naming
// CAP_SYS_PTRACE, never OK.
func TestNetnsAllWithoutPtrace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: a process of root's in a namespace of its own")
	}
	need(t, "unshare", "util-linux")
	if !alone(t) {
		return
	}
	hidden := exec.Command("unshare", "-n", "sleep", "60")
	if err := hidden.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hidden.Process.Kill(); hidden.Wait() })
	stdout, stderr, code := runCmd(t, asNobodyWith(t, "+sys_admin", "--netns", "all", "-t", "120"))
	first, _, _ := strings.Cut(stdout, "\n")
	if code != 3 || stderr != "" || !strings.Contains(first, "not read: other users' /proc/PID/ns/net needs CAP_SYS_PTRACE") {
		t.Errorf("exit %d, want 3 naming CAP_SYS_PTRACE:\n%s%s", code, stdout, stderr)
	}
	// With it too, every namespace is read: no word of it.
	stdout, _, _ = runCmd(t, asNobodyWith(t, "+sys_admin,+sys_ptrace", "--netns", "all", "-t", "120"))
	if strings.Contains(stdout, "needs CAP_SYS_PTRACE") {
		t.Errorf("with CAP_SYS_PTRACE:\n%s", stdout)
	}
}
