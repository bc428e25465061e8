package check

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/network-connections/network-connections/internal/collect"
	"github.com/network-connections/network-connections/internal/netns"
	"github.com/network-connections/network-connections/internal/report"
	"github.com/network-connections/network-connections/internal/sock"
	"github.com/network-connections/network-connections/internal/threshold"
	"github.com/network-connections/network-connections/internal/top"
)

// hangs is a collector that never answers, as one stuck in a system call.
type hangs struct{}

func (hangs) Collect(context.Context, collect.Filter, sock.Sink) (collect.Result, error) {
	<-make(chan struct{}) // ignores ctx, as a stuck syscall would
	return collect.Result{}, nil
}

func TestWithinTimeout(t *testing.T) {
	start := time.Now()
	var b strings.Builder
	code := Run(Config{Timeout: 100 * time.Millisecond, Backend: "hanging"}, hangs{}, &b)
	if want := "UNKNOWN: the hanging collector did not answer within the timeout of 100ms (--timeout)\n"; b.String() != want || code != 3 {
		t.Errorf("exit %d, %q; want 3, %q", code, b.String(), want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d) // generous: only that it returns at all
	}
}

func TestWithinPanic(t *testing.T) {
	err := within(time.Now().Add(time.Second), time.Second, "panicking", func(context.Context) error { panic("boom") })
	if err == nil || err.Error() != "internal error: boom" {
		t.Errorf("err = %v, want the panic as an error", err)
	}
}

// census is a collector that found what --netns all finds on a node: it
// hands each namespace's sockets to its sink as the real one does.
type census struct {
	namespaces []netns.Namespace
	sockets    [][]sock.Socket
	notCounted []collect.Uncounted
	err        error
}

func (c census) Collect(_ context.Context, _ collect.Filter, sink sock.Sink) (collect.Result, error) {
	r := collect.Result{Backend: "fake", Census: &collect.Census{Namespaces: c.namespaces, NotCounted: c.notCounted}}
	for i, ns := range c.namespaces {
		s := sink
		if split, ok := sink.(collect.NetnsSink); ok {
			s = split.For(ns.Inode, ns.Name)
		}
		counts := sock.CountSockets(c.sockets[i])
		for _, so := range c.sockets[i] {
			if s != nil {
				s.Add(so)
			}
		}
		if s != nil {
			s.Done()
		}
		r.Census.Counts = append(r.Census.Counts, counts)
		for t := range counts {
			for st, n := range counts[t] {
				r.Counts[t][st] += n
			}
		}
	}
	return r, c.err
}

func loopback(n int) []sock.Socket {
	var out []sock.Socket
	for range n {
		out = append(out, sock.Socket{Type: sock.TCP, Status: sock.Established,
			Local: netip.MustParseAddrPort("127.0.0.1:40000"), Remote: netip.MustParseAddrPort("127.0.0.1:5432")})
	}
	return out
}

// TestPipeline runs the whole check on an injected collector, as no root:
// namespaces, their entities, partial views and errors.
func TestPipeline(t *testing.T) {
	pods := census{
		namespaces: []netns.Namespace{{Inode: 1, Name: "host", Perf: "host", Self: true},
			{Inode: 2, Name: "pod shop/api-0", Perf: "pod-shop-api-0"}, {Inode: 3, Name: "pod shop/api-1", Perf: "pod-shop-api-1"}},
		sockets: [][]sock.Socket{nil, loopback(4), loopback(4)},
	}
	partial := pods
	partial.notCounted = []collect.Uncounted{{Namespace: netns.Namespace{Inode: 4, Name: "pod x/y"}, Err: "permission denied", Privilege: true}}
	key := report.EntityOptions{Key: top.ByRemoteAddress, N: 3}
	limit := key
	limit.Critical, _ = threshold.Parse("5")
	tests := []struct {
		name   string
		cfg    Config
		c      collect.Collector
		code   int
		prefix string
	}{
		{"summed", Config{Report: report.Options{GroupBy: report.ByTypeStatus}}, pods, 0, "tcp ESTABLISHED: 8|"},
		{"per namespace", Config{Report: report.Options{GroupBy: mustGroupBy(t, "netns")}}, pods, 0, "pod shop/api-0: 4, pod shop/api-1: 4|"},
		{"loopback apart, under a limit of 5", Config{Netns: "all", Entities: limit, Top: 3, Report: report.Options{GroupBy: report.ByTypeStatus}}, pods, 0, "tcp ESTABLISHED: 8|"},
		{"partial: UNKNOWN", Config{Netns: "all", Report: report.Options{GroupBy: report.ByTypeStatus}}, partial, 3, "tcp ESTABLISHED: 8, 1 of 4 network namespaces not counted: entering them needs CAP_SYS_ADMIN"},
		{"an error", Config{}, census{err: errors.New("boom")}, 3, "UNKNOWN: boom\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Filter, cfg.Timeout, cfg.Backend = collect.All, time.Second, "fake"
			cfg.Report.Filter = cfg.Filter
			var b strings.Builder
			code := Run(cfg, tt.c, &b)
			if code != tt.code || !strings.HasPrefix(b.String(), tt.prefix) {
				t.Errorf("exit %d, want %d; got\n%s\nwant it to begin %q", code, tt.code, b.String(), tt.prefix)
			}
		})
	}
}

func mustGroupBy(t *testing.T, s string) report.GroupBy {
	by, err := report.ParseGroupBy(s)
	if err != nil {
		t.Fatal(err)
	}
	return by
}
