package collect

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/network-connections/network-connections/internal/netns"
)

// NetnsPath turns a --netns value into a path: a name is one that
// `ip netns add` made under /run/netns; anything with a slash is a path,
// such as /proc/PID/ns/net.
func NetnsPath(arg string) string {
	if strings.Contains(arg, "/") {
		return arg
	}
	return "/run/netns/" + arg
}

// OneNetns counts inside another network namespace: on a thread of its own that
// enters the namespace and ends with the count, so no other goroutine ever
// runs there. The sock_diag socket and /proc/thread-self/net belong to it.
type OneNetns struct {
	Path      string
	Collector Collector
}

func (n OneNetns) Collect(ctx context.Context, f Filter, sink Sink) (r Result, err error) {
	err = n.inside(func() error {
		TellNetns(sink, nil)
		r, err = n.Collector.Collect(ctx, f, sink)
		return err
	})
	return r, err
}

// inside runs fn on a thread that entered the namespace.
func (n OneNetns) inside(fn func() error) error {
	return netns.OnThread(func() error {
		if err := netns.EnterPath(n.Path, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("--netns %s: %w", n.Path, err)
		}
		return fn()
	})
}
