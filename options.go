package main

import (
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

const usage = `Usage: network-connections [options]

Counts the host's tcp, tcp6, udp and udp6 sockets (and unix ones if asked) by
type and status, sorted by count, and alerts when a group's count leaves the
--warning or --critical range.

What to count:
      --conn-type TYPE      all, tcp, tcp6, udp, udp6, unix (repeatable or a
                            comma list, any case; default all: tcp, tcp6, udp,
                            udp6)
      --conn-status STATUS  all, close, close_wait, closing, established,
                            fin_wait1, fin_wait2, last_ack, listen, none,
                            syn_recv, syn_sent, time_wait (default all)
      --local-port PORT     a port (443) or a range (8000-8100); repeatable
      --remote-port PORT    the same for the peer's port
      --local-address ADDR  an IPv4 or IPv6 address or CIDR; repeatable
      --remote-address ADDR the same for the peer's address
      --netns NAME|PATH|all count in another network namespace (Linux, needs
                            CAP_SYS_ADMIN): a name from ip netns, or a path
                            such as /proc/PID/ns/net; all: in every one on the
                            host, each once (containers, pods, ip netns), the
                            groups summed unless --group-by has netns

How to judge and show it:
      --group-by GROUPING   type,status (default), type, status or none; with
                            netns first, each network namespace's own groups
                            (netns,type,status, netns,status, netns,type,
                            netns), each judged by the thresholds
  -w, --warning [SEL=]RANGE WARNING when a group's count is outside this Nagios
                            range ([@]start:end: 200, 30:40, @0:5). Repeatable
                            with a selector: a status, a type or a group label
                            (time_wait=500 -w tcp6_established=8000); the most
                            specific wins, a plain range covers the rest
  -c, --critical [SEL=]RANGE  CRITICAL, the same way
      --report-missing      report the requested type x status groups that have
                            no sockets as 0 (so -c 1: alerts when they vanish)
      --always-ok           exit 0 whatever the counts (states still shown)
      --no-perfdata         print no performance data
  -t, --timeout SECONDS     give up with UNKNOWN after this long (default 10)
      --backend NAME        how to count: auto (default; on Linux sock_diag,
                            else /proc/net where it is refused), netlink,
                            procfs, gopsutil (the only one off Linux)
      --top N               after the status line, name the N processes that
                            hold the most sockets of the groups that alert
                            (or of all groups); default 0, off
      --top-by KEY          what --top names: process (default),
                            remote-address, remote-network, local-port or
                            remote-port (these read no /proc)
      --network-prefix V4,V6  remote-network's prefix lengths (default 24,64)
      --top-warning RANGE   WARNING when one entity of --top-by (a peer, a
                            network, a port) holds a count outside this range
      --top-critical RANGE  CRITICAL, the same way; without --top N the
                            entities outside are listed
      --listen-queue-warning RANGE
                            WARNING when a listener's accept queue, in percent
                            of its backlog, is outside this range: tcp, tcp6,
                            and unix with --conn-type unix; over 100: full,
                            the kernel drops connections (Linux)
      --listen-queue-critical RANGE
                            CRITICAL, the same way
      --port-usage-warning RANGE
                            WARNING when the local ports the tcp sockets to
                            one destination (local address, remote address
                            and port) hold, in percent of the ports connect()
                            may pick (ip_local_port_range less the reserved
                            ones), are outside this range; 100: it fails
      --port-usage-critical RANGE
                            CRITICAL, the same way
      --conntrack-warning RANGE
                            WARNING when the conntrack table, in percent of
                            nf_conntrack_max, is outside this range; each
                            namespace's with --netns all (Linux)
      --conntrack-critical RANGE
                            CRITICAL, the same way
  -v, --verbose             -v: the backend, sockets counted and time taken;
                            -vv: also the options and thresholds
      --format FORMAT       nagios (default) or json: one document for scripts
  -V, --version             print the version and exit 3
  -h, --help                print this help and exit 3

Examples:
  network-connections --conn-type tcp --conn-status established --warning 200
  network-connections --conn-type tcp,tcp6 --conn-status close_wait -w 50 -c 100
  network-connections --conn-type tcp --conn-status listen --local-port 443 \
      --report-missing -c 1:

Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
`

// config is the parsed command line.
type config struct {
	filter    collect.Filter
	collector collect.Collector
	backend   string
	netns     string // --netns
	top       int
	entities  report.EntityOptions // --top-by and its limits
	bits4     int                  // --network-prefix
	bits6     int
	verbose   int
	report    report.Options
	timeout   time.Duration
	help      bool
	version   bool

	// --listen-queue-*, --port-usage-*, --conntrack-*
	measures report.MeasureOptions
}

func parseArgs(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	types := fs.StringArray("conn-type", nil, "")
	statuses := fs.StringArray("conn-status", nil, "")
	warning := fs.StringArrayP("warning", "w", nil, "")
	critical := fs.StringArrayP("critical", "c", nil, "")
	localPorts := fs.StringArray("local-port", nil, "")
	remotePorts := fs.StringArray("remote-port", nil, "")
	localAddrs := fs.StringArray("local-address", nil, "")
	remoteAddrs := fs.StringArray("remote-address", nil, "")
	netns := fs.String("netns", "", "")
	groupBy := fs.String("group-by", "type,status", "")
	fs.BoolVar(&cfg.report.ReportMissing, "report-missing", false, "")
	fs.BoolVar(&cfg.report.AlwaysOK, "always-ok", false, "")
	fs.BoolVar(&cfg.report.NoPerfdata, "no-perfdata", false, "")
	timeout := fs.StringP("timeout", "t", "10", "")
	backend := fs.String("backend", "auto", "")
	fs.IntVar(&cfg.top, "top", 0, "")
	topBy := fs.String("top-by", "process", "")
	netPrefix := fs.String("network-prefix", "24,64", "")
	topWarning := fs.String("top-warning", "", "")
	topCritical := fs.String("top-critical", "", "")
	measures := saturationFlags(fs)
	fs.CountVarP(&cfg.verbose, "verbose", "v", "")
	format := fs.String("format", "nagios", "")
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
	f := &cfg.filter
	if f.Local.Ports, err = parseList("--local-port", *localPorts, collect.ParsePortRange); err != nil {
		return cfg, err
	}
	if f.Remote.Ports, err = parseList("--remote-port", *remotePorts, collect.ParsePortRange); err != nil {
		return cfg, err
	}
	if f.Local.Prefixes, err = parseList("--local-address", *localAddrs, collect.ParsePrefix); err != nil {
		return cfg, err
	}
	if f.Remote.Prefixes, err = parseList("--remote-address", *remoteAddrs, collect.ParsePrefix); err != nil {
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
	}{{"--local-port", *localPorts}, {"--remote-port", *remotePorts}, {"--local-address", *localAddrs},
		{"--remote-address", *remoteAddrs}, {"--netns", []string{*netns}}} {
		for _, v := range o.values {
			if v != "" {
				scope = append(scope, o.name+" "+report.Shown(v))
			}
		}
	}
	cfg.report.ScopeText = report.Shown(strings.Join(scope, " "))

	if cfg.report.Warning, err = report.ParseThresholds(*warning); err != nil {
		return cfg, fmt.Errorf("--warning: %w", err)
	}
	if cfg.report.Critical, err = report.ParseThresholds(*critical); err != nil {
		return cfg, fmt.Errorf("--critical: %w", err)
	}
	if cfg.report.GroupBy, err = report.ParseGroupBy(*groupBy); err != nil {
		return cfg, fmt.Errorf("--group-by: %w", err)
	}
	if err := cfg.report.Warning.Check(cfg.report.GroupBy); err != nil {
		return cfg, fmt.Errorf("--warning %w", err)
	}
	if err := cfg.report.Critical.Check(cfg.report.GroupBy); err != nil {
		return cfg, fmt.Errorf("--critical %w", err)
	}
	cfg.backend = strings.ToLower(*backend)
	if cfg.collector, err = collect.New(cfg.backend); err != nil {
		return cfg, fmt.Errorf("--backend: %w", err)
	}
	if cfg.netns = *netns; *netns != "" {
		if cfg.collector, err = collect.InNetns(cfg.collector, *netns); err != nil {
			return cfg, fmt.Errorf("--netns %s: %w", *netns, err)
		}
	}
	if cfg.top < 0 {
		return cfg, fmt.Errorf("--top %d: want how many to name, 0 for none", cfg.top)
	}
	if err := parseTopBy(&cfg, fs, *topBy, *netPrefix, *topWarning, *topCritical); err != nil {
		return cfg, err
	}
	if err := parseSaturation(&cfg, measures); err != nil {
		return cfg, err
	}
	if f := strings.ToLower(*format); f != "nagios" && f != "json" {
		return cfg, fmt.Errorf("--format %q: want nagios or json", *format)
	}
	secs, err := strconv.ParseFloat(*timeout, 64)
	if err != nil || !(secs > 0) || secs > 1e6 {
		return cfg, fmt.Errorf("--timeout %q: want a number of seconds greater than 0", *timeout)
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
		return errors.New("--top-warning and --top-critical judge the entities of --top-by remote-address, remote-network, local-port or remote-port, not processes")
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

// wantsJSON looks for --format json before parsing, so that even a parse
// error comes out as JSON. The last --format wins, as for the parser.
func wantsJSON(args []string) bool {
	json := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return json
		case strings.HasPrefix(a, "--format="):
			json = strings.EqualFold(a[len("--format="):], "json")
		case a == "--format" && i+1 < len(args):
			i++
			json = strings.EqualFold(args[i], "json")
		}
	}
	return json
}
