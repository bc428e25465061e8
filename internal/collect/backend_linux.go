package collect

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Backends lists the --backend values of this platform.
const Backends = "auto, netlink, procfs, gopsutil"

// New returns the collector that a --backend value names.
func New(name string) (Collector, error) {
	switch name {
	case "auto":
		return Auto{}, nil
	case "netlink":
		return SockDiag{}, nil
	case "procfs":
		return Procfs{}, nil
	case "gopsutil":
		return Gopsutil{}, nil
	}
	return nil, fmt.Errorf("unknown backend %q (want one of %s)", name, Backends)
}

// InNetns makes c count in the network namespace that a --netns value names
// (see NetnsPath), or with "all" in every one (AllNetns).
func InNetns(c Collector, netns string) (Collector, error) {
	// /proc/net is the process's namespace; the thread's is the one entered.
	const threadNet = "/proc/thread-self/net"
	switch cc := c.(type) {
	case Gopsutil:
		return nil, errors.New("it works with the auto, netlink and procfs backends, not gopsutil")
	case Procfs:
		cc.Dir = threadNet
		c = cc
	case Auto:
		cc.procfs.Dir = threadNet
		c = cc
	}
	if netns == "all" {
		return AllNetns{Collector: c}, nil
	}
	return OneNetns{Path: NetnsPath(netns), Collector: c}, nil
}

// Auto counts with sock_diag, and from /proc/net for each type whose dump the
// kernel refuses: EPERM in a locked-down container, EPROTONOSUPPORT without
// sock_diag, ENOENT for UDP without the udp_diag module.
type Auto struct {
	sockDiag func() (dumper, error) // nil: the kernel's; tests inject refusals
	procfs   Procfs
}

// dumper counts one type's sockets, or tcp and tcp6 at once: a sock_diag
// socket, or a test's stand-in.
type dumper interface {
	count(Type, Filter, Sink) ([NumStatuses]int, error)
	countTCP(Filter, Sink) (tcp, tcp6 [NumStatuses]int, err error)
	close()
}

// Collect says in the result's Backend what it used: netlink, or procfs
// and why, for -v.
func (a Auto) Collect(ctx context.Context, f Filter, sink Sink) (Result, error) {
	open := a.sockDiag
	if open == nil {
		open = func() (dumper, error) { return openSockDiag() }
	}
	used := "netlink"
	d, err := open()
	if refused(err) {
		r, perr := a.procfs.Collect(ctx, f, sink)
		r.Backend = fmt.Sprintf("procfs (%v)", err)
		return r, perr
	}
	if err != nil {
		return Result{Backend: used}, err
	}
	defer d.close()
	c, err := countDumps(ctx, f, d, sink, func(t Type) ([NumStatuses]int, error) {
		row, err := d.count(t, f, sink)
		if refused(err) {
			if sink != nil {
				sink.Restart() // the failed dump's sockets come again from /proc
			}
			used += fmt.Sprintf(", procfs for %s (%v)", t, err)
			return a.procfs.countType(t, f, nil, sink)
		}
		return row, err
	})
	return Result{Counts: c, Backend: used}, err
}

// refused tells whether sock_diag is unavailable here, as opposed to failing.
func refused(err error) bool {
	for _, errno := range []unix.Errno{unix.EPERM, unix.EACCES, unix.EPROTONOSUPPORT, unix.ENOENT, unix.EAFNOSUPPORT, unix.EOPNOTSUPP} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}
