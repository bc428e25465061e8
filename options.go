package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	flag "github.com/spf13/pflag"

	"github.com/network-connections/network-connections/internal/collect"
	"github.com/network-connections/network-connections/internal/report"
	"github.com/network-connections/network-connections/internal/threshold"
	"github.com/network-connections/network-connections/internal/top"
)

// option is one command-line option: the one place its name, value, default
// and help are written; the flag set and the help are made from the table.
type option struct {
	long, short string
	kind        optionKind
	arg         string // the value's name in the help
	def         string // the default as pflag takes it ("" for none)
	shown       string // the default as the help says it, when not def
	help        string
	section     string // the heading it starts, if any
}

type optionKind int

const (
	valueOpt    optionKind = iota // one value, the last one given wins
	repeatedOpt                   // repeatable, each value may be a comma list
	switchOpt
	countOpt
)

func (o *option) takesValue() bool { return o.kind == valueOpt || o.kind == repeatedOpt }

var options = []option{
	{long: "conn-type", kind: repeatedOpt, arg: "TYPE", shown: "all", section: "What to count:",
		help: "all, tcp, tcp6, udp, udp6 or unix; repeatable or a comma list, any case. all is tcp, tcp6, udp and udp6; all,unix adds unix"},
	{long: "conn-status", kind: repeatedOpt, arg: "STATUS", shown: "all",
		help: "all, close, close_wait, closing, established, fin_wait1, fin_wait2, last_ack, listen, none, syn_recv, syn_sent or time_wait; repeatable or a comma list, any case"},
	{long: "local-port", kind: repeatedOpt, arg: "PORT", shown: "any",
		help: "a port (443) or a range (8000-8100); repeatable or a comma list"},
	{long: "remote-port", kind: repeatedOpt, arg: "PORT", shown: "any", help: "the same for the peer's port"},
	{long: "local-address", kind: repeatedOpt, arg: "ADDR", shown: "any",
		help: "an IPv4 or IPv6 address or CIDR; repeatable or a comma list"},
	{long: "remote-address", kind: repeatedOpt, arg: "ADDR", shown: "any", help: "the same for the peer's address"},
	{long: "netns", arg: "NAME|PATH|all", shown: "the check's own",
		help: "count in another network namespace (Linux, needs CAP_SYS_ADMIN): a name from ip netns, or a path such as /proc/PID/ns/net; all: in every one on the host, each once (containers, pods, ip netns), the groups summed unless --group-by has netns"},

	{long: "group-by", arg: "GROUPING", def: "type,status", section: "How to judge and show it:",
		help: "type,status, type, status or none; with netns added anywhere in the list (netns,status or status,netns), each network namespace's own groups, each judged by the thresholds"},
	{long: "warning", short: "w", kind: repeatedOpt, arg: "[SEL=]RANGE", shown: "none",
		help: "WARNING when a group's count is outside this Nagios range ([@]start:end: 200, 30:40, @0:5). Repeatable with a selector: a status, a type or a group label (time_wait=500 -w tcp6_established=8000); the most specific wins, a plain range covers the rest"},
	{long: "critical", short: "c", kind: repeatedOpt, arg: "[SEL=]RANGE", shown: "none", help: "CRITICAL, the same way"},
	{long: "report-missing", kind: switchOpt, shown: "off",
		help: "report the requested type x status groups that have no sockets as 0 (so -c 1: alerts when they vanish)"},
	{long: "always-ok", kind: switchOpt, shown: "off", help: "exit 0 whatever the counts (states still shown)"},
	{long: "no-perfdata", kind: switchOpt, shown: "off", help: "print no performance data"},
	{long: "timeout", short: "t", arg: "SECONDS", def: "10", help: "give up with UNKNOWN after this long"},
	{long: "backend", arg: "NAME", def: "auto",
		help: "how to count: auto (on Linux sock_diag, else /proc/net where it is refused), netlink, procfs, gopsutil (the only one off Linux)"},
	{long: "top", arg: "N", def: "0", shown: "0, off",
		help: "after the status line, name the N processes that hold the most sockets of the groups that alert (or of all groups)"},
	{long: "top-by", arg: "KEY", def: "process",
		help: "what --top names: process, remote-address, remote-network, local-port, remote-port or netns (these read no /proc)"},
	{long: "network-prefix", arg: "V4,V6", def: "24,64", help: "remote-network's prefix lengths"},
	{long: "top-warning", arg: "RANGE", shown: "none",
		help: "WARNING when one entity of --top-by (a peer, a network, a port) holds a count outside this range"},
	{long: "top-critical", arg: "RANGE", shown: "none",
		help: "CRITICAL, the same way; without --top N the entities outside are listed"},
	{long: "listen-queue-warning", arg: "RANGE", shown: "none, off", section: "Which table is about to overflow:",
		help: "WARNING when a listener's accept queue, in percent of its backlog, is outside this range: tcp, tcp6, and unix with --conn-type unix; over 100: full, the kernel drops connections (Linux)"},
	{long: "listen-queue-critical", arg: "RANGE", shown: "none, off", help: "CRITICAL, the same way"},
	{long: "port-usage-warning", arg: "RANGE", shown: "none, off",
		help: "WARNING when the local ports the tcp sockets to one destination (local address, remote address and port) hold, in percent of the ports connect() may pick (ip_local_port_range less the reserved ones), are outside this range"},
	{long: "port-usage-critical", arg: "RANGE", shown: "none, off", help: "CRITICAL, the same way"},
	{long: "conntrack-warning", arg: "RANGE", shown: "none, off",
		help: "WARNING when the conntrack table, in percent of nf_conntrack_max, is outside this range; each namespace's with --netns all (Linux)"},
	{long: "conntrack-critical", arg: "RANGE", shown: "none, off", help: "CRITICAL, the same way"},
	{long: "verbose", short: "v", kind: countOpt, shown: "off", section: "Output:",
		help: "-v: the backend, sockets counted and time taken; -vv: also the options and thresholds"},
	{long: "format", arg: "FORMAT", def: "nagios", help: "nagios or json: one document for scripts"},
	{long: "version", short: "V", kind: switchOpt, help: "print the version and exit 3"},
	{long: "help", short: "h", kind: switchOpt, help: "print this help and exit 3"},
}

// helpColumn is where the options' descriptions begin; helpWidth is the
// widest a help line may be, to fit an 80-column terminal.
const helpColumn, helpWidth = 30, 79

// usage is the --help text, made from the options table.
func usage() string {
	var b strings.Builder
	b.WriteString(`Usage: network-connections [options]

Counts the host's tcp, tcp6, udp and udp6 sockets (and unix ones if asked) by
type and status, sorted by count, and alerts when a group's count leaves the
--warning or --critical range.
`)
	for _, o := range options {
		if o.section != "" {
			b.WriteString("\n" + o.section + "\n")
		}
		left := "      --" + o.long
		if o.short != "" {
			left = "  -" + o.short + ", --" + o.long
		}
		if o.arg != "" {
			left += " " + o.arg
		}
		text := o.help
		if d := cmp.Or(o.shown, o.def); d != "" {
			text += " (default " + d + ")"
		}
		lines := wrap(text, helpWidth-helpColumn)
		if len(left)+2 > helpColumn {
			b.WriteString(left + "\n")
		} else {
			b.WriteString(left + strings.Repeat(" ", helpColumn-len(left)) + lines[0] + "\n")
			lines = lines[1:]
		}
		for _, l := range lines {
			b.WriteString(strings.Repeat(" ", helpColumn) + l + "\n")
		}
	}
	b.WriteString(`
Any unambiguous start of a long option will do, as for the original plugin:
--crit 10 is --critical 10.

Examples:
  network-connections --conn-type tcp --conn-status established --warning 200
  network-connections --conn-type tcp,tcp6 --conn-status close_wait \\
      -w 50 -c 100
  network-connections --conn-type tcp --conn-status listen --local-port 443 \
      --report-missing -c 1:

Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
More in the README: https://github.com/network-connections/network-connections
(with the packages: /usr/share/doc/network-connections/README.rst).
`)
	return b.String()
}

// wrap breaks text into lines of at most width bytes, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	return append(lines, line)
}

// config is the parsed command line.
type config struct {
	filter   collect.Filter
	backend  string
	netns    string // --netns
	top      int
	entities report.EntityOptions // --top-by and its limits
	bits4    int                  // --network-prefix
	bits6    int
	verbose  int
	report   report.Options
	timeout  time.Duration
	help     bool
	version  bool

	// --listen-queue-*, --port-usage-*, --conntrack-*
	measures report.MeasureOptions
}

func parseArgs(args []string) (config, error) {
	var cfg config
	toks, err := scan(args)
	if err != nil {
		return cfg, err
	}
	expanded, err := expand(toks)
	if err != nil {
		return cfg, err
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	strs, lists, switches := map[string]*string{}, map[string]*[]string{}, map[string]*bool{}
	for _, o := range options {
		switch o.kind {
		case valueOpt:
			strs[o.long] = fs.String(o.long, o.def, "")
		case repeatedOpt:
			lists[o.long] = fs.StringArray(o.long, nil, "")
		case switchOpt:
			switches[o.long] = fs.Bool(o.long, false, "")
		case countOpt:
			fs.CountVar(&cfg.verbose, o.long, "")
		}
	}
	if err := fs.Parse(expanded); err != nil {
		return cfg, fmt.Errorf("the command line: %s (see --help)", err) // scan and expand leave pflag nothing to refuse
	}
	str := func(name string) string { return *strs[name] }
	list := func(name string) []string { return *lists[name] }
	flagOn := func(name string) bool { return *switches[name] }
	cfg.help, cfg.version = flagOn("help"), flagOn("version")
	cfg.report.ReportMissing, cfg.report.AlwaysOK, cfg.report.NoPerfdata = flagOn("report-missing"), flagOn("always-ok"), flagOn("no-perfdata")
	types, statuses := list("conn-type"), list("conn-status")
	warning, critical := list("warning"), list("critical")
	localPorts, remotePorts := list("local-port"), list("remote-port")
	localAddrs, remoteAddrs := list("local-address"), list("remote-address")
	netns, groupBy, timeout, backend := str("netns"), str("group-by"), str("timeout"), str("backend")
	topBy, netPrefix, topWarning, topCritical, format := str("top-by"), str("network-prefix"), str("top-warning"), str("top-critical"), str("format")
	if cfg.help || cfg.version {
		return cfg, nil
	}

	typeBits, typeText, err := parseChoices(types, "--conn-type", uint64(collect.All.Types), collect.ParseType)
	if err != nil {
		return cfg, err
	}
	statusBits, statusText, err := parseChoices(statuses, "--conn-status", uint64(collect.All.Statuses), collect.ParseStatus)
	if err != nil {
		return cfg, err
	}
	cfg.filter = collect.Filter{Types: uint8(typeBits), Statuses: uint16(statusBits)}
	cfg.report.TypeText, cfg.report.StatusText = typeText, statusText
	f := &cfg.filter
	if f.Local.Ports, err = parseList("--local-port", localPorts, collect.ParsePortRange); err != nil {
		return cfg, err
	}
	if f.Remote.Ports, err = parseList("--remote-port", remotePorts, collect.ParsePortRange); err != nil {
		return cfg, err
	}
	if f.Local.Prefixes, err = parseList("--local-address", localAddrs, collect.ParsePrefix); err != nil {
		return cfg, err
	}
	if f.Remote.Prefixes, err = parseList("--remote-address", remoteAddrs, collect.ParsePrefix); err != nil {
		return cfg, err
	}
	if cfg.filter.Scoped() && cfg.filter.HasType(collect.Unix) {
		return cfg, errors.New("--conn-type unix: unix sockets have no ports or IP addresses to select by")
	}
	cfg.report.Filter = cfg.filter
	var scope []string // the scoping options as given, for "No connections ..."
	for _, o := range []struct {
		name   string
		values []string
	}{{"--local-port", localPorts}, {"--remote-port", remotePorts}, {"--local-address", localAddrs},
		{"--remote-address", remoteAddrs}, {"--netns", []string{netns}}} {
		for _, v := range o.values {
			if v != "" {
				scope = append(scope, o.name+" "+report.Shown(v))
			}
		}
	}
	cfg.report.ScopeText = report.Shown(strings.Join(scope, " "))

	if cfg.report.Warning, err = report.ParseThresholds(warning); err != nil {
		return cfg, fmt.Errorf("--warning: %w", err)
	}
	if cfg.report.Critical, err = report.ParseThresholds(critical); err != nil {
		return cfg, fmt.Errorf("--critical: %w", err)
	}
	if cfg.report.GroupBy, err = report.ParseGroupBy(groupBy); err != nil {
		return cfg, fmt.Errorf("--group-by: %w", err)
	}
	if err := cfg.report.Warning.Check(cfg.report.GroupBy); err != nil {
		return cfg, fmt.Errorf("--warning %w", err)
	}
	if err := cfg.report.Critical.Check(cfg.report.GroupBy); err != nil {
		return cfg, fmt.Errorf("--critical %w", err)
	}
	cfg.backend, cfg.netns = strings.ToLower(backend), netns
	if cfg.top, err = strconv.Atoi(strings.TrimSpace(str("top"))); err != nil || cfg.top < 0 {
		return cfg, fmt.Errorf("--top %q: want how many processes to name, 0 for none", report.Shown(str("top")))
	}
	if err := parseTopBy(&cfg, fs, topBy, netPrefix, topWarning, topCritical); err != nil {
		return cfg, err
	}
	if err := parseSaturation(&cfg, str); err != nil {
		return cfg, err
	}
	if f := strings.ToLower(format); f != "nagios" && f != "json" {
		return cfg, fmt.Errorf("--format %q: want nagios or json", format)
	}
	secs, err := strconv.ParseFloat(timeout, 64)
	// Below a millisecond the duration would round to nothing, and the
	// message say "a timeout of 0s".
	if err != nil || !(secs >= 0.001) || secs > 1e6 {
		return cfg, fmt.Errorf("--timeout %q: want a number of seconds from 0.001 to 1000000", timeout)
	}
	cfg.timeout = time.Duration(secs * float64(time.Second))
	return cfg, nil
}

// parseTopBy reads --top-by, --network-prefix, --top-warning and
// --top-critical, and refuses what would be accepted and do nothing.
func parseTopBy(cfg *config, fs *flag.FlagSet, key, prefix, warning, critical string) error {
	e := &cfg.entities
	var err error
	if e.Key, err = top.ParseKey(key); err != nil {
		return fmt.Errorf("--top-by: %w", err)
	}
	if e.Warning, err = threshold.Parse(warning); err != nil {
		return fmt.Errorf("--top-warning: %w", err)
	}
	if e.Critical, err = threshold.Parse(critical); err != nil {
		return fmt.Errorf("--top-critical: %w", err)
	}
	e.N = cfg.top
	v4, v6, both := strings.Cut(prefix, ",")
	if !both {
		v6 = "64" // IPv4's given alone
	}
	b4, err4 := strconv.Atoi(strings.TrimSpace(v4))
	b6, err6 := strconv.Atoi(strings.TrimSpace(v6))
	if err4 != nil || err6 != nil || b4 < 0 || b4 > 32 || b6 < 0 || b6 > 128 {
		return fmt.Errorf("--network-prefix %q: want the IPv4 and IPv6 prefix lengths, such as 24,64 (0-32, 0-128)", prefix)
	}
	cfg.bits4, cfg.bits6 = b4, b6
	switch {
	case fs.Changed("network-prefix") && e.Key != top.ByRemoteNetwork:
		return fmt.Errorf("--network-prefix applies to --top-by remote-network, not %s", e.Key)
	case e.Key == top.ByProcess && e.Judges():
		return errors.New("--top-warning and --top-critical judge the entities of --top-by remote-address, remote-network, local-port, remote-port or netns, not processes")
	case fs.Changed("top-by") && cfg.top == 0 && !e.Judges():
		return fmt.Errorf("--top-by %s: give --top N to list the largest, or --top-warning/--top-critical to judge each", e.Key)
	}
	return nil
}

// parseList reads a repeatable option whose values may be comma lists.
func parseList[T any](option string, values []string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, v := range splitList(values) {
		x, err := parse(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", option, err)
		}
		out = append(out, x)
	}
	return out, nil
}

// splitList splits the values of a repeatable option at commas.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(item))
		}
	}
	return out
}

// parseChoices reads a repeatable option whose values may be comma lists, in
// any case. It returns their bitmask and their text for the "No connections"
// message. Nothing given selects all; "all" selects all, plus what else is
// named (for types: "all,unix" adds unix sockets to the four inet types).
func parseChoices[T collect.Type | collect.Status](values []string, option string, all uint64, parse func(string) (T, error)) (uint64, string, error) {
	var bits uint64
	var names []string
	hasAll := false
	for _, n := range splitList(values) {
		if n = strings.ToLower(n); n == "all" {
			hasAll = true
			continue
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
	if hasAll {
		extra := []string{"all"}
		for _, n := range names {
			if c, _ := parse(n); all&(1<<c) == 0 {
				extra = append(extra, n)
			}
		}
		return all | bits, strings.Join(extra, ","), nil
	}
	if bits == 0 {
		return all, "all", nil
	}
	return bits, strings.Join(names, ","), nil
}
