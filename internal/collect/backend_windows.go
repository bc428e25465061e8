package collect

import (
	"errors"
	"fmt"
)

// Backends lists the --backend values of this platform.
const Backends = "auto, gopsutil"

// New returns the collector that a --backend value names: gopsutil, which
// reads Windows' IP Helper tables.
func New(name string) (Collector, error) {
	switch name {
	case "auto", "gopsutil":
		return Gopsutil{}, nil
	case "netlink", "procfs":
		return nil, fmt.Errorf("backend %q is only available on Linux (want one of %s)", name, Backends)
	}
	return nil, fmt.Errorf("unknown backend %q (want one of %s)", name, Backends)
}

// InNetns refuses: network namespaces exist only on Linux.
func InNetns(Collector, string) (Collector, error) {
	return nil, errors.New("network namespaces exist only on Linux")
}
