package collect

import (
	"context"

	"github.com/shirou/gopsutil/v4/net"
)

// gopsutilRowIsSocket: on Windows each row of the IP Helper tables is one
// socket; two UDP sockets bound to one address and port are two rows.
const gopsutilRowIsSocket = true

// gopsutilConnections reads the IP Helper tables (GetExtendedTcpTable,
// GetExtendedUdpTable), which carry each socket's owner pid; gopsutil's
// "without uids" calls are not implemented on Windows.
func gopsutilConnections(ctx context.Context, kind string) ([]net.ConnectionStat, error) {
	return net.ConnectionsWithContext(ctx, kind)
}
