package saturation

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"
)

// table4 counts the sockets of each IPv4 tuple: open addressing over one
// array, the key and its Use in one slot of 24 bytes. A Go map of these
// keys finds a slot through a group's control word and holds a pointer to
// each Use; between the reads of a dump the kernel's walk of its tables
// evicts all of it, and a lookup missed the cache two or three times where
// this misses it once (and addAll waits for a batch's misses at once).
type table4 struct {
	slots []slot4
	n     int
	seed  uint64 // per table: no one chooses the addresses that collide
	touch uint32 // what addAll's first pass read, kept so that it reads
}

// slot4 is a tuple and its use; key 0: empty.
type slot4 struct {
	addrs uint64 // the local address in the high half, the remote one low
	key   uint32 // the remote port, and 1<<16: taken
	Use
}

func key4(local, remote [4]byte, port uint16) (uint64, uint32) {
	return uint64(binary.BigEndian.Uint32(local[:]))<<32 | uint64(binary.BigEndian.Uint32(remote[:])), uint32(port) | 1<<16
}

func (s *slot4) tuple() Tuple {
	var a [8]byte
	binary.BigEndian.PutUint64(a[:], s.addrs)
	return Tuple{Local: netip.AddrFrom4([4]byte(a[:4])).As16(), Remote: netip.AddrFrom4([4]byte(a[4:])).As16(), Port: uint16(s.key)}
}

func (t *table4) hash(addrs uint64, key uint32) uint64 {
	hi, lo := bits.Mul64(addrs^t.seed, 0x9e3779b97f4a7c15)
	hi, lo = bits.Mul64(hi^lo^uint64(key), 0xbf58476d1ce4e5b9)
	return hi ^ lo
}

// at is the use of a tuple, added if new.
func (t *table4) at(addrs uint64, key uint32) *Use {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	return t.from(t.hash(addrs, key)&uint64(len(t.slots)-1), addrs, key)
}

// from finds or adds a tuple, probing from slot i; there is room.
func (t *table4) from(i uint64, addrs uint64, key uint32) *Use {
	mask := uint64(len(t.slots) - 1)
	for ; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key == key && s.addrs == addrs {
			return &s.Use
		}
		if s.key == 0 {
			s.addrs, s.key = addrs, key
			t.n++
			return &s.Use
		}
	}
}

// counted4 is a socket of an IPv4 tuple, and its holder.
type counted4 struct {
	addrs      uint64
	key, inode uint32
	pid        int32
	slot       uint32 // where its probe starts
}

// addAll counts a batch of sockets. A miss of the cache costs more than
// the rest of a lookup: a first pass reads the slot each starts from, and
// the processor waits for those reads at once, not one after the other.
func (t *table4) addAll(b []counted4) {
	for 2*(t.n+len(b)) > len(t.slots) {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	var touch uint32
	for j := range b {
		c := &b[j]
		c.slot = uint32(t.hash(c.addrs, c.key) & mask)
		touch += t.slots[c.slot].key
	}
	t.touch = touch
	for j := range b {
		c := &b[j]
		u := t.from(uint64(c.slot), c.addrs, c.key)
		u.Ports++
		if u.Inode == 0 && u.Pid == 0 {
			u.Inode, u.Pid = c.inode, c.pid
		}
	}
}

// grow doubles the slots (1,024 at first), at most half of them taken.
func (t *table4) grow() {
	old := t.slots
	t.slots = make([]slot4, max(1024, 2*len(old)))
	if t.seed == 0 {
		t.seed = rand.Uint64() | 1
	}
	t.n = 0
	for i := range old {
		if s := &old[i]; s.key != 0 {
			*t.at(s.addrs, s.key) = s.Use
		}
	}
}

// each is every slot taken.
func (t *table4) each(yield func(*slot4) bool) {
	for i := range t.slots {
		if s := &t.slots[i]; s.key != 0 && !yield(s) {
			return
		}
	}
}
