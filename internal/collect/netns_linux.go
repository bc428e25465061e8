package collect

import (
	"context"
	"errors"
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

// Netns counts inside another network namespace: on a thread of its own that
// enters the namespace and ends with the count, so no other goroutine ever
// runs there. The sock_diag socket and /proc/thread-self/net belong to it.
type Netns struct {
	Path      string
	Collector Collector
}

func (n Netns) Name() string { return n.Collector.Name() }

func (n Netns) Collect(ctx context.Context, f Filter, sink Sink) (c Counts, err error) {
	err = n.inside(func() error {
		Enter(sink, nil)
		c, err = n.Collector.Collect(ctx, f, sink)
		return err
	})
	return c, err
}

// inside runs fn on a thread that entered the namespace.
func (n Netns) inside(fn func() error) error {
	return netns.OnThread(func() error {
		if err := enterNetns(n.Path); err != nil {
			return err
		}
		return fn()
	})
}

func enterNetns(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("--netns %s: %w", path, err)
	}
	defer unix.Close(fd)
	switch err := unix.Setns(fd, unix.CLONE_NEWNET); {
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("--netns %s: entering a network namespace needs CAP_SYS_ADMIN: %w", path, err)
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("--netns %s: not a network namespace: %w", path, err)
	case err != nil:
		return fmt.Errorf("--netns %s: %w", path, err)
	}
	return nil
}
