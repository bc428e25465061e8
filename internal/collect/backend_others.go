//go:build !linux && !windows

package collect

import (
	"fmt"
	"runtime"
)

// Backends lists the --backend values of this platform: none.
const Backends = "none on " + runtime.GOOS

// New refuses to count: gopsutil would list this platform's sockets through
// lsof, a path no test has run, and a check must not claim what was never
// run (see the README's platforms). Linux and Windows are run in the tests.
func New(name string) (Collector, error) {
	return nil, fmt.Errorf("this build cannot count sockets on %s: it was never run there (the tested platforms are Linux and Windows)", runtime.GOOS)
}

// InNetns refuses: network namespaces exist only on Linux.
func InNetns(Collector, string) (Collector, error) {
	return nil, fmt.Errorf("network namespaces exist only on Linux")
}
