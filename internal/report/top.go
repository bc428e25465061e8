package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/network-connections/network-connections/internal/collect"
	"github.com/network-connections/network-connections/internal/owners"
)

// Top names the processes holding the most sockets of the groups that alert
// (or of all groups when none does), and sums up the sockets it cannot name.
type Top struct {
	Alerting   bool           `json:"alerting_groups_only"`
	Groups     []string       `json:"groups"` // the labels attributed
	Processes  []ProcessCount `json:"processes"`
	NoProcess  []LabelCount   `json:"no_process"` // TIME_WAIT and request sockets
	NotFound   []LabelCount   `json:"not_found"`  // holder unreadable, or gone
	Unreadable int            `json:"unreadable"` // processes we may not read
}

// ProcessCount is one process's share of the sockets.
type ProcessCount struct {
	Pid    int32        `json:"pid"`
	Name   string       `json:"name"`
	Total  int          `json:"total"`
	Groups []LabelCount `json:"groups"`
}

// LabelCount is a count of one group's sockets.
type LabelCount struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

// Attribution tallies the listed sockets of the attributed groups to the
// processes holding them, as owners.Find reports them. It keeps 8 bytes or so
// a socket: an inode's group and whether a holder was seen.
type Attribution struct {
	top       *Top
	labels    []string          // the attributed groups' labels
	inodes    map[uint32]uint16 // inode -> index in labels, | seen once held
	byPid     map[int32]map[int]int
	names     map[int32]string
	noProcess map[string]int
	notFound  map[string]int // sockets the collector found no owner for
}

const seen = 1 << 15

// Attribute starts the attribution of the sockets of the groups that alert
// (or of all groups when none does). Sockets with a pid (gopsutil) and those
// no process can hold (inode 0) are tallied here.
func (r Report) Attribute(sockets []collect.Socket) *Attribution {
	a := &Attribution{top: &Top{Processes: []ProcessCount{}}, inodes: map[uint32]uint16{},
		byPid: map[int32]map[int]int{}, names: map[int32]string{}, noProcess: map[string]int{}, notFound: map[string]int{}}
	for _, g := range r.Groups {
		a.top.Alerting = a.top.Alerting || g.State != OK
	}
	index := map[string]int{}
	for _, g := range r.Groups {
		if g.State != OK || !a.top.Alerting {
			index[g.PerfLabel()] = len(a.labels)
			a.labels = append(a.labels, g.Label())
		}
	}
	a.top.Groups = a.labels
	for _, s := range sockets {
		g := Group{By: r.opts.GroupBy, Type: s.Type, Status: s.Status}
		i, ok := index[g.PerfLabel()]
		switch {
		case !ok:
		case s.Pid != 0:
			a.count(owners.Process{Pid: s.Pid}, i)
		case s.Kernel:
			a.noProcess[a.labels[i]]++
		case s.Inode == 0:
			a.notFound[a.labels[i]]++
		default:
			a.inodes[s.Inode] = uint16(i)
		}
	}
	return a
}

// Wants reports whether a socket inode is one to attribute.
func (a *Attribution) Wants(inode uint32) bool {
	_, ok := a.inodes[inode]
	return ok
}

// Held notes that p holds the socket inode (owners.Find's callback).
func (a *Attribution) Held(p owners.Process, inode uint32) {
	i := a.inodes[inode]
	a.inodes[inode] = i | seen
	a.count(p, int(i&^seen))
}

// count counts one socket of group i for p.
func (a *Attribution) count(p owners.Process, i int) {
	if a.byPid[p.Pid] == nil {
		a.byPid[p.Pid] = map[int]int{}
		a.names[p.Pid] = p.Name
	}
	a.byPid[p.Pid][i]++
}

// Top names the n processes holding the most sockets; unreadable is how many
// processes owners.Find could not read.
func (a *Attribution) Top(n, unreadable int) *Top {
	top := a.top
	top.Unreadable = unreadable
	for pid, counts := range a.byPid {
		byLabel := map[string]int{}
		for i, c := range counts {
			byLabel[a.labels[i]] = c
		}
		p := ProcessCount{Pid: pid, Name: a.names[pid], Groups: sortedCounts(byLabel)}
		if p.Name == "" {
			p.Name = owners.Name(pid)
		}
		for _, c := range p.Groups {
			p.Total += c.Count
		}
		top.Processes = append(top.Processes, p)
	}
	sort.Slice(top.Processes, func(i, j int) bool {
		a, b := top.Processes[i], top.Processes[j]
		if a.Total != b.Total {
			return a.Total > b.Total
		}
		return a.Pid < b.Pid
	})
	top.Processes = top.Processes[:min(n, len(top.Processes))]
	notFound := a.notFound
	for _, i := range a.inodes {
		if i&seen == 0 {
			notFound[a.labels[i]]++
		}
	}
	top.NoProcess, top.NotFound = sortedCounts(a.noProcess), sortedCounts(notFound)
	return top
}

func sortedCounts(m map[string]int) []LabelCount {
	out := []LabelCount{}
	for l, c := range m {
		out = append(out, LabelCount{l, c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Label < out[j].Label
	})
	return out
}

func joinCounts(cs []LabelCount) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%d %s", c.Count, c.Label)
	}
	return strings.Join(parts, ", ")
}

// Lines renders the long output: what is attributed, then a line a process,
// then the sockets no process could be named for, and why.
func (t *Top) Lines() []string {
	scope := "all groups"
	if t.Alerting {
		scope = "the groups that alert"
	}
	lines := []string{fmt.Sprintf("Top processes by sockets in %s (%s):", scope, strings.Join(t.Groups, ", "))}
	for _, p := range t.Processes {
		lines = append(lines, fmt.Sprintf("pid %d (%s): %s", p.Pid, p.Name, joinCounts(p.Groups)))
	}
	if len(t.NoProcess) > 0 {
		lines = append(lines, fmt.Sprintf("no process: %s (TIME_WAIT sockets and connections not yet accepted belong to the kernel)", joinCounts(t.NoProcess)))
	}
	if len(t.NotFound) > 0 {
		why := "their processes ended meanwhile or live in another PID namespace"
		if t.Unreadable > 0 {
			why = fmt.Sprintf("held by processes we may not read (%d of them): root, or CAP_SYS_PTRACE with CAP_DAC_READ_SEARCH, names them", t.Unreadable)
		}
		lines = append(lines, fmt.Sprintf("owner not found: %s (%s)", joinCounts(t.NotFound), why))
	}
	return lines
}
