package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBenchNetns is `make bench`'s part on --netns all: 200 namespaces,
// empty, then of 50 sockets each, then with 100k sockets in one more;
// timed in one run against the floor (setns and the fewest dumps in each),
// the loop an admin writes (nsenter -n -t PID ss -tan) and cAdvisor's way
// (/proc/PID/net/{tcp,tcp6,udp,udp6} in each). Alone (see alone), so that
// the namespaces counted are the benchmark's.
func TestBenchNetns(t *testing.T) {
	if os.Getenv("NC_BENCH") == "" {
		t.Skip("set NC_BENCH=1 (make bench) to run the benchmark")
	}
	if !alone(t) {
		if table, err := os.ReadFile(benchNetnsTable()); err == nil {
			fmt.Print(string(table))
		}
		return
	}
	need(t, "nsenter", "util-linux")
	floor := filepath.Join(t.TempDir(), "floor")
	if out, err := exec.Command("go", "build", "-o", floor, "./floor").CombinedOutput(); err != nil {
		t.Fatalf("build the floor: %v\n%s", err, out)
	}
	widePorts(t)
	const n = 200
	var pids []string
	for i := range n {
		name := fmt.Sprintf("bench-%03d", i)
		for _, argv := range [][]string{{"ip", "netns", "add", name}, {"ip", "-n", name, "link", "set", "lo", "up"}} {
			if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("%q: %v: %s", argv, err, out)
			}
		}
		t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
		// A process in each, as a container has: what nsenter -t and
		// /proc/PID/net need.
		sleep := exec.Command("ip", "netns", "exec", name, "sleep", "3600")
		if err := sleep.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait() })
		pids = append(pids, fmt.Sprint(sleep.Process.Pid))
	}
	time.Sleep(200 * time.Millisecond) // the sleeps in their namespaces

	cmds := []struct {
		key, name string
		argv      []string
		runs      int
	}{
		{"ours", "network-connections --netns all", []string{binary, "--netns", "all"}, 9},
		{"ours grouped", "network-connections --netns all --group-by netns,status", []string{binary, "--netns", "all", "--group-by", "netns,status"}, 9},
		{"ours top-by", "network-connections --netns all --top 3 --top-by remote-address", []string{binary, "--netns", "all", "--top", "3", "--top-by", "remote-address"}, 9},
		{"ours top", "network-connections --netns all --top 3", []string{binary, "--netns", "all", "--top", "3"}, 9},
		{"floor", "floor: setns and 3 dumps in each namespace", []string{floor, "netns"}, 9},
		{"procnet", "cAdvisor's way: /proc/PID/net/{tcp,tcp6,udp,udp6} each", append([]string{floor, "procnet"}, pids...), 5},
		{"nsenter", "for each pid: nsenter -n -t PID ss -tan", []string{"sh", "-c", "for p in " + strings.Join(pids, " ") + "; do nsenter -n -t $p ss -tan; done >/dev/null"}, 3},
	}
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "\nnetwork-connections --netns all benchmark, %s, %d CPUs, %s\n", host, numCPU(), time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "%s, Linux %s, net.ipv4.tcp_child_ehash_entries %s\n", cpuModel(), kernelRelease(), sysctl("net.ipv4.tcp_child_ehash_entries"))
	fmt.Fprintf(&b, "wall: median of N runs; peak RSS: one more run under GNU time\n\n")
	fmt.Fprintf(&b, "%-34s %-56s %4s %10s %9s\n", "namespaces", "command", "N", "wall", "peak RSS")
	wall := map[string]map[string]time.Duration{}
	var rssMax int64
	measure := func(phase string) {
		for _, c := range cmds {
			var walls []time.Duration
			for range c.runs {
				cmd := exec.Command(c.argv[0], c.argv[1:]...)
				start := time.Now()
				out, err := cmd.Output()
				if err != nil && cmd.ProcessState.ExitCode() > 2 {
					t.Fatalf("%s: %v: %s", c.name, err, out)
				}
				walls = append(walls, time.Since(start))
			}
			_, rss := peakRSS(t, c.argv)
			if strings.HasPrefix(c.key, "ours") {
				rssMax = max(rssMax, rss)
			}
			slices.Sort(walls)
			if wall[c.key] == nil {
				wall[c.key] = map[string]time.Duration{}
			}
			wall[c.key][phase] = walls[len(walls)/2]
			fmt.Fprintf(&b, "%-34s %-56s %4d %8.1fms %6.1fMiB\n", phase, c.name, c.runs, ms(walls[len(walls)/2]), float64(rss)/1024)
		}
		fmt.Fprintln(&b)
	}
	// The cost of a namespace that holds nothing: this one alone, then 200
	// empty ones more.
	own := []string{binary, "--netns", "all"}
	var alone []time.Duration
	for range 9 {
		cmd := exec.Command(own[0], own[1:]...)
		// The namespaces are there; the single-namespace check is the baseline.
		cmd.Args = []string{binary}
		start := time.Now()
		cmd.Run()
		alone = append(alone, time.Since(start))
	}
	slices.Sort(alone)
	measure("200 empty")
	const pairs = 24 // and a listener and a UDP socket: 50 sockets
	for i := range n {
		holdIn(t, fmt.Sprintf("bench-%03d", i), 1, pairs)
	}
	measure("200 x 50 sockets")
	var total int
	established := n * 2 * pairs
	for total < 100000 {
		p := min(holdPairs, (100000-total)/2)
		holder(t, "", p)
		total += 2*p + 1
		established += 2 * p
	}
	measure("200 x 50 + this one 100k")

	// Every socket counted: the namespaces' pairs and the holders'.
	stdout, stderr, code := runBinary(t, "--netns", "all", "--conn-type", "tcp", "--conn-status", "established")
	if got := perfCounts(t, stdout)["tcp_ESTABLISHED"]; got != established || code != 0 || stderr != "" {
		t.Errorf("--netns all counted %d tcp ESTABLISHED (exit %d, stderr %q), want %d", got, code, stderr, established)
	}

	at := func(key, phase string) time.Duration { return wall[key][phase] }
	empty := (at("ours", "200 empty") - alone[len(alone)/2]) / n
	fmt.Fprintf(&b, "per empty namespace (--netns all over 200 empty, less the plain check): %.2f ms\n", ms(empty))
	for _, phase := range []string{"200 x 50 sockets", "200 x 50 + this one 100k"} {
		fmt.Fprintf(&b, "%s:\n", phase)
		fmt.Fprintf(&b, "  ours / floor:                %.2f (target <= 1.2)\n", ratio(at("ours", phase), at("floor", phase)))
		fmt.Fprintf(&b, "  --top 3 --top-by remote-address / plain: %.2f (target <= 1.15)\n", ratio(at("ours top-by", phase), at("ours", phase)))
		fmt.Fprintf(&b, "  --top 3 (processes) / plain: %.2f\n", ratio(at("ours top", phase), at("ours", phase)))
		fmt.Fprintf(&b, "  nsenter + ss loop / ours:    %.1f (target >= 10 on the 200 small ones)\n", ratio(at("nsenter", phase), at("ours", phase)))
		fmt.Fprintf(&b, "  cAdvisor's /proc way / ours: %.1f\n", ratio(at("procnet", phase), at("ours", phase)))
	}
	fmt.Fprintf(&b, "peak RSS of ours: %.1f MiB (target < 20)\n", float64(rssMax)/1024)
	if err := os.WriteFile(benchNetnsTable(), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func benchNetnsTable() string {
	return filepath.Join(os.TempDir(), "network-connections-bench-netns.txt")
}

func sysctl(name string) string {
	b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(name, ".", "/"))
	if err != nil {
		return "(not in this kernel)"
	}
	return strings.TrimSpace(string(b))
}
