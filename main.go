// network-connections is a Nagios/Icinga check that counts the host's sockets
// by type and status and alerts when a group's count leaves a range.
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/network-connections/network-connections/internal/check"
	"github.com/network-connections/network-connections/internal/collect"
	"github.com/network-connections/network-connections/internal/report"
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

// run is the whole check: parse, then check.Run with the collector the
// options name. It returns the exit code.
func run(args []string, out io.Writer) int { return runWith(args, out, collector) }

// runWith takes the collector from newCollector: tests hand in their own.
func runWith(args []string, out io.Writer, newCollector func(config) (collect.Collector, error)) (code int) {
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
		fmt.Fprint(out, usage())
		return int(report.Unknown)
	case cfg.version:
		fmt.Fprintf(out, "%s %s\n", name, versionText())
		return int(report.Unknown)
	}
	c, err := newCollector(cfg)
	if err != nil {
		return unknown(err.Error())
	}
	return check.Run(cfg.checkConfig(asJSON), c, out)
}

// checkConfig is what check.Run takes of the options.
func (cfg config) checkConfig(asJSON bool) check.Config {
	return check.Config{Filter: cfg.filter, Report: cfg.report, Entities: cfg.entities, Top: cfg.top,
		Bits4: cfg.bits4, Bits6: cfg.bits6, Netns: cfg.netns, Backend: cfg.backend, Verbose: cfg.verbose,
		Timeout: cfg.timeout, JSON: asJSON, Measures: cfg.measures}
}

// collector is the one that --backend and --netns name.
func collector(cfg config) (collect.Collector, error) {
	c, err := collect.New(cfg.backend)
	if err != nil {
		return nil, fmt.Errorf("--backend: %w", err)
	}
	if ns := cfg.netns; ns != "" {
		if c, err = collect.InNetns(c, ns); err != nil {
			return nil, fmt.Errorf("--netns %s: %w", ns, err)
		}
	}
	return c, nil
}
