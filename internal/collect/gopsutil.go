//go:build linux || windows

package collect

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"syscall"

	"github.com/shirou/gopsutil/v4/net"
)

// Gopsutil counts with gopsutil, the portable collector: the only one on
// Windows, macOS and FreeBSD, and a cross-check on Linux.
type Gopsutil struct{}

// gopsutil's kind for each of our types.
var gopsutilKinds = [NumTypes]string{"tcp4", "tcp6", "udp4", "udp6", "unix"}

// Collect lists the sockets with their owners' pids, which gopsutil finds.
func (g Gopsutil) Collect(ctx context.Context, f Filter, sink Sink) (Result, error) {
	c, err := g.count(ctx, f, sink)
	return Result{Counts: c, Backend: "gopsutil"}, err
}

func (Gopsutil) count(ctx context.Context, f Filter, sink Sink) (Counts, error) {
	if f.HasType(Unix) {
		return Counts{}, errors.New("the gopsutil backend cannot tell the states of unix sockets (use --backend auto on Linux)")
	}
	var conns []net.ConnectionStat
	kinds := []string{"inet"}
	if f.Types != All.Types {
		kinds = kinds[:0]
		for t := range NumTypes {
			if f.HasType(t) {
				kinds = append(kinds, gopsutilKinds[t])
			}
		}
	}
	for _, kind := range kinds {
		cs, err := gopsutilConnections(ctx, kind)
		if err != nil {
			return Counts{}, gopsutilError(kind, err)
		}
		conns = append(conns, cs...)
	}
	sockets, err := listConnections(conns, f)
	if sink != nil && err == nil {
		// The listeners first, as sock_diag dumps them: their ports are
		// known before the sockets they accepted (saturation needs that).
		for _, listeners := range []bool{true, false} {
			for _, s := range sockets {
				if (s.Status == Listen) == listeners {
					sink.Add(s)
				}
			}
		}
		sink.Done()
	}
	return CountSockets(sockets), err
}

// gopsutilError names what failed; on macOS and FreeBSD that is often lsof.
func gopsutilError(kind string, err error) error {
	if errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("gopsutil %s connections: lsof is not installed (it lists the sockets on this platform): %w", kind, err)
	}
	return fmt.Errorf("gopsutil %s connections: %w", kind, err)
}

// connKey identifies one socket among gopsutil's entries, which on Linux come
// once per process holding the socket (and /proc/net may repeat a line).
type connKey struct {
	family, typ  uint32
	laddr, raddr net.Addr
	status       string
}

// listConnections lists each socket once, by its own family and type.
func listConnections(conns []net.ConnectionStat, f Filter) ([]Socket, error) {
	var list []Socket
	seen := make(map[connKey]bool, len(conns))
	for _, conn := range conns {
		k := connKey{conn.Family, conn.Type, conn.Laddr, conn.Raddr, conn.Status}
		if !gopsutilRowIsSocket && seen[k] {
			continue
		}
		seen[k] = true
		var t Type
		switch {
		case conn.Family == syscall.AF_INET && conn.Type == syscall.SOCK_STREAM:
			t = TCP
		case conn.Family == syscall.AF_INET6 && conn.Type == syscall.SOCK_STREAM:
			t = TCP6
		case conn.Family == syscall.AF_INET && conn.Type == syscall.SOCK_DGRAM:
			t = UDP
		case conn.Family == syscall.AF_INET6 && conn.Type == syscall.SOCK_DGRAM:
			t = UDP6
		default:
			continue
		}
		s := None
		if t.IsTCP() {
			var ok bool
			if s, ok = gopsutilStatus(conn.Status); !ok {
				return nil, fmt.Errorf("gopsutil: unknown TCP state %q", conn.Status)
			}
		}
		if f.Has(t, s) && (!f.Scoped() || matchGopsutil(conn, f)) {
			// gopsutil gives pid 0 both for the kernel's sockets and for
			// those whose owner it may not read: only these states are
			// surely the kernel's.
			kernel := conn.Pid == 0 && (s == TimeWait || s == SynRecv)
			list = append(list, Socket{Type: t, Status: s, Pid: conn.Pid, Kernel: kernel,
				Local:  netip.AddrPortFrom(gopsutilAddr(conn.Family, conn.Laddr.IP), uint16(conn.Laddr.Port)),
				Remote: netip.AddrPortFrom(gopsutilAddr(conn.Family, conn.Raddr.IP), uint16(conn.Raddr.Port))})
		}
	}
	return list, nil
}

func matchGopsutil(conn net.ConnectionStat, f Filter) bool {
	local := gopsutilAddr(conn.Family, conn.Laddr.IP)
	remote := gopsutilAddr(conn.Family, conn.Raddr.IP)
	return f.Local.Match(local, uint16(conn.Laddr.Port)) && f.Remote.Match(remote, uint16(conn.Raddr.Port))
}

// gopsutilAddr parses an address as the socket holds it: gopsutil prints an
// IPv4-mapped address of an IPv6 socket as plain IPv4 (127.0.0.1), which
// would then miss ::ffff:127.0.0.1 and ::/0. Unparsable matches no prefix.
// Windows' UDP rows carry no remote address: as on Linux, an unconnected
// socket's is the unspecified address.
func gopsutilAddr(family uint32, s string) netip.Addr {
	if s == "" && family == syscall.AF_INET {
		return netip.IPv4Unspecified()
	} else if s == "" {
		return netip.IPv6Unspecified()
	}
	a, _ := netip.ParseAddr(s)
	if family == syscall.AF_INET6 && a.Is4() {
		return netip.AddrFrom16(a.As16())
	}
	return a
}

// gopsutilStatus maps the state names of every platform's gopsutil (Linux
// /proc, Windows MIB, lsof) to ours.
func gopsutilStatus(name string) (Status, bool) {
	switch name {
	case "CLOSED", "DELETE":
		return Close, true
	case "SYN_RECEIVED":
		return SynRecv, true
	case "FIN_WAIT_1":
		return FinWait1, true
	case "FIN_WAIT_2":
		return FinWait2, true
	}
	for s := Established; s < NumStatuses; s++ {
		if name == s.String() {
			return s, true
		}
	}
	return None, false
}
