package main

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/network-connections/network-connections/internal/collect"
	"github.com/network-connections/network-connections/internal/netns"
)

// fixed is a collector that finds the same sockets every time, in two
// namespaces, one not counted, for any --netns.
type fixed struct{}

func (fixed) Collect(_ context.Context, f collect.Filter, sink collect.Sink) (collect.Result, error) {
	socks := []collect.Socket{
		{Type: collect.TCP, Status: collect.Established, Local: netip.MustParseAddrPort("10.0.0.1:443"), Remote: netip.MustParseAddrPort("192.0.2.7:5000")},
		{Type: collect.TCP6, Status: collect.Listen, Local: netip.MustParseAddrPort("[::]:22")},
		{Type: collect.UDP, Status: collect.None, Local: netip.MustParseAddrPort("127.0.0.1:53"), Remote: netip.MustParseAddrPort("127.0.0.1:9")},
	}
	var kept []collect.Socket
	for _, s := range socks {
		if f.Has(s.Type, s.Status) {
			kept = append(kept, s)
		}
	}
	r := collect.Result{Backend: "fixed", Counts: collect.CountSockets(kept), Census: &collect.Census{
		Namespaces: []netns.Namespace{{Inode: 1, Name: "host", Perf: "host", Self: true}},
		NotCounted: []collect.Uncounted{{Namespace: netns.Namespace{Inode: 2, Name: "x|y\nz"}, Err: "denied", Privilege: true}}}}
	r.Census.Counts = []collect.Counts{r.Counts}
	if sink != nil {
		if split, ok := sink.(collect.NetnsSink); ok {
			sink = split.For(1, "host")
		}
		for _, s := range kept {
			sink.Add(s)
		}
		sink.Done()
	}
	return r, nil
}

// FuzzCommandLine: any argv gives exit 0-3 and an answer on stdout; an error
// is one line; nothing panics (a recovered panic says "internal error").
func FuzzCommandLine(f *testing.F) {
	for _, seed := range []string{
		"", "-h", "-V", "--conn-type tcp,tcp6 --conn-status established -w 200",
		"-w 30:40 -c @10:20 --always-ok", "--conn-type=all --conn-status=all --no-perfdata",
		"-w time_wait=500 -w established=5000 -c tcp6_established=8000",
		"--local-port 8000-8100 --remote-address 10.0.0.0/8 --group-by status",
		"--conn-type unix --report-missing -c 1:", "--top 3 -vv --format json",
		"--backend procfs --group-by none -w total=0", "-t 0", "-w 1:2:3", "--bogus", "x",
		"--format json --critical abc", "--crit 5 --warn=1e3 --no-perf", "--n --v", "--co tcp", "--netns /nonexistent", "-c ~:-95.99 -w @0:657.8210567",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		var out strings.Builder
		// A collector of its own: --netns and --timeout are fuzzed too,
		// and nothing enters a namespace or waits on a path.
		code := runWith(args, &out, func(cfg config) (collect.Collector, error) {
			if _, err := collector(cfg); err != nil && !strings.Contains(err.Error(), "--netns") {
				return nil, err // what the real one refuses, refused
			}
			return fixed{}, nil
		})
		s := out.String()
		if code < 0 || code > 3 {
			t.Fatalf("%q: exit %d", args, code)
		}
		if s == "" || !strings.HasSuffix(s, "\n") || strings.Contains(s, "internal error") {
			t.Fatalf("%q: exit %d, stdout %q", args, code, s)
		}
		if strings.HasPrefix(s, "UNKNOWN: ") && (strings.Count(s, "\n") != 1 || strings.Contains(s, "|")) {
			t.Fatalf("%q: an error in more than one line, or with a '|': %q", args, s)
		}
		if first, _, _ := strings.Cut(s, "\n"); strings.Count(first, "|") > 1 {
			t.Fatalf("%q: more than one '|' in the status line: %q", args, first)
		}
	})
}
