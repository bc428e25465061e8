package top

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/network-connections/network-connections/internal/collect"
)

// Key is what --top-by groups the sockets by: the processes holding them,
// or what the sockets themselves carry (addresses and ports), which needs no
// walk of /proc.
type Key int

const (
	ByProcess Key = iota
	ByRemoteAddress
	ByRemoteNetwork
	ByLocalPort
	ByRemotePort
	numKeys
)

var keyNames = [numKeys]string{"process", "remote-address", "remote-network", "local-port", "remote-port"}

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

// Noun names n entities of k: "1 remote address", "3 remote addresses".
func (k Key) Noun(n int) string {
	noun := strings.ReplaceAll(k.String(), "-", " ")
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "s") {
		return strconv.Itoa(n) + " " + noun + "es"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// Entity is one value of a key and its share of the sockets in scope.
type Entity struct {
	Name   string       `json:"key"`
	Total  int          `json:"total"`
	Groups []LabelCount `json:"groups"`
	State  string       `json:"state"` // set by the report that judges it
}

// Tally counts the sockets of each entity of a key, as the
// collector hands them over: a collect.Sink (not for ByProcess). It keeps one entry for each
// entity, type and status, never the sockets: at 100k sockets from 1,000
// peers, a few thousand entries.
type Tally struct {
	key     Key
	bits4   int // remote-network's prefix lengths
	bits6   int
	counts  map[cell]int32
	pending map[cell]int32 // the dump under way
}

// cell is one entity's sockets of one type and status.
type cell struct {
	addr netip.Addr // the address or network, or none for a port key
	port uint16
	typ  collect.Type
	st   collect.Status
}

// NewTally tallies by k; bits4 and bits6 are remote-network's prefixes.
func NewTally(k Key, bits4, bits6 int) *Tally {
	return &Tally{key: k, bits4: bits4, bits6: bits6, counts: map[cell]int32{}, pending: map[cell]int32{}}
}

// Add counts a socket under its entity. A socket without one is left out:
// remote keys need a peer (a listening or unconnected socket has none), and
// unix sockets have no addresses or ports.
func (t *Tally) Add(s collect.Socket) {
	if !s.Type.IsInet() {
		return
	}
	c := cell{typ: s.Type, st: s.Status}
	remote := s.Remote.Addr().Unmap() // an IPv4-mapped peer is its IPv4 address
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
			c.addr = netip.PrefixFrom(remote, bits).Masked().Addr()
		}
	case ByLocalPort:
		if c.port = s.Local.Port(); c.port == 0 {
			return
		}
	case ByRemotePort:
		if c.port = s.Remote.Port(); c.port == 0 {
			return
		}
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
// (addresses and ports in numeric order).
func (t *Tally) Entities(scope Scope) []Entity {
	type id struct {
		addr netip.Addr
		port uint16
	}
	byID := map[id]map[string]int{}
	for c, n := range t.counts {
		i, ok := scope.GroupOf(c.typ, c.st)
		if !ok {
			continue
		}
		e := id{c.addr, c.port}
		if byID[e] == nil {
			byID[e] = map[string]int{}
		}
		byID[e][scope.Labels[i]] += int(n)
	}
	ids := make([]id, 0, len(byID))
	totals := map[id]int{}
	for e, groups := range byID {
		ids = append(ids, e)
		for _, n := range groups {
			totals[e] += n
		}
	}
	slices.SortFunc(ids, func(a, b id) int {
		return cmp.Or(cmp.Compare(totals[b], totals[a]), a.addr.Compare(b.addr), cmp.Compare(a.port, b.port))
	})
	out := make([]Entity, len(ids))
	for i, e := range ids {
		out[i] = Entity{Name: t.name(e.addr, e.port), Total: totals[e], Groups: sortedCounts(byID[e])}
	}
	return out
}

// name is how an entity is shown: 203.0.113.7, 203.0.113.0/24, 443.
func (t *Tally) name(addr netip.Addr, port uint16) string {
	switch t.key {
	case ByRemoteAddress:
		return addr.String()
	case ByRemoteNetwork:
		bits := t.bits6
		if addr.Is4() {
			bits = t.bits4
		}
		return netip.PrefixFrom(addr, bits).String()
	}
	return strconv.Itoa(int(port))
}
