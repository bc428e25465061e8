package saturation

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// readPorts reads Windows' dynamic port range for TCP as netsh tells it:
// "Start Port : 49152" and "Number of Ports : 16384" (the words are
// translated; the two numbers after a colon are not). Windows has no
// reserved ports inside the range to subtract as Linux does: excluded
// port ranges (netsh int ipv4 show excludedportrange) are not read.
// Windows binds the port connect() picks for the local address, whatever
// the destination (unless the program asks for SO_REUSE_UNICASTPORT): the
// ports run out per local address.
const perDestination = false

func readPorts() Ports {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "netsh", "interface", "ipv4", "show", "dynamicport", "tcp").Output()
	if err != nil {
		return Ports{Err: fmt.Sprintf("netsh interface ipv4 show dynamicport tcp: %v", err)}
	}
	return parseDynamicPort(string(out))
}

func parseDynamicPort(text string) Ports {
	var nums []int
	for _, line := range strings.Split(text, "\n") {
		_, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			nums = append(nums, n)
		}
	}
	if len(nums) != 2 || nums[0] < 1 || nums[1] < 1 || nums[0]+nums[1]-1 > 65535 {
		return Ports{Err: fmt.Sprintf("netsh interface ipv4 show dynamicport tcp: no start port and number of ports in %q", strings.TrimSpace(text))}
	}
	return Ports{Low: nums[0], High: nums[0] + nums[1] - 1}
}

var errLinuxOnly = errors.New("Linux only")

func readConntrack() Conntrack { return Conntrack{Err: errLinuxOnly.Error()} }
func readNetstat() Netstat     { return Netstat{Err: errLinuxOnly.Error()} }
