package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// List is what Discover found.
type List struct {
	Namespaces []Namespace // the checker's own first
	// Processes whose namespace could not be read: another user namespace's
	// (EACCES even for root there), or another user's without CAP_SYS_PTRACE.
	Unreadable    int
	UnreadableErr error
}

// NamedDirs are where names for namespaces live: ip netns's, and Docker's
// (a container's namespace, held there also while no process is inside).
var NamedDirs = []string{"/run/netns", "/var/run/netns", "/run/docker/netns", "/var/run/docker/netns"}

// Discover finds every network namespace that a process is in or that a
// file in NamedDirs holds, each once, by its inode.
func Discover(proc string, named []string) (List, error) {
	var l List
	var self unix.Stat_t
	if err := unix.Stat(filepath.Join(proc, "self/ns/net"), &self); err != nil {
		return l, fmt.Errorf("%s/self/ns/net: %w", proc, err)
	}
	byInode := map[uint64]*Namespace{self.Ino: {Inode: self.Ino, Self: true}}
	order := []uint64{self.Ino}
	add := func(ino uint64) *Namespace {
		ns := byInode[ino]
		if ns == nil {
			ns = &Namespace{Inode: ino}
			byInode[ino] = ns
			order = append(order, ino)
		}
		return ns
	}
	dir, err := os.Open(proc)
	if err != nil {
		return l, err
	}
	defer dir.Close()
	for {
		names, err := dir.Readdirnames(1024)
		for _, name := range names {
			pid, err := strconv.Atoi(name)
			if err != nil || pid <= 0 {
				continue
			}
			var st unix.Stat_t
			switch err := unix.Stat(filepath.Join(proc, name, "ns/net"), &st); {
			case err == nil:
				ns := add(st.Ino)
				ns.Pids = append(ns.Pids, pid)
			case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ESRCH):
				// ended meanwhile
			default:
				l.Unreadable++
				l.UnreadableErr = err
			}
		}
		if err != nil {
			break // io.EOF, or a /proc that stopped answering: what was read stands
		}
	}
	for _, d := range named {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue // absent: no such runtime here
		}
		for _, e := range entries {
			var st unix.Stat_t
			p := filepath.Join(d, e.Name())
			// A file left behind without its mount is no namespace: nsfs
			// inodes live on the device of our own.
			if unix.Stat(p, &st) != nil || st.Dev != self.Dev {
				continue
			}
			ns := add(st.Ino)
			if !slices.Contains(ns.Named, p) {
				ns.Named = append(ns.Named, p)
			}
		}
	}
	for _, ino := range order {
		l.Namespaces = append(l.Namespaces, *byInode[ino])
	}
	name(proc, l.Namespaces)
	return l, nil
}

// name gives each namespace its Name and a unique Perf: host; the name ip
// netns gave it; its container (the pod, where Kubernetes runs it); a name
// Docker gave it; the oldest process inside.
func name(proc string, list []Namespace) {
	var pods []int // indexes of namespaces whose pod hostname is to be read
	for i := range list {
		ns := &list[i]
		if ns.Self {
			ns.Name, ns.Perf = "host", "host"
			continue
		}
		if n := ipNetnsName(ns.Named); n != "" {
			ns.Name, ns.Perf = n, PerfName(n)
			continue
		}
		if c, ok := container(proc, ns.Pids); ok {
			ns.Name, ns.Perf = c.Short(), PerfName(c.Short())
			if c.PodUID != "" {
				ns.Name, ns.Perf = "pod uid "+c.PodUID[:8], "pod-uid-"+c.PodUID[:8]
				pods = append(pods, i)
			}
			continue
		}
		if len(ns.Named) > 0 {
			n := "netns " + filepath.Base(ns.Named[0])
			ns.Name, ns.Perf = n, PerfName(n)
			continue
		}
		sortByAge(proc, ns.Pids)
		if len(ns.Pids) > 0 {
			pid := ns.Pids[0]
			comm := comm(proc, pid)
			ns.Name, ns.Perf = fmt.Sprintf("pid %d (%s)", pid, comm), PerfName(fmt.Sprintf("pid %d %s", pid, comm))
		}
	}
	podNames(proc, list, pods)
	seen := map[string]bool{}
	for i := range list {
		if seen[list[i].Perf] {
			list[i].Perf += "-" + strconv.FormatUint(list[i].Inode, 10)
		}
		seen[list[i].Perf] = true
	}
}

// ipNetnsName is the name `ip netns add` gave: a file under /run/netns.
func ipNetnsName(named []string) string {
	for _, p := range named {
		if d := filepath.Dir(p); d == "/run/netns" || d == "/var/run/netns" {
			return filepath.Base(p)
		}
	}
	return ""
}

// container reads the cgroups of the namespace's processes, up to a few,
// until one names a container.
func container(proc string, pids []int) (Container, bool) {
	for i, pid := range pids {
		if i == 64 {
			break // a namespace of many processes that name none is no container's
		}
		b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "cgroup"))
		if err != nil {
			continue
		}
		if c, ok := ParseCgroup(string(b)); ok {
			return c, true
		}
	}
	return Container{}, false
}

// sortByAge sorts pids oldest first, by their start time (/proc/PID/stat's
// 22nd field, in clock ticks since boot); pids that ended go last.
func sortByAge(proc string, pids []int) {
	if len(pids) < 2 {
		return
	}
	start := make(map[int]uint64, len(pids))
	for _, pid := range pids {
		start[pid] = startTime(proc, pid)
	}
	sort.SliceStable(pids, func(i, j int) bool {
		a, b := start[pids[i]], start[pids[j]]
		if a != b {
			return a < b
		}
		return pids[i] < pids[j]
	})
}

func startTime(proc string, pid int) uint64 {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return ^uint64(0)
	}
	// The command, field 2, is in parentheses and may hold spaces: count
	// from the last ')'. Field 22 is then the 20th after it.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		if f := strings.Fields(s[i+1:]); len(f) >= 20 {
			if v, err := strconv.ParseUint(f[19], 10, 64); err == nil {
				return v
			}
		}
	}
	return ^uint64(0)
}

func comm(proc string, pid int) string {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "comm"))
	if err != nil {
		return "ended"
	}
	return strings.TrimSpace(string(b))
}
