package top

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/network-connections/network-connections/internal/sock"
)

// Key is what --top-by groups the sockets by: the processes holding them,
// what the sockets themselves carry (addresses and ports), which needs no
// walk of /proc, or the network namespace they are in.
type Key int

const (
	ByProcess Key = iota
	ByRemoteAddress
	ByRemoteNetwork
	ByLocalPort
	ByRemotePort
	ByNetns
	numKeys
)

var keyNames = [numKeys]string{"process", "remote-address", "remote-network", "local-port", "remote-port", "netns"}

func (k Key) String() string { return keyNames[k] }

// MarshalText names the key in JSON as --top-by does.
func (k Key) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// ParseKey reads a --top-by value.
func ParseKey(s string) (Key, error) {
	for k, n := range keyNames {
		if strings.EqualFold(s, n) {
			return Key(k), nil
		}
	}
	return 0, fmt.Errorf("unknown key %q (want one of %s)", s, strings.Join(keyNames[:], ", "))
}

// Noun names n entities of k: "1 remote address", "3 remote addresses",
// "2 network namespaces".
func (k Key) Noun(n int) string {
	noun := strings.ReplaceAll(k.String(), "-", " ")
	if k == ByNetns {
		noun = "network namespace"
	}
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "s") {
		return strconv.Itoa(n) + " " + noun + "es"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// Entity is one value of a key and its share of the sockets in scope: with
// --netns all, in one network namespace or summed over all.
type Entity struct {
	Name       string       `json:"key"`
	Netns      string       `json:"netns,omitempty"`       // the namespace it is in, when it is kept apart
	NetnsInode uint64       `json:"netns_inode,omitempty"` // its identity
	Total      int          `json:"total"`
	Groups     []LabelCount `json:"groups"`
	State      string       `json:"state"` // set by the report that judges it
}

// Tally counts the sockets of each entity of a key, as the collector hands
// them over: a sock.Sink (not for ByProcess). It keeps one entry for
// each entity, type and status, never the sockets: at 100k sockets from
// 1,000 peers, a few thousand entries.
//
// With --netns all each namespace is counted on a Tally of its own (For),
// on as many threads as the counting takes, and the entities are kept apart
// by namespace where the grouping tells namespaces (PerNetns), or where an
// address means something only inside its namespace: loopback, and
// link-local (also apart by link). Elsewhere a key is summed over the
// namespaces (the node's connections to one database).
type Tally struct {
	key      Key
	bits4    int // remote-network's prefix lengths
	bits6    int
	perNetns bool   // every entity is one namespace's
	ns       uint64 // the namespace this Tally counts, 0: the one counted
	nsName   string
	counts   map[cell]int32
	pending  map[cell]int32 // the dump under way

	children perNetns[*Tally] // For: a namespace's own Tally
}

// cell is one entity's sockets of one type and status.
type cell struct {
	ns   uint64     // the namespace, where the entity is kept apart by it
	addr netip.Addr // the address or network (with its link's zone), or none for a port key
	port uint16
	typ  sock.Type
	st   sock.Status
}

// NewTally tallies by k; bits4 and bits6 are remote-network's prefixes;
// perNetns keeps each namespace's entities apart (--group-by with netns);
// self names the namespace counted outside --netns all (for ByNetns).
func NewTally(k Key, bits4, bits6 int, perNetns bool, self string) *Tally {
	return &Tally{key: k, bits4: bits4, bits6: bits6, perNetns: perNetns, nsName: self,
		counts: map[cell]int32{}, pending: map[cell]int32{}}
}

// For is the Tally of one network namespace (its inode, and its name as
// the output shows it), for the thread that counts it.
func (t *Tally) For(inode uint64, name string) sock.Sink {
	c := NewTally(t.key, t.bits4, t.bits6, t.perNetns, name)
	c.ns = inode
	return t.children.add(inode, c)
}

// Drop forgets a namespace that could not be counted to its end.
func (t *Tally) Drop(inode uint64) { t.children.Drop(inode) }

// localOnly: an address that means something only inside its namespace.
func localOnly(a netip.Addr) bool {
	return a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast()
}

// Add counts a socket under its entity. A socket without one is left out:
// remote keys need a peer (a listening or unconnected socket has none), and
// unix sockets have no addresses or ports.
func (t *Tally) Add(s sock.Socket) {
	c := cell{typ: s.Type, st: s.Status}
	if t.key == ByNetns {
		c.ns = t.ns
		t.pending[c]++
		return
	}
	if !s.Type.IsInet() {
		return
	}
	remote := s.Remote.Addr().Unmap() // an IPv4-mapped peer is its IPv4 address
	side := remote                    // the address that says whether it is local only
	switch t.key {
	case ByRemoteAddress, ByRemoteNetwork:
		if !remote.IsValid() || remote.IsUnspecified() {
			return
		}
		c.addr = remote
		if t.key == ByRemoteNetwork {
			bits := t.bits6
			if remote.Is4() {
				bits = t.bits4
			}
			c.addr = netip.PrefixFrom(remote, bits).Masked().Addr().WithZone(remote.Zone())
		}
	case ByLocalPort:
		if c.port = s.Local.Port(); c.port == 0 {
			return
		}
		side = s.Local.Addr().Unmap()
	case ByRemotePort:
		if c.port = s.Remote.Port(); c.port == 0 {
			return
		}
	}
	if t.perNetns || localOnly(side) {
		c.ns = t.ns
	}
	t.pending[c]++
}

// Restart forgets the dump under way; Done keeps it.
func (t *Tally) Restart() { clear(t.pending) }
func (t *Tally) Done() {
	for c, n := range t.pending {
		t.counts[c] += n
	}
	clear(t.pending)
}

// Entities sums each entity's sockets in scope: largest first, ties by key
// (addresses and ports in numeric order), then by namespace.
func (t *Tally) Entities(scope Scope) []Entity {
	type id struct {
		ns   uint64
		addr netip.Addr
		port uint16
	}
	byID := map[id]map[string]int{}
	names := map[uint64]string{t.ns: t.nsName}
	add := func(counts map[cell]int32) {
		for c, n := range counts {
			i, ok := scope.GroupOf(c.typ, c.st)
			if !ok {
				continue
			}
			e := id{c.ns, c.addr, c.port}
			if byID[e] == nil {
				byID[e] = map[string]int{}
			}
			byID[e][scope.Labels[i]] += int(n)
		}
	}
	add(t.counts)
	t.children.each(func(inode uint64, c *Tally) {
		names[inode] = c.nsName
		add(c.counts)
	})
	ids := make([]id, 0, len(byID))
	totals := map[id]int{}
	for e, groups := range byID {
		ids = append(ids, e)
		for _, n := range groups {
			totals[e] += n
		}
	}
	slices.SortFunc(ids, func(a, b id) int {
		return cmp.Or(cmp.Compare(totals[b], totals[a]), a.addr.Compare(b.addr), cmp.Compare(a.port, b.port),
			cmp.Compare(names[a.ns], names[b.ns]), cmp.Compare(a.ns, b.ns))
	})
	out := make([]Entity, len(ids))
	for i, e := range ids {
		out[i] = Entity{Name: t.name(e.addr, e.port), Total: totals[e], Groups: sortedCounts(byID[e])}
		switch {
		case t.key == ByNetns:
			out[i].Name, out[i].NetnsInode = cmp.Or(names[e.ns], "host"), e.ns
		case e.ns != 0:
			out[i].Netns, out[i].NetnsInode = names[e.ns], e.ns
		}
	}
	return out
}

// name is how an entity is shown: 203.0.113.7, 203.0.113.0/24, 443,
// fe80::2%3 (on the link with index 3).
func (t *Tally) name(addr netip.Addr, port uint16) string {
	switch t.key {
	case ByRemoteAddress:
		return addr.String()
	case ByRemoteNetwork:
		bits := t.bits6
		if addr.Is4() {
			bits = t.bits4
		}
		p := netip.PrefixFrom(addr.WithZone(""), bits).String()
		if z := addr.Zone(); z != "" {
			p += "%" + z
		}
		return p
	}
	return strconv.Itoa(int(port))
}
