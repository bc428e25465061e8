package collect

import "fmt"

// Backends lists the --backend values of this platform.
const Backends = "auto, gopsutil"

// New returns the collector that a --backend value names: gopsutil, which
// reads Windows' IP Helper tables.
func New(name, netns string) (Collector, error) {
	if netns != "" {
		return nil, fmt.Errorf("--netns %s: network namespaces exist only on Linux", netns)
	}
	switch name {
	case "auto", "gopsutil":
		return Gopsutil{}, nil
	case "netlink", "procfs":
		return nil, fmt.Errorf("backend %q is only available on Linux (want one of %s)", name, Backends)
	}
	return nil, fmt.Errorf("unknown backend %q (want one of %s)", name, Backends)
}
