// Package check runs one check from a plain Config and a Collector:
// collect, attribute (--top, --top-by), judge and render. main keeps the
// command line, the signals and the exit code; tests inject a collector.
package check

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/network-connections/network-connections/internal/collect"
	"github.com/network-connections/network-connections/internal/netns"
	"github.com/network-connections/network-connections/internal/report"
	"github.com/network-connections/network-connections/internal/saturation"
	"github.com/network-connections/network-connections/internal/sock"
	"github.com/network-connections/network-connections/internal/top"
)

// Config is what the command line asked, parsed.
type Config struct {
	Filter   collect.Filter
	Report   report.Options
	Entities report.EntityOptions // --top-by and its limits
	Top      int                  // --top
	Bits4    int                  // --network-prefix
	Bits6    int
	Netns    string // --netns as given: "" the checker's own, "all" every one, or one
	Backend  string // --backend as given, for messages
	Verbose  int
	Timeout  time.Duration
	JSON     bool
	Measures report.MeasureOptions // --listen-queue-*, --port-usage-*, --conntrack-*
}

// Run counts with c, judges and renders to out, and returns the exit code.
func Run(cfg Config, c collect.Collector, out io.Writer) int {
	start := time.Now()
	deadline := start.Add(cfg.Timeout)
	unknown := func(err error) int {
		report.WriteUnknown(out, err.Error(), cfg.JSON)
		return int(report.Unknown)
	}
	byKey, holders, sink := sinks(cfg)
	// The measures take what they need of the same dump.
	// A table that alerts is dumped to name who fills it, within a
	// quarter of --timeout: the dumps run inside the collector's time,
	// and the count keeps three quarters of it.
	sat := saturationSink(cfg.Measures, start.Add(cfg.Timeout/4))
	if sat != nil {
		sink = collect.Tee(sink, sat)
	}
	var res collect.Result
	err := within(deadline, cfg.Timeout, "the "+cfg.Backend+" collector", func(ctx context.Context) (err error) {
		if sat != nil && cfg.Netns == "" {
			sat.Enter(nil) // the namespace counted is ours: read its limits here
		}
		res, err = c.Collect(ctx, cfg.Filter, sink)
		return err
	})
	if err != nil {
		return unknown(err)
	}
	parts, namespaces := split(cfg, res)
	r := report.NewParts(parts, cfg.Report)
	r.SetNamespaces(namespaces)
	if byKey != nil {
		r.JudgeEntities(byKey, cfg.Entities)
	}
	if sat != nil {
		var counted []uint64
		if r.Netns != nil {
			for _, n := range r.Netns.Counted {
				counted = append(counted, n.Inode)
			}
		}
		r.JudgeSaturation(sat.Spaces(counted...), cfg.Measures)
		err = within(deadline, cfg.Timeout, "the walk of /proc for the owners", func(context.Context) error {
			return r.Saturation.NameOwners(top.Owners)
		})
		if err != nil {
			return unknown(err)
		}
	}
	d := report.Details{Backend: res.Backend, Sockets: res.Counts.Total(), Timeout: cfg.Timeout, Verbose: cfg.Verbose}
	if holders != nil && len(r.Groups) > 0 {
		err = within(deadline, cfg.Timeout, "--top's walk of /proc", func(context.Context) (err error) {
			d.Top, err = top.Find(holders, r.TopScope(), cfg.Top)
			return err
		})
		if err != nil {
			return unknown(err)
		}
	}
	d.Duration = time.Since(start)
	r.Render(out, d, cfg.JSON)
	return r.ExitCode()
}

// saturationSink is the sink the measures take their sockets from, or nil
// when none is asked for.
func saturationSink(o report.MeasureOptions, deadline time.Time) *saturation.Sink {
	if !o.ListenQueue.On() && !o.PortUsage.On() && !o.Conntrack.On() {
		return nil
	}
	return saturation.NewSink(saturation.Options{ListenQueue: o.ListenQueue.On(), PortUsage: o.PortUsage.On(), Conntrack: o.Conntrack.On(),
		ConntrackAlerts: o.Conntrack.Alerts, Deadline: deadline})
}

// sinks are what --top takes of each socket as the collector counts it:
// its entity (--top-by a key the sockets carry), or what finds its holder.
func sinks(cfg Config) (*top.Tally, *top.Holders, sock.Sink) {
	switch {
	case cfg.Entities.Key != top.ByProcess && (cfg.Top > 0 || cfg.Entities.Judges()):
		self := "host"
		if cfg.Netns != "" && cfg.Netns != "all" {
			self = cfg.Netns
		}
		t := top.NewTally(cfg.Entities.Key, cfg.Bits4, cfg.Bits6, cfg.Report.GroupBy.Netns, self)
		return t, nil, t
	case cfg.Top > 0:
		h := top.NewHolders()
		return nil, h, h
	}
	return nil, nil, nil
}

// split is the counts as the report takes them: a part for each namespace
// that --netns all counted, and what it did not; else the one counted.
func split(cfg Config, res collect.Result) ([]report.Part, *report.Namespaces) {
	c := res.Census
	if c == nil {
		p := report.Part{Counts: res.Counts}
		if cfg.Netns != "" {
			p.Netns = &report.Netns{Name: cfg.Netns, Perf: netns.PerfName(cfg.Netns)}
		}
		return []report.Part{p}, nil
	}
	parts := make([]report.Part, len(c.Namespaces))
	ns := &report.Namespaces{Counted: make([]report.NamespaceCount, len(c.Namespaces)), NotCounted: []report.NotCounted{},
		Gone: c.Gone, Unreadable: c.Unreadable, NeedPtrace: c.NeedPtrace, Why: c.Why}
	named := func(n netns.Namespace) report.Netns { return report.Netns{Name: n.Name, Perf: n.Perf, Inode: n.Inode} }
	identity := func(n netns.Namespace) report.NetnsIdentity {
		return report.NetnsIdentity{Runtime: n.ID.Runtime, ContainerIDs: n.ID.ContainerIDs, Container: n.ID.Container,
			PodNamespace: n.ID.PodNamespace, PodName: n.ID.Pod, PodUID: n.ID.PodUID, Source: n.ID.Source}
	}
	for i, n := range c.Namespaces {
		name := named(n)
		parts[i] = report.Part{Netns: &name, Counts: c.Counts[i]}
		ns.Counted[i] = report.NamespaceCount{Netns: name, Identity: identity(n), Processes: len(n.Pids), Sockets: c.Counts[i].Total()}
	}
	for _, n := range c.NotCounted {
		ns.NotCounted = append(ns.NotCounted, report.NotCounted{Netns: named(n.Namespace), Identity: identity(n.Namespace), Error: n.Err, Privilege: n.Privilege})
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
