// Package saturation measures the three tables whose filling makes new
// connections fail before any count of sockets shows it: each listener's
// accept queue, the ephemeral ports to each destination, and the conntrack
// table. It takes the sockets as the collector dumps them (a sock.Sink)
// and reads the limits of each network namespace as the collector enters it;
// there, a conntrack table that alerts is dumped to name who fills it
// (ctnetlink.go).
package saturation

import (
	"iter"
	"math"
	"net/netip"
	"time"

	"github.com/network-connections/network-connections/internal/netns"
	"github.com/network-connections/network-connections/internal/sock"
)

// Options say which measures are on.
type Options struct {
	ListenQueue, PortUsage, Conntrack bool
	// ConntrackAlerts tells whether a table's percent (Conntrack.Pct)
	// alerts: then its entries are dumped to name who fills it (nil: never).
	ConntrackAlerts func(pct float64) bool
	// The dumps stop here (zero: they read to the end or a bound).
	Deadline time.Time
}

// Space is what one network namespace showed.
type Space struct {
	Netns     *netns.Namespace // nil: the one counted, without --netns all
	Listeners []Listener
	Ports     Ports
	Conntrack Conntrack
	Netstat   Netstat
	// The sockets of each (local address, remote address, remote port)
	// whose local port is one connect() may pick: IPv4 apart, in a table
	// of their own (table4).
	tuples  map[Tuple]Use
	tuples4 table4
	// Of the dump under way: Done adds them to the above.
	pending  map[Tuple]*Use
	pending4 table4
	// The table's holders are pids: a collector tells a socket's inode
	// (sock_diag, /proc) or its process (gopsutil), never both.
	pids bool
}

// Listener is a listening socket and its accept queue.
type Listener struct {
	Type            sock.Type
	Local           netip.AddrPort // inet
	Path            string         // unix: its name, "" unbound
	Queued, Backlog uint32
	Queues          bool // the collector told the queue (sock_diag)
	Inode           uint32
	Pid             int32 // where the collector knows it (gopsutil)
}

// Tuple is a destination as seen from one local address: connect() needs
// a local port no other socket of the same tuple holds.
type Tuple struct {
	Local, Remote [16]byte // IPv4 as IPv4-mapped: v4 and mapped v6 share ports
	Port          uint16
}

// Use is how many usable local ports a tuple holds, and one holder to name.
type Use struct {
	Ports int32
	Inode uint32
	Pid   int32
}

// Destination is a tuple and the ports it holds.
type Destination struct {
	Local  netip.Addr
	Remote netip.AddrPort
	Use
}

// Ports is a namespace's ephemeral port range: ip_local_port_range, less
// the ports of ip_local_reserved_ports in it.
type Ports struct {
	Low, High int
	Reserved  int // ports of the range that are reserved
	Listening int // ports of the range, not reserved, that a listener holds
	Err       string
	// A bit for each port reserved or held by a listener (nil: none),
	// and one for each port%64 among them (all of them with reserved
	// ports). Every socket's port is checked: most are in no bit of the
	// mask, and the bitmap, whose lookup for a random port misses the
	// cache (the kernel's walk between two reads of a dump evicts it),
	// is read only for the others.
	taken *[1 << 10]uint64
	mask  uint64
}

// Usable is how many ports connect() may pick: not reserved, and not held
// by a listener (connect() skips a port that bind() took, for every
// destination; the sockets a listener accepted share its port).
func (p Ports) Usable() int {
	if p.Err != "" || p.High < p.Low {
		return 0
	}
	return p.High - p.Low + 1 - p.Reserved - p.Listening
}

// usable reports whether connect() may pick port (inline: it is asked of
// every socket).
func (p *Ports) usable(port uint16) bool {
	bit := uint64(1) << (port & 63)
	return uint(int(port)-p.Low) <= uint(p.High-p.Low) && (p.mask&bit == 0 || p.taken[port>>6]&bit == 0)
}

// take marks a port taken (reserved, or held by a listener).
func (p *Ports) take(port int) {
	if p.taken == nil {
		p.taken = new([1 << 10]uint64)
	}
	p.taken[port>>6] |= 1 << (port & 63)
	p.mask |= 1 << (port & 63)
}

// listen notes a listener's port. The kernel dumps the listeners first,
// so the sockets they accepted, on the same port, find it taken.
func (p *Ports) listen(port uint16) {
	if !p.usable(port) {
		return
	}
	p.take(int(port))
	p.Listening++
}

// Conntrack is a namespace's conntrack table: its entries and the limit.
type Conntrack struct {
	Loaded     bool // the module is loaded (the sysctls exist)
	Count, Max int
	Err        string
	Sources    *Sources // who fills it, when it alerts (nil: not dumped)
}

// Judged reports whether the ranges judge the table: it was read, and
// has a limit.
func (c Conntrack) Judged() bool { return c.Err == "" && c.Loaded && c.Max > 0 }

// Pct is the count as a percent of the limit, to 4 decimals (a big
// table): what the ranges judge.
func (c Conntrack) Pct() float64 {
	if !c.Loaded || c.Max <= 0 {
		return 0
	}
	return math.Round(1e6*float64(c.Count)/float64(c.Max)) / 1e4
}

// Netstat is a namespace's listen counters from /proc/net/netstat.
type Netstat struct {
	ListenOverflows, ListenDrops int64
	Err                          string
}

// Sink is the sock.Sink the measures take the sockets from.
type Sink struct {
	opts   Options
	spaces []*Space
	cur    *Space
	mark   int // len(cur.Listeners) when the dump under way began
}

// NewSink takes the sockets for the measures that opts turn on.
func NewSink(opts Options) *Sink { return &Sink{opts: opts} }

// Statuses: listeners for the queues, every TCP state for the ports;
// nothing (only the namespaces' limits) for conntrack.
func (s *Sink) Statuses() uint16 {
	var m uint16
	if s.opts.ListenQueue {
		m |= 1 << sock.Listen
	}
	if s.opts.PortUsage {
		m |= (1<<sock.NumStatuses - 1) &^ (1 << sock.None)
	}
	return m
}

// Needs: listeners, and the sockets with a peer whose local port
// connect() may pick; not those a listener accepted, on its port.
func (s *Sink) Needs(st sock.Status, local, remote uint16) bool {
	if st == sock.Listen {
		return true
	}
	if !s.opts.PortUsage || remote == 0 {
		return false
	}
	return s.cur == nil || s.cur.Ports.usable(local) // Add enters one first
}

// Enter begins a namespace, on the thread inside it: it reads its limits.
func (s *Sink) Enter(ns *netns.Namespace) {
	var l Limits
	if s.opts.PortUsage {
		l.Ports = readPorts()
	}
	if s.opts.Conntrack {
		l.Conntrack = readConntrack()
		if c := &l.Conntrack; c.Judged() && s.opts.ConntrackAlerts != nil && s.opts.ConntrackAlerts(c.Pct()) {
			src := readSources(s.opts.Deadline)
			c.Sources = &src
		}
	}
	if s.opts.ListenQueue {
		l.Netstat = readNetstat()
	}
	s.EnterWith(ns, l)
}

// Limits are what a namespace's files tell the measures.
type Limits struct {
	Ports     Ports
	Conntrack Conntrack
	Netstat   Netstat
}

// EnterWith begins a namespace whose limits are known (tests give them).
func (s *Sink) EnterWith(ns *netns.Namespace, l Limits) {
	sp := &Space{Netns: ns, Ports: l.Ports, Conntrack: l.Conntrack, Netstat: l.Netstat}
	if s.opts.PortUsage {
		sp.tuples, sp.pending = map[Tuple]Use{}, map[Tuple]*Use{}
	}
	s.spaces = append(s.spaces, sp)
	s.cur, s.mark = sp, 0
}

func (s *Sink) Add(k sock.Socket) {
	if s.cur == nil {
		s.Enter(nil)
	}
	sp := s.cur
	if k.Status == sock.Listen {
		if s.opts.PortUsage && k.Type.IsTCP() {
			sp.Ports.listen(k.Local.Port())
		}
		if s.opts.ListenQueue && (k.Type.IsTCP() || k.Type == sock.Unix) {
			sp.Listeners = append(sp.Listeners, Listener{Type: k.Type, Local: k.Local, Path: k.Path,
				Queued: k.Queued, Backlog: k.Backlog, Queues: k.Queues, Inode: k.Inode, Pid: k.Pid})
		}
		return
	}
	if !s.opts.PortUsage || !k.Type.IsTCP() || k.Remote.Port() == 0 || !sp.Ports.usable(k.Local.Port()) {
		return
	}
	local, remote := k.Local.Addr().Unmap(), k.Remote.Addr().Unmap()
	if !perDestination {
		remote = netip.IPv4Unspecified()
		if local.Is6() {
			remote = netip.IPv6Unspecified()
		}
	}
	var port uint16
	if perDestination {
		port = k.Remote.Port()
	}
	if local.Is4() && remote.Is4() {
		holder := k.Inode
		if holder == 0 && k.Pid != 0 {
			holder, sp.pids = uint32(k.Pid), true
		}
		sp.add4(local.As4(), remote.As4(), port, holder)
		return
	}
	t := Tuple{Local: local.As16(), Remote: remote.As16(), Port: port}
	u := sp.pending[t]
	if u == nil {
		u = &Use{}
		sp.pending[t] = u
	}
	u.Ports++
	if u.Inode == 0 && u.Pid == 0 {
		u.Inode, u.Pid = k.Inode, k.Pid
	}
}

// AddPair4 takes an IPv4 TCP socket with a peer, not listening, as
// sock_diag reads it (collect.Pairs4).
func (s *Sink) AddPair4(local, remote [4]byte, localPort, remotePort uint16, inode uint32) {
	if s.cur == nil {
		s.Enter(nil)
	}
	if !s.opts.PortUsage || !s.cur.Ports.usable(localPort) {
		return
	}
	if !perDestination {
		remote, remotePort = [4]byte{}, 0
	}
	s.cur.add4(local, remote, remotePort, inode)
}

// add4 counts a socket of an IPv4 tuple.
func (sp *Space) add4(local, remote [4]byte, port uint16, holder uint32) {
	sp.pending4.add(key4(local, remote), port, 1, holder)
}

// Restart forgets the dump under way.
func (s *Sink) Restart() {
	if s.cur == nil {
		return
	}
	s.cur.Listeners = s.cur.Listeners[:s.mark]
	s.cur.forget()
}

// forget empties the maps of the dump under way: new ones, not clear(),
// which writes over every slot the map ever grew to, at each dump's start
// and end.
func (sp *Space) forget() {
	if len(sp.pending) > 0 {
		sp.pending = map[Tuple]*Use{}
	}
	if sp.pending4.n > 0 {
		sp.pending4 = table4{}
	}
}

// Done keeps the dump under way.
func (s *Sink) Done() {
	sp := s.cur
	if sp == nil {
		return
	}
	s.mark = len(sp.Listeners)
	keep := func(t Tuple, u *Use) {
		v := sp.tuples[t]
		v.Ports += u.Ports
		if v.Inode == 0 && v.Pid == 0 {
			v.Inode, v.Pid = u.Inode, u.Pid
		}
		sp.tuples[t] = v
	}
	for t, u := range sp.pending {
		keep(t, u)
	}
	if sp.tuples4.n == 0 { // the first dump with IPv4 tuples: its table
		sp.tuples4, sp.pending4 = sp.pending4, table4{}
	}
	for p := range sp.pending4.each {
		sp.tuples4.add(p.addrs, p.port, p.ports, p.holder)
	}
	sp.forget()
}

// Spaces is what each namespace showed, in the order they were entered;
// with inodes, only the namespaces among them (those counted).
func (s *Sink) Spaces(inodes ...uint64) []*Space {
	if len(inodes) == 0 {
		return s.spaces
	}
	keep := map[uint64]bool{}
	for _, i := range inodes {
		keep[i] = true
	}
	var out []*Space
	for _, sp := range s.spaces {
		if sp.Netns == nil || keep[sp.Netns.Inode] {
			out = append(out, sp)
		}
	}
	return out
}

// Tuples is each tuple's use, without building Destinations (for the
// largest).
func (sp *Space) Tuples() iter.Seq2[Tuple, Use] {
	return func(yield func(Tuple, Use) bool) {
		for s := range sp.tuples4.each {
			u := Use{Ports: int32(s.ports), Inode: s.holder}
			if sp.pids {
				u.Inode, u.Pid = 0, int32(s.holder)
			}
			if !yield(s.tuple(), u) {
				return
			}
		}
		for t, u := range sp.tuples {
			if !yield(t, u) {
				return
			}
		}
	}
}

// DestinationOf is a tuple as the output names it (Windows: the remote
// side unspecified, port 0: every destination).
func DestinationOf(t Tuple, u Use) Destination {
	return Destination{Local: addr(t.Local), Remote: netip.AddrPortFrom(addr(t.Remote), t.Port), Use: u}
}

func addr(b [16]byte) netip.Addr { return netip.AddrFrom16(b).Unmap() }
