// network-connections is a Nagios/Icinga check that counts the host's sockets
// by type and status and alerts when a group's count leaves a range.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	flag "github.com/spf13/pflag"

	"github.com/network-connections/network-connections/internal/collect"
	"github.com/network-connections/network-connections/internal/report"
	"github.com/network-connections/network-connections/internal/threshold"
)

// version is stamped by the Makefile from git.
var version = "dev"

const name = "network-connections"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout))
}

const usage = `Usage: network-connections [options]

Counts the host's tcp, tcp6, udp and udp6 sockets by type and status, sorted by
count, and alerts when a group's count leaves the --warning or --critical range.

Options:
      --conn-type TYPE      count only this type: all, tcp, tcp6, udp, udp6
                            (repeatable or a comma list, any case; default all)
      --conn-status STATUS  count only this status: all, close, close_wait,
                            closing, established, fin_wait1, fin_wait2, last_ack,
                            listen, none, syn_recv, syn_sent, time_wait
                            (repeatable or a comma list, any case; default all)
  -w, --warning RANGE       WARNING when a group's count is outside this Nagios
                            range ([@]start:end, e.g. 200, 30:40, @0:5)
  -c, --critical RANGE      CRITICAL when a group's count is outside this range
      --always-ok           exit 0 whatever the counts (states still shown)
      --no-perfdata         print no performance data
  -t, --timeout SECONDS     give up with UNKNOWN after this long (default 10)
      --backend NAME        how to count: auto (default; on Linux sock_diag,
                            else /proc/net where it is refused), netlink,
                            procfs, gopsutil (the only one off Linux)
  -V, --version             print the version and exit 3
  -h, --help                print this help and exit 3

Examples:
  network-connections --conn-type tcp --conn-status established --warning 200
  network-connections --conn-type tcp,tcp6 --conn-status close_wait -w 50 -c 100

Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
`

// config is the parsed command line.
type config struct {
	filter    collect.Filter
	collector collect.Collector
	report    report.Options
	timeout   time.Duration
	help      bool
	version   bool
}

// run is the whole check: parse, collect, report. It returns the exit code.
func run(args []string, out io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(out, "UNKNOWN: internal error: %v\n", oneLine(fmt.Sprint(p)))
			code = int(report.Unknown)
		}
	}()
	cfg, err := parseArgs(args)
	switch {
	case err != nil:
		fmt.Fprintf(out, "UNKNOWN: %s\n", oneLine(err.Error()))
		return int(report.Unknown)
	case cfg.help:
		fmt.Fprint(out, usage)
		return int(report.Unknown)
	case cfg.version:
		fmt.Fprintf(out, "%s %s\n", name, version)
		return int(report.Unknown)
	}

	counts, err := countWithin(cfg.timeout, cfg.collector, cfg.filter)
	if err != nil {
		fmt.Fprintf(out, "UNKNOWN: %s\n", oneLine(err.Error()))
		return int(report.Unknown)
	}
	r := report.New(counts, cfg.report)
	r.Write(out)
	return r.ExitCode()
}

// countWithin runs the collector, giving up when the timeout expires: the
// core would kill us then anyway, without a word on why.
func countWithin(timeout time.Duration, c collect.Collector, f collect.Filter) (collect.Counts, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	type result struct {
		counts collect.Counts
		err    error
	}
	done := make(chan result, 1)
	go func() {
		counts, err := c.Count(ctx, f)
		done <- result{counts, err}
	}()
	select {
	case r := <-done:
		return r.counts, r.err
	case <-ctx.Done():
		return collect.Counts{}, fmt.Errorf("the %s collector did not answer within the timeout of %s (--timeout)", c.Name(), timeout)
	}
}

func parseArgs(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	types := fs.StringArray("conn-type", nil, "")
	statuses := fs.StringArray("conn-status", nil, "")
	warning := fs.StringP("warning", "w", "", "")
	critical := fs.StringP("critical", "c", "", "")
	fs.BoolVar(&cfg.report.AlwaysOK, "always-ok", false, "")
	fs.BoolVar(&cfg.report.NoPerfdata, "no-perfdata", false, "")
	timeout := fs.StringP("timeout", "t", "10", "")
	backend := fs.String("backend", "auto", "")
	fs.BoolVarP(&cfg.version, "version", "V", false, "")
	fs.BoolVarP(&cfg.help, "help", "h", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cfg.help = true
			return cfg, nil
		}
		return cfg, err
	}
	if cfg.help || cfg.version {
		return cfg, nil
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q: this plugin takes options only", fs.Arg(0))
	}

	typeBits, typeText, err := parseChoices(*types, "--conn-type", uint64(collect.All.Types), collect.ParseType)
	if err != nil {
		return cfg, err
	}
	statusBits, statusText, err := parseChoices(*statuses, "--conn-status", uint64(collect.All.Statuses), collect.ParseStatus)
	if err != nil {
		return cfg, err
	}
	cfg.filter = collect.Filter{Types: uint8(typeBits), Statuses: uint16(statusBits)}
	cfg.report.TypeText, cfg.report.StatusText = typeText, statusText

	if cfg.report.Warning, err = threshold.Parse(*warning); err != nil {
		return cfg, fmt.Errorf("--warning: %w", err)
	}
	if cfg.report.Critical, err = threshold.Parse(*critical); err != nil {
		return cfg, fmt.Errorf("--critical: %w", err)
	}
	if cfg.collector, err = collect.New(strings.ToLower(*backend)); err != nil {
		return cfg, fmt.Errorf("--backend: %w", err)
	}
	secs, err := strconv.ParseFloat(*timeout, 64)
	if err != nil || !(secs > 0) || secs > 1e6 {
		return cfg, fmt.Errorf("--timeout %q: want a number of seconds greater than 0", *timeout)
	}
	cfg.timeout = time.Duration(secs * float64(time.Second))
	return cfg, nil
}

// parseChoices reads a repeatable option whose values may be comma lists, in
// any case. It returns their bitmask and their text for the "No connections"
// message; nothing given, or "all" among the values, selects everything.
func parseChoices[T collect.Type | collect.Status](values []string, option string, all uint64, parse func(string) (T, error)) (uint64, string, error) {
	var bits uint64
	var names []string
	for _, v := range values {
		for _, n := range strings.Split(v, ",") {
			n = strings.ToLower(strings.TrimSpace(n))
			if n == "all" {
				return all, "all", nil
			}
			c, err := parse(n)
			if err != nil {
				return 0, "", fmt.Errorf("%s: %w", option, err)
			}
			if bits&(1<<c) == 0 {
				names = append(names, strings.ToLower(fmt.Sprint(c)))
			}
			bits |= 1 << c
		}
	}
	if bits == 0 {
		return all, "all", nil
	}
	return bits, strings.Join(names, ","), nil
}

// oneLine keeps an error to one line: the core shows only the first.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
