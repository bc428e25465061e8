package collect

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/shirou/gopsutil/v4/net"
	"golang.org/x/sys/windows"
)

// gopsutilRowIsSocket: on Windows each row of the IP Helper tables is one
// socket; two UDP sockets bound to one address and port are two rows.
const gopsutilRowIsSocket = true

var (
	iphlpapi         = windows.NewLazySystemDLL("iphlpapi.dll")
	getExtendedTCP   = iphlpapi.NewProc("GetExtendedTcpTable")
	getExtendedUDP   = iphlpapi.NewProc("GetExtendedUdpTable")
	tableOwnerPidAll = 5 // TCP_TABLE_OWNER_PID_ALL
	udpTableOwnerPid = 1 // UDP_TABLE_OWNER_PID
)

// gopsutilConnections reads the IP Helper tables (GetExtendedTcpTable,
// GetExtendedUdpTable), which carry each socket's owner pid; gopsutil's
// "without uids" calls are not implemented on Windows. gopsutil drops a
// table whose call fails and reports no sockets for it, so each table is
// asked for its size first: a call that fails says so here.
func gopsutilConnections(ctx context.Context, kind string) ([]net.ConnectionStat, error) {
	for _, t := range map[string][]Type{"inet": {TCP, TCP6, UDP, UDP6}, "tcp4": {TCP}, "tcp6": {TCP6}, "udp4": {UDP}, "udp6": {UDP6}}[kind] {
		if err := probeTable(t); err != nil {
			return nil, err
		}
	}
	return net.ConnectionsWithContext(ctx, kind)
}

// probeTable asks for the size of one table: ERROR_INSUFFICIENT_BUFFER (or
// success, for an empty table) means the call works.
func probeTable(t Type) error {
	family := uintptr(windows.AF_INET)
	if t == TCP6 || t == UDP6 {
		family = windows.AF_INET6
	}
	proc, class := getExtendedTCP, uintptr(tableOwnerPidAll)
	if !t.IsTCP() {
		proc, class = getExtendedUDP, uintptr(udpTableOwnerPid)
	}
	if err := proc.Find(); err != nil {
		return fmt.Errorf("%s: %w", proc.Name, err)
	}
	var size uint32
	r, _, _ := proc.Call(0, uintptr(unsafe.Pointer(&size)), 0, family, class, 0)
	if errno := windows.Errno(r); errno != 0 && errno != windows.ERROR_INSUFFICIENT_BUFFER {
		return fmt.Errorf("%s for %s: %w", proc.Name, t, errno)
	}
	return nil
}
