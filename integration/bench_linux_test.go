package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBench is `make bench`: it fills a private network namespace with
// 10k, 50k, 100k and 500k loopback TCP sockets and times, in one run, our check,
// its other backends, `ss -tan` and a bare dump-and-count program (the floor).
// It prints a table and asserts nothing about time: this machine is shared.
func TestBench(t *testing.T) {
	if os.Getenv("NC_BENCH") == "" {
		t.Skip("set NC_BENCH=1 (make bench) to run the benchmark")
	}
	if !inPrivateNetns(t) {
		if table, err := os.ReadFile(benchTable()); err == nil {
			fmt.Print(string(table))
		}
		return
	}
	floor := filepath.Join(t.TempDir(), "floor")
	if out, err := exec.Command("go", "build", "-o", floor, "./floor").CombinedOutput(); err != nil {
		t.Fatalf("build the floor: %v\n%s", err, out)
	}
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		t.Fatal("the benchmark measures peak RSS with GNU time: apt-get install time")
	}
	widePorts(t)

	cmds := []struct {
		key, name string
		argv      []string
		runs      int
	}{
		{"default", "network-connections", []string{binary}, 9},
		{"filtered", "network-connections --conn-type tcp --conn-status established", []string{binary, "--conn-type", "tcp", "--conn-status", "established"}, 9},
		{"scoped", "network-connections --local-port P (first holder's listener)", []string{binary, "--local-port"}, 9},
		{"top", "network-connections --top 5 (500 processes)", []string{binary, "--top", "5"}, 5},
		{"procfs", "network-connections --backend procfs", []string{binary, "--backend", "procfs"}, 5},
		{"gopsutil", "network-connections --backend gopsutil", []string{binary, "--backend", "gopsutil", "-t", "60"}, 3},
		{"ss", "ss -tan", []string{"ss", "-tan"}, 5},
		{"ss -p", "ss -tanp (names the processes, as --top does)", []string{"ss", "-tanp"}, 3},
		{"top-by", "network-connections --conn-status established --top 10 --top-by remote-address", []string{binary, "--conn-status", "established", "--top", "10", "--top-by", "remote-address"}, 9},
		{"ss peers", "ss -tnH state established | awk | cut | sort | uniq -c | sort -rn | head", []string{"sh", "-c", "ss -tnH state established | awk '{print $4}' | cut -d: -f1 | sort | uniq -c | sort -rn | head"}, 3},
		{"floor", "floor: dump and count (3 dumps: tcp and tcp6 in one)", []string{floor}, 9},
		{"floor filtered", "floor: tcp established dump", []string{floor, "filtered"}, 9},
	}
	// The measures, each against the plain check: timed in turns, a run of
	// each in every round, so that what the other tenants of a shared
	// machine do weighs on all alike; each round starts one further along,
	// as a place in the round weighs too (in a fixed order, a measure that
	// reads two small files and takes no socket came out 1.04x the plain
	// check it followed; in turns, 1.00x to 1.03x).
	measures := []struct{ key, name string }{
		{"plain", "network-connections (in turns with the three below)"},
		{"listen-queue", "network-connections --listen-queue-warning 90"},
		{"port-usage", "network-connections --port-usage-warning 90"},
		{"conntrack", "network-connections --conntrack-warning 90"},
	}
	const measureRounds = 51

	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "\nnetwork-connections benchmark, %s, %d CPUs, %s\n", host, numCPU(), time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "%s, Linux %s\n", cpuModel(), kernelRelease())
	fmt.Fprintf(&b, "wall: median of N runs; peak RSS: one more run under GNU time\n\n")
	fmt.Fprintf(&b, "%-8s %-64s %4s %10s %9s\n", "sockets", "command", "N", "wall", "peak RSS")

	// The clients come from 1,000 peers (for --top-by remote-address).
	t.Setenv("NC_HOLD_PEERS", "1000")

	// --top walks every process: 500 of them, as on a busy host.
	for range 500 - 13 {
		idle := exec.Command("sleep", "3600")
		if err := idle.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { idle.Process.Kill(); idle.Wait() })
	}

	// Sockets are held by child processes of at most holdPairs pairs each:
	// one process may not hold more files than RLIMIT_NOFILE allows.
	n := 0
	wall := map[string]map[int]time.Duration{}
	relative := map[string]map[int]float64{} // a measure's time over the plain check's, in turns
	firstPort := 0
	var holderPorts []int
	// NC_BENCH_MAX=100000 stops there (500k takes long on a small machine).
	last, _ := strconv.Atoi(os.Getenv("NC_BENCH_MAX"))
	for _, target := range []int{10000, 50000, 100000, 500000} {
		if last > 0 && target > last {
			break
		}
		for n < target {
			pairs := min(holdPairs, (target-n-1)/2)
			_, p := holder(t, "", pairs)
			holderPorts = append(holderPorts, p)
			if firstPort == 0 {
				firstPort = p
				// The scoped check: the first holder's server side only.
				cmds[2].argv = append(cmds[2].argv, fmt.Sprint(p)) // "scoped"
			}
			n += 2*pairs + 1
		}
		for _, c := range cmds {
			if c.key == "ss -p" && target > 100000 {
				continue // over 100 s a run at 500k
			}
			var walls []time.Duration
			for range c.runs {
				cmd := exec.Command(c.argv[0], c.argv[1:]...)
				start := time.Now()
				out, err := cmd.Output()
				d := time.Since(start)
				if err != nil && cmd.ProcessState.ExitCode() > 2 {
					t.Fatalf("%s: %v: %s", c.name, err, out)
				}
				walls = append(walls, d)
			}
			_, rss := peakRSS(t, c.argv)
			slices.Sort(walls)
			med := walls[len(walls)/2]
			if wall[c.key] == nil {
				wall[c.key] = map[int]time.Duration{}
			}
			wall[c.key][target] = med
			fmt.Fprintf(&b, "%-8d %-64s %4d %8.1fms %6.1fMiB\n", n, c.name, c.runs, ms(med), float64(rss)/1024)
		}
		// Each round times the plain check and each measure; a measure's
		// cost is the median of its time over the plain one's of its round.
		turns := map[string][]time.Duration{}
		rel, relCPU := map[string][]float64{}, map[string][]float64{}
		for round := range measureRounds {
			took, cpu := map[string]time.Duration{}, map[string]time.Duration{}
			for i := range measures {
				m := measures[(i+round)%len(measures)]
				argv := []string{binary}
				if m.key != "plain" {
					argv = append(argv, "--"+m.key+"-warning", "90")
				}
				cmd := exec.Command(argv[0], argv[1:]...)
				start := time.Now()
				out, err := cmd.Output()
				d := time.Since(start)
				if err != nil && cmd.ProcessState.ExitCode() > 2 {
					t.Fatalf("%s: %v: %s", m.name, err, out)
				}
				took[m.key], cpu[m.key] = d, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime()
			}
			for _, m := range measures {
				turns[m.key] = append(turns[m.key], took[m.key])
				rel[m.key] = append(rel[m.key], ratio(took[m.key], took["plain"]))
				relCPU[m.key] = append(relCPU[m.key], ratio(cpu[m.key], cpu["plain"]))
			}
		}
		for _, m := range measures {
			walls, ratios, cpus := turns[m.key], rel[m.key], relCPU[m.key]
			slices.Sort(walls)
			slices.Sort(ratios)
			slices.Sort(cpus)
			if wall[m.key] == nil {
				wall[m.key] = map[int]time.Duration{}
				relative[m.key] = map[int]float64{}
			}
			wall[m.key][target] = walls[len(walls)/2]
			relative[m.key][target] = ratios[len(ratios)/2]
			fmt.Fprintf(&b, "%-8d %-64s %4d %8.1fms  x%.2f (CPU time x%.2f)\n", n, m.name, measureRounds, ms(walls[len(walls)/2]), ratios[len(ratios)/2], cpus[len(cpus)/2])
		}
		// Every socket still there: the numbers above are of n sockets.
		want := fmt.Sprintf("'tcp_ESTABLISHED'=%d;;;0", n-len(holderPorts))
		if out, _ := exec.Command(binary, "--conn-type", "tcp", "--conn-status", "established").Output(); !strings.Contains(string(out), want) {
			all, _ := exec.Command(binary, "--top", "40").Output()
			sockstat, _ := os.ReadFile("/proc/net/sockstat")
			t.Fatalf("after the %d-socket runs: %q, want %s\nall sockets:\n%s\n%s", n, out, want, all, sockstat)
		}
		fmt.Fprintln(&b)
	}

	// The speed targets the project set itself (README, Speed), read off this run.
	at := func(key string) time.Duration { return wall[key][100000] }
	ours, filtered := at("default"), at("filtered")
	fmt.Fprintf(&b, "at 100k sockets:\n")
	fmt.Fprintf(&b, "  default / ss -tan:              %.2f (target <= 0.5)\n", ratio(ours, at("ss")))
	fmt.Fprintf(&b, "  default / floor:                %.2f (target <= 1.3)\n", ratio(ours, at("floor")))
	fmt.Fprintf(&b, "  filtered / floor filtered:      %.2f (target <= 1.3)\n", ratio(filtered, at("floor filtered")))
	fmt.Fprintf(&b, "  gopsutil backend / default:     %.1f (target >= 15)\n", ratio(at("gopsutil"), ours))
	fmt.Fprintf(&b, "  gopsutil backend / floor:       %.1f (the floor itself: the most a serial dump reaches)\n", ratio(at("gopsutil"), at("floor")))
	fmt.Fprintf(&b, "  scoped (kernel bytecode) / default: %.2f\n", ratio(at("scoped"), ours))
	fmt.Fprintf(&b, "  --top 5 / default:              %.2f\n", ratio(at("top"), ours))
	fmt.Fprintf(&b, "  --top 5 / ss -tanp:             %.2f\n", ratio(at("top"), at("ss -p")))
	fmt.Fprintf(&b, "  --top-by remote-address / default: %.2f at 100k, %.2f at 500k (target <= 2)\n", ratio(at("top-by"), ours), ratio(wall["top-by"][500000], wall["default"][500000]))
	fmt.Fprintf(&b, "  --top-by remote-address / ss pipeline: %.2f at 100k, %.2f at 500k\n", ratio(at("top-by"), at("ss peers")), ratio(wall["top-by"][500000], wall["ss peers"][500000]))
	for _, key := range []string{"listen-queue", "port-usage", "conntrack"} {
		fmt.Fprintf(&b, "  --%s-warning / plain, in turns: %*.2f (target <= 1.1)\n", key, 13-len(key), relative[key][100000])
	}
	fmt.Fprintf(&b, "  default 500k / 100k:            %.1f (linear: about 5)\n", ratio(wall["default"][500000], ours))
	fmt.Fprintf(&b, "  default 100k / 10k:             %.1f (linear: about 10, less while start-up weighs in)\n", ratio(ours, wall["default"][10000]))
	if err := os.WriteFile(benchTable(), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// holdPairs keeps a holder's files (2 a pair, and its listener) under the
// usual hard limit of 20000 open files.
const holdPairs = 9000

// peakRSS runs argv once under GNU time and returns its stdout and its peak
// RSS in KiB. ProcessState's rusage would not do: Go starts children with
// vfork, so their maxrss starts at this (large) test process's.
func peakRSS(t *testing.T, argv []string) ([]byte, int64) {
	t.Helper()
	rss := filepath.Join(t.TempDir(), "rss")
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", rss}, argv...)...)
	out, err := cmd.Output()
	if err != nil && cmd.ProcessState.ExitCode() > 2 {
		t.Fatalf("/usr/bin/time %q: %v (apt-get install time)", argv, err)
	}
	b, err := os.ReadFile(rss) // "Command exited with non-zero status 1" may come first
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var kib int64
	fmt.Sscan(lines[len(lines)-1], &kib)
	return out, kib
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func kernelRelease() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

func benchTable() string { return filepath.Join(os.TempDir(), "network-connections-bench.txt") }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func numCPU() int {
	out, _ := exec.Command("nproc").Output()
	var n int
	fmt.Sscan(string(out), &n)
	return n
}
