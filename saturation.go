package main

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/network-connections/network-connections/internal/collect"
	"github.com/network-connections/network-connections/internal/netns"
	"github.com/network-connections/network-connections/internal/report"
	"github.com/network-connections/network-connections/internal/threshold"
)

// parseSaturation reads the measures' ranges and refuses what would judge
// nothing: the sockets a measure needs left out by --conn-type or
// --conn-status, a backend that cannot tell the queues, a platform
// without the table.
func parseSaturation(cfg *config, str func(name string) string) error {
	o := &cfg.measures
	for _, x := range []struct {
		name   string
		limits *report.Limits
	}{{"listen-queue", &o.ListenQueue}, {"port-usage", &o.PortUsage}, {"conntrack", &o.Conntrack}} {
		var err error
		if x.limits.Warning, err = threshold.Parse(str(x.name + "-warning")); err != nil {
			return fmt.Errorf("--%s-warning: %w", x.name, err)
		}
		if x.limits.Critical, err = threshold.Parse(str(x.name + "-critical")); err != nil {
			return fmt.Errorf("--%s-critical: %w", x.name, err)
		}
		if x.limits.On() && x.name != "port-usage" && runtime.GOOS != "linux" {
			return fmt.Errorf("--%s-warning and --%s-critical exist on Linux only", x.name, x.name)
		}
	}
	f := cfg.filter
	if o.ListenQueue.On() {
		switch {
		case !f.HasType(collect.TCP) && !f.HasType(collect.TCP6) && !f.HasType(collect.Unix):
			return errors.New("--listen-queue-*: judges tcp, tcp6 and unix listeners, and --conn-type counts none of them")
		case !f.HasStatus(collect.Listen):
			return errors.New("--listen-queue-*: judges listening sockets, and --conn-status leaves out listen")
		case cfg.backend == "procfs" || cfg.backend == "gopsutil":
			return fmt.Errorf("--listen-queue-*: --backend %s cannot tell a listener's backlog: use auto or netlink (sock_diag)", cfg.backend)
		}
		cfg.filter.Queues = f.HasType(collect.Unix)
	}
	if o.PortUsage.On() {
		if !f.HasType(collect.TCP) && !f.HasType(collect.TCP6) {
			return errors.New("--port-usage-*: counts the ports of tcp and tcp6 sockets, and --conn-type counts neither")
		}
		for s := range collect.Status(collect.NumStatuses) {
			if collect.TCP.CanHave(s) && !f.HasStatus(s) {
				return fmt.Errorf("--port-usage-*: every tcp socket holds its port, and --conn-status leaves out %s: use all (the default)", strings.ToLower(s.String()))
			}
		}
	}
	cfg.report.Filter = cfg.filter
	if cfg.netns != "" && cfg.netns != "all" {
		o.Netns = &report.Netns{Name: cfg.netns, Perf: netns.PerfName(cfg.netns)}
	}
	return nil
}
