package collect

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Procfs counts from /proc/net/{tcp,tcp6,udp,udp6,unix}: the fallback when
// sock_diag is refused. It parses a line's state and inode, and its addresses
// only when a scoping option asks.
type Procfs struct {
	Dir string // "/proc/net" when empty; tests point it at testdata
}

var procFiles = [NumTypes]string{"tcp", "tcp6", "udp", "udp6", "unix"}

func (p Procfs) Collect(ctx context.Context, f Filter, sink Sink) (Result, error) {
	sc := p.newScratch()
	c, err := countTypes(ctx, f, func(t Type) ([NumStatuses]int, error) { return p.countType(t, f, sc, sink) })
	return Result{Counts: c, Backend: "procfs"}, err
}

// scratch is the memory one count reuses from file to file: the read buffer,
// and the hashes that tell sockets apart (see lines).
type scratch struct {
	buf    []byte
	hashes []uint64
}

// newScratch sizes the hashes from the kernel's socket counts, so that they
// need not grow: growing leaves garbage, which at 500k sockets cost 4 MiB of
// peak RSS.
func (p Procfs) newScratch() *scratch {
	sc := &scratch{buf: make([]byte, 64<<10)}
	b, err := os.ReadFile(p.dir() + "/sockstat")
	if err != nil {
		return sc
	}
	// "TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1": every TCP socket is alloc or tw.
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 11 && f[0] == "TCP:" && f[5] == "tw" && f[7] == "alloc" {
			tw, _ := strconv.Atoi(f[6])
			alloc, _ := strconv.Atoi(f[8])
			sc.hashes = make([]uint64, 0, min(tw+alloc+1024, 1<<26))
		}
	}
	return sc
}

func (p Procfs) dir() string {
	if p.Dir == "" {
		return "/proc/net"
	}
	return p.Dir
}

// countType counts one file, with sc's memory (allocated when nil).
func (p Procfs) countType(t Type, f Filter, sc *scratch, sink Sink) ([NumStatuses]int, error) {
	path := p.dir() + "/" + procFiles[t]
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && (t == TCP6 || t == UDP6) {
		return [NumStatuses]int{}, nil // IPv6 disabled: no such sockets
	}
	if err != nil {
		return [NumStatuses]int{}, err
	}
	defer file.Close()
	if sc == nil {
		sc = p.newScratch()
	}
	out := newRows(sink)
	if err := countProcNet(file, sc, t, f, out); err != nil {
		return out.row, fmt.Errorf("read %s: %w", path, err)
	}
	out.done()
	return out.row, nil
}

// countProcNet counts the lines of a /proc/net/{tcp,udp}[6] file by their
// state column ("st", the 4th field, in hex), with sc's memory.
func countProcNet(r io.Reader, sc *scratch, t Type, f Filter, out *rows) error {
	seen := dedup{seed: maphash.MakeSeed(), hashes: sc.hashes[:0]}
	defer func() { sc.hashes = seen.hashes }() // keep what it grew to
	if out.sink != nil {
		seen.listed = map[uint64]struct{}{}
	}
	header := true
	var line []byte // a line split across two reads
	for {
		n, err := r.Read(sc.buf)
		data := sc.buf[:n]
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				line = append(line, data...)
				break
			}
			l := data[:i]
			if len(line) > 0 {
				line = append(line, l...)
				l = line
			}
			data = data[i+1:]
			if header {
				header = false
			} else if err := countLine(l, t, f, out, &seen); err != nil {
				return err
			}
			line = line[:0]
		}
		if err == io.EOF {
			if len(line) > 0 {
				return fmt.Errorf("truncated line %q", line)
			}
			seen.count(out)
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// countLine counts one line of /proc/net/{tcp,udp}[6]:
// "  sl  local_address rem_address   st ...", or of /proc/net/unix:
// "Num       RefCount Protocol Flags    Type St Inode Path".
func countLine(l []byte, t Type, f Filter, out *rows, seen *dedup) error {
	var fields [10][]byte
	n := splitFields(l, fields[:])
	if n == 0 {
		return nil
	}
	if t == Unix {
		if n < 6 {
			return fmt.Errorf("short line %q", l)
		}
		flags, ok1 := parseHex(fields[3])
		st, ok2 := parseHex(fields[5])
		if !ok1 || !ok2 {
			return fmt.Errorf("bad flags or state in line %q", l)
		}
		if n < 7 {
			return fmt.Errorf("no inode column in line %q", l)
		}
		// Inode 0: a connection in a listener's queue, not yet accepted
		// (St 02). It is no socket of a process yet; unix_diag and ss do
		// not show it either.
		if string(fields[6]) == "0" {
			return nil
		}
		s := None
		switch {
		case flags&soAcceptCon != 0:
			s = Listen
		case st == ssConnected:
			s = Established
		}
		if f.HasStatus(s) {
			seen.add(out, Socket{Type: t, Status: s}, fields[6], fields[6])
		}
		return nil
	}
	if n < 4 {
		return fmt.Errorf("no state column in line %q", l)
	}
	st, ok := parseHex(fields[3])
	if !ok || len(fields[3]) != 2 {
		return fmt.Errorf("bad state %q in line %q", fields[3], l)
	}
	s := Status(st)
	switch {
	case !t.IsTCP():
		s = None
	case s == 0 || s >= NumStatuses:
		return nil // not a state /proc shows for a counted socket
	}
	if !f.HasStatus(s) {
		return nil
	}
	sock := Socket{Type: t, Status: s}
	if f.Scoped() || out.sink != nil {
		local, lport, ok1 := parseProcAddr(fields[1])
		remote, rport, ok2 := parseProcAddr(fields[2])
		if !ok1 || !ok2 {
			return fmt.Errorf("bad address in line %q", l)
		}
		if !f.Local.Match(local, lport) || !f.Remote.Match(remote, rport) {
			return nil
		}
		sock.Local, sock.Remote = netip.AddrPortFrom(local, lport), netip.AddrPortFrom(remote, rport)
	}
	if n < 10 {
		return fmt.Errorf("no inode column in line %q", l)
	}
	seen.add(out, sock, fields[9], fields[1], fields[2], fields[9])
	return nil
}

// dedup remembers the sockets a read of a /proc/net file has shown. The
// kernel hands the file out a page per read(2), finding its place again each
// time; while sockets come and go it shows some twice (measured: 2861 lines
// for 205 ESTABLISHED sockets under churn). A socket is its inode, or for
// those without one (TIME_WAIT, requests) its addresses: a 64-bit hash of
// them. To count, the hashes (with the state in their low 4 bits) are sorted
// at the end, 8 bytes a socket; to list, a set keeps the first sighting.
type dedup struct {
	seed   maphash.Seed
	hashes []uint64
	listed map[uint64]struct{}
}

// add notes a socket, its key made of the fields.
func (ls *dedup) add(out *rows, sock Socket, inode []byte, key ...[]byte) {
	var h maphash.Hash
	h.SetSeed(ls.seed)
	for _, f := range key {
		h.Write(f)
		h.WriteByte(' ')
	}
	k := h.Sum64() &^ 0xf
	if ls.listed == nil {
		ls.hashes = append(ls.hashes, k|uint64(sock.Status))
		return
	}
	if _, ok := ls.listed[k]; !ok {
		ls.listed[k] = struct{}{}
		sock.Inode = parseInode(inode)
		sock.Kernel = sock.Inode == 0
		out.add(sock)
	}
}

// count counts each socket once, in the state it was first sorted with.
func (ls *dedup) count(out *rows) {
	slices.Sort(ls.hashes)
	for i, k := range ls.hashes {
		if i == 0 || k&^0xf != ls.hashes[i-1]&^0xf {
			out.row[k&0xf]++
		}
	}
}

// parseInode reads an inode column (for a list only: a count needs none).
func parseInode(b []byte) uint32 {
	n, _ := strconv.ParseUint(string(b), 10, 32) // socket inodes are 32-bit
	return uint32(n)
}

// From include/linux/net.h: a listening unix socket's flag, and SS_CONNECTED.
const (
	soAcceptCon = 1 << 16
	ssConnected = 3
)

// splitFields fills out with the first fields of l, split at spaces, and
// returns how many it found.
func splitFields(l []byte, out [][]byte) int {
	n := 0
	for i := 0; i < len(l) && n < len(out); {
		for i < len(l) && l[i] == ' ' {
			i++
		}
		start := i
		for i < len(l) && l[i] != ' ' {
			i++
		}
		if start < i {
			out[n] = l[start:i]
			n++
		}
	}
	return n
}

// parseProcAddr reads "0100007F:8986": the address as 32-bit words in host
// byte order, the port as a number, both in hex.
func parseProcAddr(b []byte) (netip.Addr, uint16, bool) {
	a, p, ok := bytes.Cut(b, []byte(":"))
	port, okPort := parseHex(p)
	if !ok || !okPort || len(p) != 4 || len(a) != 8 && len(a) != 32 {
		return netip.Addr{}, 0, false
	}
	var ip [16]byte
	for i := 0; i < len(a); i += 8 {
		w, ok := parseHex(a[i : i+8])
		if !ok {
			return netip.Addr{}, 0, false
		}
		binary.NativeEndian.PutUint32(ip[i/2:], uint32(w))
	}
	if len(a) == 8 {
		return netip.AddrFrom4([4]byte(ip[:4])), uint16(port), true
	}
	return netip.AddrFrom16(ip), uint16(port), true
}

// parseHex reads up to 8 hex digits.
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 8 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'A' && c <= 'F':
			v = v<<4 | uint64(c-'A'+10)
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
