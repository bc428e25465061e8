package collect

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/network-connections/network-connections/internal/netns"
)

// countAll counts in every network namespace of the host: c (its /proc/net
// the thread's) on one thread that enters each in turn, its own first.
func countAll(ctx context.Context, c Collector, f Filter, sink Sink) (Census, error) {
	const proc = "/proc"
	var census Census
	if err := netns.CanEnter(proc); err != nil {
		return census, fmt.Errorf("--netns all: %w", err)
	}
	list, err := netns.Discover(proc, netns.NamedDirs)
	if err != nil {
		return census, fmt.Errorf("--netns all: %w", err)
	}
	census.Unreadable = list.Unreadable
	if list.UnreadableErr != nil {
		census.Why = list.UnreadableErr.Error()
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("internal error: %v", p)
			}
		}()
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		for _, ns := range list.Namespaces {
			if err := ctx.Err(); err != nil {
				done <- err
				return
			}
			if !ns.Self { // the thread starts in the checker's own
				switch err := ns.Enter(proc); {
				case errors.Is(err, netns.ErrGone):
					census.Gone++
					continue
				case err != nil:
					census.NotCounted = append(census.NotCounted, NotCounted{ns, err.Error()})
					continue
				}
			}
			counts, err := c.Collect(ctx, f, sink)
			if err != nil {
				if ctx.Err() != nil {
					done <- ctx.Err()
					return
				}
				census.NotCounted = append(census.NotCounted, NotCounted{ns, err.Error()})
				continue
			}
			census.Namespaces = append(census.Namespaces, ns)
			census.Counts = append(census.Counts, counts)
		}
		done <- nil
	}()
	return census, <-done
}
