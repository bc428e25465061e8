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

// Top attributes the listed sockets to their processes: n of them, most
// sockets first. Sockets with a pid (gopsutil) need no table.
func (r Report) Top(n int, sockets []collect.Socket, table owners.Table) *Top {
	top := &Top{Unreadable: table.Unreadable, Processes: []ProcessCount{}}
	want := map[string]bool{}
	for _, g := range r.Groups {
		top.Alerting = top.Alerting || g.State != OK
	}
	for _, g := range r.Groups {
		if g.State != OK || !top.Alerting {
			want[g.PerfLabel()] = true
			top.Groups = append(top.Groups, g.Label())
		}
	}
	byPid := map[int32]map[string]int{}
	names := map[int32]string{}
	noProcess, notFound := map[string]int{}, map[string]int{}
	for _, s := range sockets {
		g := Group{By: r.opts.GroupBy, Type: s.Type, Status: s.Status}
		if !want[g.PerfLabel()] {
			continue
		}
		label := g.Label()
		holders := table.Holders[s.Inode]
		switch {
		case s.Pid != 0:
			holders = []owners.Process{{Pid: s.Pid}}
		case s.Inode == 0:
			noProcess[label]++
			continue
		case len(holders) == 0:
			notFound[label]++
			continue
		}
		for _, h := range holders {
			if byPid[h.Pid] == nil {
				byPid[h.Pid] = map[string]int{}
				names[h.Pid] = h.Name
			}
			byPid[h.Pid][label]++
		}
	}
	for pid, counts := range byPid {
		p := ProcessCount{Pid: pid, Name: names[pid], Groups: sortedCounts(counts)}
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
	top.NoProcess, top.NotFound = sortedCounts(noProcess), sortedCounts(notFound)
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
