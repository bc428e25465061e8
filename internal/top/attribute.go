package top

import (
	"maps"
	"sort"

	"github.com/network-connections/network-connections/internal/sock"
)

// Holders takes the counted sockets from the collector (a sock.Sink) and
// keeps what finding their holders needs, about 10 bytes a socket: an
// inode's type and status; the owner pid where the collector gives it
// (gopsutil); counts of the sockets no process can hold.
type Holders struct {
	inodes         map[uint32]uint8 // inode -> kind, | heldMark once held
	added          []uint32         // the inodes of the dump under way
	pids, pendPids map[pidKind]int  // gopsutil: pid and kind -> sockets
	kernel         map[uint8]int    // kind -> sockets only the kernel holds
	unknown        map[uint8]int    // kind -> sockets without an owner or inode
	pendKernel     map[uint8]int
	pendUnknown    map[uint8]int

	children perNetns[*Holders] // For: a namespace's own, merged before the walk
}

type pidKind struct {
	pid  int32
	kind uint8
}

// kind packs a socket's type and status in 7 bits; heldMark is the 8th.
func kind(t sock.Type, s sock.Status) uint8 { return uint8(t)<<4 | uint8(s) }
func unkind(k uint8) (sock.Type, sock.Status) {
	return sock.Type(k >> 4 & 7), sock.Status(k & 0xf)
}

const heldMark = 1 << 7

// NewHolders makes an empty Holders.
func NewHolders() *Holders {
	return &Holders{inodes: map[uint32]uint8{}, pids: map[pidKind]int{}, pendPids: map[pidKind]int{},
		kernel: map[uint8]int{}, unknown: map[uint8]int{}, pendKernel: map[uint8]int{}, pendUnknown: map[uint8]int{}}
}

// For is the Holders of one network namespace, for the thread that counts
// it (--netns all): sockets are files of the host, so the walk of /proc
// finds their holders whichever namespace they are in.
func (h *Holders) For(inode uint64, _ string) sock.Sink { return h.children.add(inode, NewHolders()) }

// Drop forgets a namespace that could not be counted to its end.
func (h *Holders) Drop(inode uint64) { h.children.Drop(inode) }

// merge takes in what the namespaces' Holders kept.
func (h *Holders) merge() {
	h.children.each(func(_ uint64, c *Holders) {
		maps.Copy(h.inodes, c.inodes)
		for p, n := range c.pids {
			h.pids[p] += n
		}
		for k, n := range c.kernel {
			h.kernel[k] += n
		}
		for k, n := range c.unknown {
			h.unknown[k] += n
		}
	})
	h.children = perNetns[*Holders]{}
}

// Add keeps a socket of the dump under way.
func (h *Holders) Add(s sock.Socket) {
	k := kind(s.Type, s.Status)
	switch {
	case s.Pid != 0: // the collector knows the owner
		h.pendPids[pidKind{s.Pid, k}]++
	case s.Kernel:
		h.pendKernel[k]++
	case s.Inode == 0: // no owner, and nothing to find one by
		h.pendUnknown[k]++
	default:
		h.inodes[s.Inode] = k
		h.added = append(h.added, s.Inode)
	}
}

// Restart forgets the dump under way; Done keeps it.
func (h *Holders) Restart() {
	for _, i := range h.added {
		delete(h.inodes, i)
	}
	h.forget()
}

func (h *Holders) forget() {
	h.added = h.added[:0]
	clear(h.pendPids)
	clear(h.pendKernel)
	clear(h.pendUnknown)
}

func (h *Holders) Done() {
	for p, n := range h.pendPids {
		h.pids[p] += n
	}
	for k, n := range h.pendKernel {
		h.kernel[k] += n
	}
	for k, n := range h.pendUnknown {
		h.unknown[k] += n
	}
	h.forget()
}

// attribution tallies the sockets in scope to the processes holding them.
type attribution struct {
	h      *Holders
	scope  Scope
	byPid  map[int32]map[int]int // pid -> group index -> sockets
	names  map[int32]string
	labels map[uint8]string // kind -> the label of its group in scope
}

func newAttribution(h *Holders, scope Scope) *attribution {
	h.merge()
	a := &attribution{h: h, scope: scope, byPid: map[int32]map[int]int{}, names: map[int32]string{}, labels: map[uint8]string{}}
	for p, n := range h.pids {
		if i, ok := a.group(p.kind); ok {
			a.byPid[p.pid] = addTo(a.byPid[p.pid], i, n)
		}
	}
	return a
}

// group is the index in scope of a kind's group, if it is in scope.
func (a *attribution) group(k uint8) (int, bool) {
	return a.scope.GroupOf(unkind(k &^ heldMark))
}

func addTo(m map[int]int, i, n int) map[int]int {
	if m == nil {
		m = map[int]int{}
	}
	m[i] += n
	return m
}

// wants reports whether a socket inode is one to attribute (walk's filter).
func (a *attribution) wants(inode uint32) bool {
	k, ok := a.h.inodes[inode]
	if !ok {
		return false
	}
	_, in := a.group(k)
	return in
}

// held notes that p holds the socket inode (walk's callback).
func (a *attribution) held(p Process, inode uint32) {
	k := a.h.inodes[inode]
	a.h.inodes[inode] = k | heldMark
	i, _ := a.group(k)
	if a.byPid[p.Pid] == nil {
		a.names[p.Pid] = p.Name
	}
	a.byPid[p.Pid] = addTo(a.byPid[p.Pid], i, 1)
}

// top names the n processes holding the most sockets; unreadable is how many
// processes the walk could not read.
func (a *attribution) top(proc string, n, unreadable int) *Top {
	t := &Top{Alerting: a.scope.Alerting, Groups: a.scope.Labels, Processes: []ProcessCount{}, Unreadable: unreadable}
	for pid, counts := range a.byPid {
		byLabel := map[string]int{}
		for i, c := range counts {
			byLabel[a.scope.Labels[i]] += c
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
	noProcess, notFound := map[string]int{}, map[string]int{}
	count := func(m map[string]int, k uint8, n int) {
		if i, ok := a.group(k); ok {
			m[a.scope.Labels[i]] += n
		}
	}
	for k, n := range a.h.kernel {
		count(noProcess, k, n)
	}
	for k, n := range a.h.unknown {
		count(notFound, k, n)
	}
	for _, k := range a.h.inodes {
		if k&heldMark == 0 {
			count(notFound, k, 1)
		}
	}
	t.NoProcess, t.NotFound = sortedCounts(noProcess), sortedCounts(notFound)
	return t
}
