package collect

import "github.com/network-connections/network-connections/internal/netns"

// Selective is a Sink that takes the sockets of some statuses only (bit
// 1<<Status): the collector counts the others without building them, so a
// sink that wants the listeners costs the plain count nothing more.
type Selective interface {
	Sink
	Statuses() uint16
}

// Picky is a Sink that, of the inet sockets of the statuses it takes,
// needs only some, told by their ports: the collector builds no Socket for
// the others (the port measure needs no socket on a listener's port).
type Picky interface {
	Sink
	Needs(s Status, local, remote uint16) bool
}

// Pairs4 is a Picky sink that takes the IPv4 TCP sockets it needs with a
// peer (not listening) as their numbers: sock_diag builds no Socket for
// them. The port measure takes every client socket of a busy host, and in
// a short-lived process the Socket and the calls around it cost as much
// as the measure's own count.
type Pairs4 interface {
	Picky
	AddPair4(local, remote [4]byte, localPort, remotePort uint16, inode uint32)
}

// needs reports whether sink needs an inet socket of status s it takes.
func needs(sink Sink, s Status, local, remote uint16) bool {
	p, ok := sink.(Picky)
	return !ok || p.Needs(s, local, remote)
}

// NetnsAware is a Sink told which network namespace the sockets that
// follow are in, on the thread that counts there (nil: the one being
// counted, when there is just one), so that it may read that namespace's
// /proc/sys/net. It is told one namespace at a time: --netns all counts on
// one thread for it.
type NetnsAware interface {
	Sink
	Enter(ns *netns.Namespace)
}

// TellNetns tells sink, if it asks, which namespace comes next.
func TellNetns(sink Sink, ns *netns.Namespace) {
	if s, ok := sink.(NetnsAware); ok {
		s.Enter(ns)
	}
}

// wants is the statuses whose sockets a sink takes: none without one.
func wants(sink Sink) uint16 {
	switch s := sink.(type) {
	case nil:
		return 0
	case Selective:
		return s.Statuses()
	}
	return 1<<NumStatuses - 1
}

// Tee hands each socket to every sink that takes its status; nil sinks are
// left out, and with one left that one is returned.
func Tee(sinks ...Sink) Sink {
	var t tee
	for _, s := range sinks {
		if s != nil {
			t = append(t, s)
		}
	}
	switch len(t) {
	case 0:
		return nil
	case 1:
		return t[0]
	}
	return t
}

type tee []Sink

func (t tee) Statuses() uint16 {
	var m uint16
	for _, s := range t {
		m |= wants(s)
	}
	return m
}

func (t tee) Add(s Socket) {
	for _, k := range t {
		if wants(k)&(1<<s.Status) != 0 {
			k.Add(s)
		}
	}
}

func (t tee) Needs(s Status, local, remote uint16) bool {
	for _, k := range t {
		if wants(k)&(1<<s) != 0 && needs(k, s, local, remote) {
			return true
		}
	}
	return false
}

func (t tee) Restart() {
	for _, k := range t {
		k.Restart()
	}
}

func (t tee) Done() {
	for _, k := range t {
		k.Done()
	}
}

func (t tee) Enter(ns *netns.Namespace) {
	for _, k := range t {
		TellNetns(k, ns)
	}
}

// For is the tee of a namespace's sinks: its own of each NetnsSink, the
// same of the others (then the namespaces are counted on one thread).
func (t tee) For(inode uint64, name string) Sink {
	out := make(tee, len(t))
	for i, k := range t {
		out[i] = k
		if s, ok := k.(NetnsSink); ok {
			out[i] = s.For(inode, name)
		}
	}
	return out
}

func (t tee) Drop(inode uint64) {
	for _, k := range t {
		if s, ok := k.(NetnsSink); ok {
			s.Drop(inode)
		}
	}
}
