package collect

import (
	"context"

	"github.com/shirou/gopsutil/v4/net"
)

// gopsutilRowIsSocket: on Linux gopsutil lists a socket once per process
// holding it, so its entries are deduplicated.
const gopsutilRowIsSocket = false

// gopsutilConnections skips the owners' uids: a uid costs a file read per
// socket, and the check never shows it.
func gopsutilConnections(ctx context.Context, kind string) ([]net.ConnectionStat, error) {
	return net.ConnectionsWithoutUidsWithContext(ctx, kind)
}
