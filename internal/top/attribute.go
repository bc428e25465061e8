package top

import (
	"sort"

	"github.com/network-connections/network-connections/internal/collect"
)

// attribution tallies the sockets in scope to the processes holding them.
// It keeps 8 bytes or so a socket: an inode's group, and whether a holder was
// seen.
type attribution struct {
	scope     Scope
	inodes    map[uint32]uint16 // inode -> group index, | heldMark once held
	byPid     map[int32]map[int]int
	names     map[int32]string
	noProcess map[string]int // held by no process: the kernel's
	notFound  map[string]int // the collector found no owner (gopsutil)
}

// heldMark, in an inode's entry, says that a holder was seen: group indexes
// stay far below it (there are at most a few dozen groups).
const heldMark = 1 << 15

func newAttribution(sockets []collect.Socket, scope Scope) *attribution {
	a := &attribution{scope: scope, inodes: map[uint32]uint16{}, byPid: map[int32]map[int]int{},
		names: map[int32]string{}, noProcess: map[string]int{}, notFound: map[string]int{}}
	for _, s := range sockets {
		i, ok := scope.GroupOf(s.Type, s.Status)
		switch {
		case !ok:
		case s.Pid != 0: // the collector knows the owner
			a.count(Process{Pid: s.Pid}, i)
		case s.Kernel:
			a.noProcess[scope.Labels[i]]++
		case s.Inode == 0: // no owner, and nothing to find one by
			a.notFound[scope.Labels[i]]++
		default:
			a.inodes[s.Inode] = uint16(i)
		}
	}
	return a
}

// wants reports whether a socket inode is one to attribute (walk's filter).
func (a *attribution) wants(inode uint32) bool {
	_, ok := a.inodes[inode]
	return ok
}

// held notes that p holds the socket inode (walk's callback).
func (a *attribution) held(p Process, inode uint32) {
	i := a.inodes[inode]
	a.inodes[inode] = i | heldMark
	a.count(p, int(i&^heldMark))
}

// count counts one socket of group i for p.
func (a *attribution) count(p Process, i int) {
	if a.byPid[p.Pid] == nil {
		a.byPid[p.Pid] = map[int]int{}
		a.names[p.Pid] = p.Name
	}
	a.byPid[p.Pid][i]++
}

// top names the n processes holding the most sockets; unreadable is how many
// processes the walk could not read.
func (a *attribution) top(proc string, n, unreadable int) *Top {
	t := &Top{Alerting: a.scope.Alerting, Groups: a.scope.Labels, Processes: []ProcessCount{}, Unreadable: unreadable}
	for pid, counts := range a.byPid {
		byLabel := map[string]int{}
		for i, c := range counts {
			byLabel[a.scope.Labels[i]] = c
		}
		p := ProcessCount{Pid: pid, Name: a.names[pid], Groups: sortedCounts(byLabel)}
		if p.Name == "" {
			p.Name = nameOf(proc, pid)
		}
		for _, c := range p.Groups {
			p.Total += c.Count
		}
		t.Processes = append(t.Processes, p)
	}
	sort.Slice(t.Processes, func(i, j int) bool {
		a, b := t.Processes[i], t.Processes[j]
		if a.Total != b.Total {
			return a.Total > b.Total
		}
		return a.Pid < b.Pid
	})
	t.Processes = t.Processes[:min(n, len(t.Processes))]
	for _, i := range a.inodes {
		if i&heldMark == 0 {
			a.notFound[a.scope.Labels[i]]++
		}
	}
	t.NoProcess, t.NotFound = sortedCounts(a.noProcess), sortedCounts(a.notFound)
	return t
}
