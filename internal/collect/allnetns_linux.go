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
	// The host's own first, here: no thread has to enter it.
	results := make([]nsResult, len(list.Namespaces))
	var work []int
	for i, ns := range list.Namespaces {
		if ns.Self {
			Enter(sink, &list.Namespaces[i])
			results[i].counts, results[i].err = c.Collect(ctx, f, sink)
		} else {
			work = append(work, i)
		}
	}
	// Each namespace's TCP dump walks the hash table that all share: the
	// cost is the namespaces times the host's sockets, so the others are
	// counted on a thread per CPU (one with a sink, which is not safe for
	// more), each entering namespaces in turn.
	workers := min(runtime.GOMAXPROCS(0), maxWorkers, len(work))
	if sink != nil {
		workers = min(workers, 1)
	}
	next := make(chan int, len(work))
	for _, i := range work {
		next <- i
	}
	close(next)
	done := make(chan error, workers)
	for range workers {
		go func() {
			done <- netns.OnThread(func() error {
				c := fresh(c)
				for i := range next {
					if ctx.Err() != nil {
						break
					}
					r := &results[i]
					if r.err = list.Namespaces[i].Enter(proc); r.err == nil {
						Enter(sink, &list.Namespaces[i])
						r.counts, r.err = c.Collect(ctx, f, sink)
					}
				}
				return nil
			})
		}()
	}
	for range workers {
		if err := <-done; err != nil {
			return census, err
		}
	}
	if err := ctx.Err(); err != nil {
		return census, err
	}
	for i, ns := range list.Namespaces {
		switch r := results[i]; {
		case errors.Is(r.err, netns.ErrGone):
			census.Gone++
		case r.err != nil:
			census.NotCounted = append(census.NotCounted, NotCounted{ns, r.err.Error()})
		default:
			census.Namespaces = append(census.Namespaces, ns)
			census.Counts = append(census.Counts, r.counts)
		}
	}
	return census, nil
}

// maxWorkers bounds the threads that count namespaces at once.
const maxWorkers = 4

type nsResult struct {
	counts Counts
	err    error
}

// fresh is a collector of the same kind for another thread: Auto keeps
// what it used.
func fresh(c Collector) Collector {
	if a, ok := c.(*Auto); ok {
		b := *a
		return &b
	}
	return c
}
