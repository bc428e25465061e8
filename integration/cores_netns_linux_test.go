package integration

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// manyNamespaces makes n named network namespaces (ip netns add), each
// with a TCP listener and a UDP socket that this process holds; the
// namespace at index crit gets two listeners more.
func manyNamespaces(t *testing.T, n, crit int) {
	t.Helper()
	// Each its own TCP hash table (Linux 6.1 on): a dump in one of them
	// walks its sockets, not the host's, which on a busy host (500k sockets
	// of another test) made 500 dumps outlast the check's timeout.
	if out, err := exec.Command("sysctl", "-qw", "net.ipv4.tcp_child_ehash_entries=1024").CombinedOutput(); err != nil {
		t.Logf("no TCP hash tables of their own (%v: %s): each dump walks the host's", err, strings.TrimSpace(string(out)))
	}
	for i := range n {
		name := fmt.Sprintf("nc-many-%03d", i)
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", name, err, out)
		}
		t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
		listeners := 1
		if i == crit {
			listeners = 3
		}
		holdIn(t, name, listeners, 0)
	}
}

// TestCoresManyNamespaces: Icinga 2 and Nagios 4 run --netns all over 500
// namespaces (1000 groups), and record what the plugin printed: the status
// line naming the one that alerts first, every perfdata item the plugin
// printed (all, or as many as its bound allows, and said), the long output
// to its end. Nagios 4 keeps it all only because the plugin waits for its
// worker to read the output before exiting (drain_linux.go): without that
// it kept about the first 8 KB in one run of two.
// Alone (see alone), so that the namespaces are the test's.
func TestCoresManyNamespaces(t *testing.T) {
	if !alone(t) {
		return
	}
	const n, crit = 500, 250
	manyNamespaces(t, n, crit)
	args := []string{"--netns", "all", "--group-by", "netns,type,status", "-c", "tcp_listen=2"}
	stdout, stderr, code := runBinary(t, args...)
	first, long, _ := strings.Cut(stdout, "\n")
	text, perf, _ := strings.Cut(first, "|")
	long = strings.TrimSuffix(long, "\n")
	lines := strings.Split(long, "\n")
	items := strings.Fields(perf)
	if code != 2 || stderr != "" || !strings.HasPrefix(text, fmt.Sprintf("nc-many-%03d tcp LISTEN: 3 [CRITICAL], ", crit)) ||
		!strings.Contains(text, "and 990 more groups") || len(items) != 2*n && !strings.HasPrefix(lines[len(lines)-1], "perfdata: the ") {
		t.Fatalf("exit %d, stderr %q, want 2 naming nc-many-%03d first, the rest said:\n%.3000s", code, stderr, crit, stdout)
	}
	t.Logf("%d bytes: status line %d, %d perfdata items, %d lines of long output", len(stdout), len(text), len(items), len(lines))
	last := lines[len(lines)-1]
	check := func(t *testing.T, core string, got coreResult) {
		output := got.output
		if core == "nagios4" {
			output += "\n" + strings.ReplaceAll(got.long, `\n`, "\n")
		}
		recorded := strings.Fields(got.perf)
		if got.state != 2 || !strings.HasPrefix(output, text) || !strings.HasSuffix(strings.TrimSpace(output), last) || len(recorded) != len(items) {
			t.Errorf("%s recorded state %d, %d of %d perfdata items, output ending %q; want the plugin's %q ... %q",
				core, got.state, len(recorded), len(items), output[max(0, len(output)-200):], text[:min(80, len(text))], last)
		}
	}
	services := []coreService{{name: "netns-all", nagiosOptions: strings.Join(args[:4], " "), critical: "tcp_listen=2",
		icingaVars: "vars.network_connections_netns = \"all\"\n  vars.network_connections_group_by = \"netns,type,status\"\n", check: check}}
	plugins := pluginsDir(t)
	t.Run("icinga2", func(t *testing.T) { testIcinga2(t, repo, plugins, services, false) })
	t.Run("nagios4", func(t *testing.T) { testNagios4(t, repo, plugins, services) })
}
