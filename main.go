// network-connections is a Nagios/Icinga check that counts the host's sockets
// by type and status and alerts when a group's count leaves a range.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/network-connections/network-connections/internal/collect"
	"github.com/network-connections/network-connections/internal/netns"
	"github.com/network-connections/network-connections/internal/report"
	"github.com/network-connections/network-connections/internal/top"
)

const name = "network-connections"

func main() {
	// Go's runtime dies with a stack trace when it cannot get the two file
	// descriptors its poller needs: check the limit before anything opens one.
	if err := enoughFiles(); err != nil {
		report.WriteUnknown(os.Stdout, err.Error(), wantsJSON(os.Args[1:]))
		os.Exit(int(report.Unknown))
	}
	out := &onceWriter{w: os.Stdout}
	// The core sends SIGTERM when its timeout expires: say so, as UNKNOWN,
	// unless the check's own output has begun; then that output and its
	// exit code stand.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sig
		out.interrupt(func(w io.Writer) {
			msg := fmt.Sprintf("stopped by signal %d (%s) before the check finished", s.(syscall.Signal), s)
			report.WriteUnknown(w, msg, wantsJSON(os.Args[1:]))
		})
	}()
	out.exit(run(os.Args[1:], out))
}

// onceWriter lets either the check or a signal handler write the output and
// choose the exit code, never both: whichever begins first ends the process.
type onceWriter struct {
	mu          sync.Mutex
	w           io.Writer
	wrote       bool // the check has begun its output
	interrupted bool // the signal handler has taken over
}

func (o *onceWriter) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.interrupted {
		return len(b), nil
	}
	o.wrote = true
	return o.w.Write(b)
}

// exit ends the process with the check's code, unless the signal handler
// took over: then it waits for the handler's exit.
func (o *onceWriter) exit(code int) {
	o.mu.Lock()
	if o.interrupted {
		o.mu.Unlock()
		select {}
	}
	waitForReader(os.Stdout)
	os.Exit(code) // holding the lock: the handler cannot begin now
}

// interrupt writes the handler's output and exits 3, unless the check's
// output has begun.
func (o *onceWriter) interrupt(write func(io.Writer)) {
	o.mu.Lock()
	if o.wrote {
		o.mu.Unlock()
		return
	}
	o.interrupted = true
	write(o.w)
	os.Exit(int(report.Unknown)) // holding the lock: the check's exit waits
}

// run is the whole check: parse, collect, report. It returns the exit code.
func run(args []string, out io.Writer) (code int) {
	asJSON := wantsJSON(args)
	unknown := func(msg string) int {
		report.WriteUnknown(out, msg, asJSON)
		return int(report.Unknown)
	}
	defer func() {
		if p := recover(); p != nil {
			code = unknown(fmt.Sprintf("internal error: %v", p))
		}
	}()
	cfg, err := parseArgs(args)
	switch {
	case err != nil:
		return unknown(err.Error())
	case cfg.help:
		fmt.Fprint(out, usage)
		return int(report.Unknown)
	case cfg.version:
		fmt.Fprintf(out, "%s %s\n", name, versionText())
		return int(report.Unknown)
	}

	start := time.Now()
	deadline := start.Add(cfg.timeout)
	// --top takes what it needs of each socket as the collector counts it:
	// its entity (--top-by a key the sockets carry), or what finds its holder.
	var sink collect.Sink
	var byKey *top.Tally
	var holders *top.Holders
	switch {
	case cfg.entities.Key != top.ByProcess && (cfg.top > 0 || cfg.entities.Judges()):
		byKey = top.NewTally(cfg.entities.Key, cfg.bits4, cfg.bits6)
		sink = byKey
	case cfg.top > 0:
		holders = top.NewHolders()
		sink = holders
	}
	// The measures take what they need of the same dump.
	sat := cfg.saturationSink()
	if sat != nil {
		sink = collect.Tee(sink, sat)
	}
	_, allNetns := cfg.collector.(*collect.AllNetns)
	var counts collect.Counts
	err = within(deadline, cfg.timeout, "the "+cfg.backend+" collector", func(ctx context.Context) (err error) {
		if sat != nil && !allNetns && cfg.netns == "" {
			sat.Enter(nil) // the namespace counted is ours: read its limits here
		}
		counts, err = cfg.collector.Collect(ctx, cfg.filter, sink)
		return err
	})
	if err != nil {
		return unknown(err.Error())
	}
	parts := []report.Part{{Counts: counts}}
	var namespaces *report.Namespaces
	if all, ok := cfg.collector.(*collect.AllNetns); ok {
		parts, namespaces = census(all.Census)
	} else if cfg.netns != "" {
		parts[0].Netns = &report.Netns{Name: cfg.netns, Perf: netns.PerfName(cfg.netns)}
	}
	r := report.NewParts(parts, cfg.report)
	r.Netns = namespaces
	if byKey != nil {
		scope := r.EntityScope(cfg.entities)
		r.JudgeEntities(byKey.Entities(scope), scope, cfg.entities)
	}
	if sat != nil {
		var counted []uint64
		if r.Netns != nil {
			for _, n := range r.Netns.Counted {
				counted = append(counted, n.Inode)
			}
		}
		r.JudgeSaturation(sat.Spaces(counted...), cfg.measures)
		err = within(deadline, cfg.timeout, "the walk of /proc for the owners", func(context.Context) error {
			return r.Saturation.NameOwners(top.Owners)
		})
		if err != nil {
			return unknown(err.Error())
		}
	}
	d := report.Details{Backend: cfg.collector.Name(), Sockets: counts.Total(), Timeout: cfg.timeout, Verbose: cfg.verbose}
	if holders != nil && len(r.Groups) > 0 {
		err = within(deadline, cfg.timeout, "--top's walk of /proc", func(context.Context) (err error) {
			d.Top, err = top.Find(holders, r.TopScope(), cfg.top)
			return err
		})
		if err != nil {
			return unknown(err.Error())
		}
	}
	d.Duration = time.Since(start)
	r.Render(out, d, asJSON)
	return r.ExitCode()
}

// census is what --netns all counted, as the report takes it.
func census(c collect.Census) ([]report.Part, *report.Namespaces) {
	parts := make([]report.Part, len(c.Namespaces))
	ns := &report.Namespaces{Counted: make([]report.NamespaceCount, len(c.Namespaces)), NotCounted: []report.NotCounted{},
		Gone: c.Gone, Unreadable: c.Unreadable, Why: c.Why}
	named := func(n netns.Namespace) report.Netns { return report.Netns{Name: n.Name, Perf: n.Perf, Inode: n.Inode} }
	for i, n := range c.Namespaces {
		name := named(n)
		parts[i] = report.Part{Netns: &name, Counts: c.Counts[i]}
		ns.Counted[i] = report.NamespaceCount{Netns: name, Processes: len(n.Pids), Sockets: c.Counts[i].Total()}
	}
	for _, n := range c.NotCounted {
		ns.NotCounted = append(ns.NotCounted, report.NotCounted{Netns: named(n.Namespace), Error: n.Err})
	}
	return parts, ns
}

// within runs fn, giving up at the deadline that --timeout set: the core
// would kill us then anyway, without a word on why. what names the part
// that was slow.
func within(deadline time.Time, timeout time.Duration, what string, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("internal error: %v", p)
			}
		}()
		done <- fn(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%s did not answer within the timeout of %s (--timeout)", what, timeout)
	}
}
