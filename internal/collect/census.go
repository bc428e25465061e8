package collect

import (
	"context"

	"github.com/network-connections/network-connections/internal/netns"
)

// Census is what --netns all counted, namespace by namespace.
type Census struct {
	Namespaces []netns.Namespace // counted, the checker's own first
	Counts     []Counts          // of each counted namespace
	NotCounted []Uncounted       // found but not counted, and why
	Gone       int               // found, then gone before they were counted
	Unreadable int               // processes whose namespace could not be read
	NeedPtrace bool              // some were not read for want of CAP_SYS_PTRACE
	Why        string            // why, for the first of them
}

// Uncounted is a namespace that was found and could not be counted.
type Uncounted struct {
	Namespace netns.Namespace
	Err       string
	Privilege bool // more privilege would have counted it
}

// NetnsSink is a Sink that takes each network namespace's sockets on a sink
// of its own (For, by the namespace's inode and name), so that --netns all
// counts on every thread and the sockets keep their namespace; Drop forgets
// a namespace that could not be counted to its end.
type NetnsSink interface {
	Sink
	For(inode uint64, name string) Sink
	Drop(inode uint64)
}

// AllNetns counts in every network namespace of the host (--netns all):
// the result holds the sum, and each namespace's counts in its Census.
type AllNetns struct {
	Collector Collector
}

func (a AllNetns) Collect(ctx context.Context, f Filter, sink Sink) (Result, error) {
	census, backend, err := countAll(ctx, a.Collector, f, sink)
	r := Result{Backend: backend, Census: &census}
	for _, c := range census.Counts {
		for t := range c {
			for s, n := range c[t] {
				r.Counts[t][s] += n
			}
		}
	}
	return r, err
}
