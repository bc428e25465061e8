package collect

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/network-connections/network-connections/internal/netns"
)

// countAll counts in every network namespace of the host with c (its
// /proc/net the thread's): its own here, the others on threads that enter
// them in turn. It returns the way the checker's own was counted.
func countAll(ctx context.Context, c Collector, f Filter, sink Sink) (census Census, backend string, err error) {
	opts := netns.Defaults()
	proc := opts.Proc
	if err := netns.CanEnter(proc); err != nil {
		return census, "", fmt.Errorf("--netns all: %w", err)
	}
	list, err := netns.Discover(opts)
	if err != nil {
		return census, "", fmt.Errorf("--netns all: %w", err)
	}
	census.Unreadable = list.Unreadable
	// Without CAP_SYS_PTRACE other users' processes hide their namespace:
	// those may be namespaces not counted, so the view is partial.
	census.NeedPtrace = list.Unreadable > 0 && !netns.HasCapability(unix.CAP_SYS_PTRACE)
	if list.UnreadableErr != nil {
		census.Why = list.UnreadableErr.Error()
	}
	// The host's own first, here: no thread has to enter it.
	// A sink that takes each namespace apart gets a sink for each: the
	// sockets keep their namespace, and every thread may count with one.
	split, _ := sink.(NetnsSink)
	sinkOf := func(ns netns.Namespace) Sink {
		if split != nil {
			return split.For(ns.Inode, ns.Name)
		}
		return sink
	}
	results := make([]nsResult, len(list.Namespaces))
	var work []int
	for i, ns := range list.Namespaces {
		if ns.Self {
			s := sinkOf(ns)
			TellNetns(s, &list.Namespaces[i])
			var r Result
			r, results[i].err = c.Collect(ctx, f, s)
			results[i].counts, backend = r.Counts, r.Backend
		} else {
			work = append(work, i)
		}
	}
	// Each namespace's TCP dump walks the hash table that all share: the
	// cost is the namespaces times the host's sockets, so the others are
	// counted on a thread per CPU, each entering namespaces in turn; on one
	// with a sink that is not a NetnsSink or must be told each namespace
	// (NetnsAware: the saturation measures), which is not safe for more.
	workers := min(runtime.GOMAXPROCS(0), maxWorkers, len(work))
	if _, aware := sink.(NetnsAware); sink != nil && (split == nil || aware) {
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
				for i := range next {
					if ctx.Err() != nil {
						break
					}
					r := &results[i]
					ns := list.Namespaces[i]
					if r.err = ns.Enter(proc); r.err == nil {
						s := sinkOf(ns)
						TellNetns(s, &list.Namespaces[i])
						var res Result
						res, r.err = c.Collect(ctx, f, s)
						r.counts = res.Counts
					}
				}
				return nil
			})
		}()
	}
	for range workers {
		if err := <-done; err != nil {
			return census, backend, err
		}
	}
	if err := ctx.Err(); err != nil {
		return census, backend, err
	}
	for i, ns := range list.Namespaces {
		r := results[i]
		if r.err != nil && split != nil {
			split.Drop(ns.Inode)
		}
		switch {
		case errors.Is(r.err, netns.ErrGone):
			census.Gone++
		case r.err != nil:
			census.NotCounted = append(census.NotCounted, Uncounted{ns, r.err.Error(), privilege(r.err)})
		default:
			census.Namespaces = append(census.Namespaces, ns)
			census.Counts = append(census.Counts, r.counts)
		}
	}
	return census, backend, nil
}

// privilege tells an error that more privilege would have avoided.
func privilege(err error) bool {
	return errors.Is(err, netns.ErrPrivilege) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)
}

// maxWorkers bounds the threads that count namespaces at once.
const maxWorkers = 4

type nsResult struct {
	counts Counts
	err    error
}
