package saturation

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"
)

// table4 counts the sockets of each IPv4 tuple: open addressing over one
// array of 16-byte slots. A Go map of these keys finds a slot through a
// group's control word and holds a pointer to each Use; between the reads
// of a dump the kernel's walk of its tables evicts all of it, and a lookup
// missed the cache two or three times where this misses it once. The
// table is also a third of the map's memory: in a process that lives
// 100 ms, faulting in fresh pages is a good part of what a table costs
// (12 µs a page on the bench's VM).
type table4 struct {
	slots []slot4
	n     int
	seed  uint64 // per table: no one chooses the addresses that collide
}

// pageSlots is the slots a 4 KiB page holds.
const pageSlots = 4096 / 16

// slot4 is a tuple and its use; ports 0: empty.
type slot4 struct {
	addrs uint64 // the local address in the high half, the remote one low
	port  uint16 // the remote port
	// The tuple's sockets: each holds a local port of its own (sockets
	// of one tuple differ in nothing else), so there are fewer than 1<<16;
	// the sum saturates rather than wrap all the same.
	ports  uint16
	holder uint32 // one socket's inode, or (Space.pids) its process
}

func key4(local, remote [4]byte) uint64 {
	return uint64(binary.BigEndian.Uint32(local[:]))<<32 | uint64(binary.BigEndian.Uint32(remote[:]))
}

func (s *slot4) tuple() Tuple {
	var a [8]byte
	binary.BigEndian.PutUint64(a[:], s.addrs)
	return Tuple{Local: netip.AddrFrom4([4]byte(a[:4])).As16(), Remote: netip.AddrFrom4([4]byte(a[4:])).As16(), Port: s.port}
}

func (t *table4) hash(addrs uint64, port uint16) uint64 {
	hi, lo := bits.Mul64(addrs^t.seed, 0x9e3779b97f4a7c15)
	hi, lo = bits.Mul64(hi^lo^uint64(port), 0xbf58476d1ce4e5b9)
	return hi ^ lo
}

// add counts ports sockets of a tuple, one of them held by holder.
func (t *table4) add(addrs uint64, port, ports uint16, holder uint32) {
	if full(t.n+1, len(t.slots)) {
		t.grow()
	}
	t.from(t.hash(addrs, port)&uint64(len(t.slots)-1), addrs, port, ports, holder)
}

// from finds or adds a tuple, probing from slot i, and counts; there is room.
func (t *table4) from(i uint64, addrs uint64, port, ports uint16, holder uint32) {
	mask := uint64(len(t.slots) - 1)
	for ; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.ports == 0 {
			*s = slot4{addrs: addrs, port: port, ports: ports, holder: holder}
			t.n++
			return
		}
		if s.addrs == addrs && s.port == port {
			s.ports = sum16(s.ports, ports)
			if s.holder == 0 {
				s.holder = holder
			}
			return
		}
	}
}

func sum16(a, b uint16) uint16 {
	if s := a + b; s >= a {
		return s
	}
	return 1<<16 - 1
}

// full reports whether n tuples are more than slots should hold: three in
// four at most, a lookup's probe still within a cache line or two.
func full(n, slots int) bool { return 4*n > 3*slots }

// grow doubles the slots (1,024 at first).
func (t *table4) grow() {
	old := t.slots
	t.slots = make([]slot4, max(1024, 2*len(old)))
	// Fresh pages from the kernel: a lookup's read would map each to the
	// zero page and its write fault again to copy it. A write first
	// faults each page in once (half the faults: 240 to 120 at 10k tuples).
	for i := 0; i < len(t.slots); i += pageSlots {
		t.slots[i].ports = 0
	}
	if t.seed == 0 {
		t.seed = rand.Uint64() | 1
	}
	t.n = 0
	for i := range old {
		if s := &old[i]; s.ports != 0 {
			t.add(s.addrs, s.port, s.ports, s.holder)
		}
	}
}

// each is every slot taken.
func (t *table4) each(yield func(*slot4) bool) {
	for i := range t.slots {
		if s := &t.slots[i]; s.ports != 0 && !yield(s) {
			return
		}
	}
}
