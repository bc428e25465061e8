package report

import (
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/network-connections/network-connections/internal/netns"
	"github.com/network-connections/network-connections/internal/saturation"
	"github.com/network-connections/network-connections/internal/sock"
	"github.com/network-connections/network-connections/internal/threshold"
	"github.com/network-connections/network-connections/internal/top"
)

func limits(t *testing.T, w, c string) Limits {
	t.Helper()
	wr, err := threshold.Parse(w)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := threshold.Parse(c)
	if err != nil {
		t.Fatal(err)
	}
	return Limits{Warning: wr, Critical: cr}
}

// spaces is what a sink took from a made-up host: a full and a filling
// listener, a unix one, one whose queue /proc/net could not tell; a
// destination nearly out of ports; conntrack loaded or not.
func spaces(t *testing.T, allNetns, conntrackLoaded, unknownQueue bool, listeners int, sources []*saturation.Sources) []*saturation.Space {
	s := saturation.NewSink(saturation.Options{ListenQueue: true, PortUsage: true, Conntrack: true})
	ap := netip.MustParseAddrPort
	var namespaces []*netns.Namespace
	if allNetns {
		namespaces = []*netns.Namespace{{Name: "host", Perf: "host", Inode: 1}, {Name: "docker 0123456789ab", Perf: "docker-0123456789ab", Inode: 2}}
	} else {
		namespaces = []*netns.Namespace{nil}
	}
	for i, ns := range namespaces {
		ct := saturation.Conntrack{Loaded: conntrackLoaded, Count: 52000 * (i + 1), Max: 65536}
		if i < len(sources) {
			ct.Sources = sources[i]
		}
		s.EnterWith(ns, saturation.Limits{Ports: saturation.ParsePorts("40000 40099", "40010-40019"), Conntrack: ct,
			Netstat: saturation.Netstat{ListenOverflows: int64(812 * i), ListenDrops: int64(815 * i)}})
		s.Add(sock.Socket{Type: sock.TCP, Status: sock.Listen, Local: ap("0.0.0.0:8080"), Queued: 9, Backlog: 8, Queues: true, Inode: 100})
		s.Add(sock.Socket{Type: sock.TCP, Status: sock.Listen, Local: ap("127.0.0.1:40050"), Backlog: 4096, Queues: true})
		s.Add(sock.Socket{Type: sock.TCP6, Status: sock.Listen, Local: ap("[::]:443"), Queued: 100, Backlog: 128, Queues: true, Inode: 101})
		s.Add(sock.Socket{Type: sock.Unix, Status: sock.Listen, Path: "/run/php|fpm\n.sock", Queued: 127, Backlog: 128, Queues: true, Inode: 102})
		for j := range listeners {
			s.Add(sock.Socket{Type: sock.TCP, Status: sock.Listen, Local: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(1000+j)), Queued: 120, Backlog: 128, Queues: true})
		}
		if unknownQueue {
			s.Add(sock.Socket{Type: sock.TCP, Status: sock.Listen, Local: ap("127.0.0.1:25")})
		}
		for p := range 88 - 40*i {
			s.Add(sock.Socket{Type: sock.TCP, Status: sock.Established, Local: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(40020+p)),
				Remote: ap("10.0.0.2:5432"), Inode: 200})
		}
		s.Add(sock.Socket{Type: sock.TCP, Status: sock.Established, Local: ap("10.0.0.1:40020"), Remote: ap("10.0.0.3:80"), Inode: 201})
		s.Done()
	}
	return s.Spaces()
}

// Who fills the tables, as the sink's dumps tallied them: a whole dump
// with more sources than the top, one cut by two bounds, one refused for
// want of CAP_NET_ADMIN, one failed otherwise.
func whole() *saturation.Sources {
	a := netip.MustParseAddr
	return &saturation.Sources{Entries: 52000, Top: []saturation.Source{{Addr: a("10.0.3.7"), Proto: 6, Entries: 40123},
		{Addr: a("2001:db8::7"), Proto: 17, Entries: 6000}, {Addr: a("10.0.3.9"), Proto: 17, Entries: 4021},
		{Addr: a("10.0.3.10"), Proto: 17, Entries: 4021}, {Addr: a("fe80::1"), Proto: 58, Entries: 12}}}
}

func cutSources() *saturation.Sources {
	return &saturation.Sources{Entries: 91234, Cut: saturation.CutSources | saturation.CutDeadline,
		Top: []saturation.Source{{Addr: netip.MustParseAddr("192.0.2.1"), Proto: 132, Entries: 812}, {Addr: netip.MustParseAddr("192.0.2.2"), Proto: 250, Entries: 3}}}
}

func refused() *saturation.Sources {
	return &saturation.Sources{Err: "dump: operation not permitted", NeedsCap: true}
}

func failed() *saturation.Sources {
	return &saturation.Sources{Err: "recvmsg: no buffer space available\n|'x'=1"}
}

// owners is what a walk of /proc would find.
func owners(inodes []uint32) (map[uint32]top.Process, int, error) {
	return map[uint32]top.Process{100: {Pid: 812, Name: "java"}, 200: {Pid: 9, Name: "psql|x"}}, 3, nil
}

func TestSaturationGolden(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("on Windows the ports run out per local address (the destination shows as *): these cases are Linux's per-destination rule")
	}
	tests := []struct {
		name                 string
		listen, ports, ct    [2]string
		groupBy              GroupBy
		allNetns, loaded     bool
		unknownQueue, json   bool
		verbose, listeners   int
		noPerfdata, noGroups bool
		sources              []*saturation.Sources
	}{
		{name: "saturation-ok", listen: [2]string{"", "200"}, ports: [2]string{"", "100"}, ct: [2]string{"", "90"}, loaded: true},
		{name: "saturation-alerts", listen: [2]string{"75", "100"}, ports: [2]string{"80", "95"}, ct: [2]string{"70", "90"}, loaded: true, verbose: 1},
		{name: "saturation-bounded", listen: [2]string{"50", "100"}, listeners: 30},
		{name: "saturation-unknown", listen: [2]string{"80", ""}, ct: [2]string{"80", ""}, unknownQueue: true},
		{name: "saturation-netns", listen: [2]string{"", "100"}, ports: [2]string{"50", ""}, ct: [2]string{"70", "90"}, loaded: true, allNetns: true, groupBy: GroupBy{Netns: true, Type: true, Status: true}},
		{name: "saturation-no-groups", ct: [2]string{"70", ""}, loaded: true, noGroups: true},
		{name: "saturation-json", listen: [2]string{"75", "100"}, ports: [2]string{"80", "95"}, ct: [2]string{"70", "90"}, loaded: true, allNetns: true, json: true},
		{name: "saturation-sources", ct: [2]string{"70", "90"}, loaded: true, allNetns: true, groupBy: GroupBy{Netns: true}, sources: []*saturation.Sources{whole(), cutSources()}},
		{name: "saturation-sources-errors", ct: [2]string{"70", "90"}, loaded: true, allNetns: true, sources: []*saturation.Sources{refused(), failed()}},
		{name: "saturation-sources-json", ct: [2]string{"70", "90"}, loaded: true, allNetns: true, json: true, sources: []*saturation.Sources{cutSources(), refused()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counts := readCounts(t, "busy.txt")
			if tt.noGroups {
				counts = sock.Counts{}
			}
			by := tt.groupBy
			if by == (GroupBy{}) {
				by = ByTypeStatus // the default
			}
			r := New(counts, Options{GroupBy: by, TypeText: "all", StatusText: "all", NoPerfdata: tt.noPerfdata})
			o := MeasureOptions{}
			for _, x := range []struct {
				l *Limits
				v [2]string
			}{{&o.ListenQueue, tt.listen}, {&o.PortUsage, tt.ports}, {&o.Conntrack, tt.ct}} {
				*x.l = limits(t, x.v[0], x.v[1])
			}
			r.JudgeSaturation(spaces(t, tt.allNetns, tt.loaded, tt.unknownQueue, tt.listeners, tt.sources), o)
			if err := r.Saturation.NameOwners(owners); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			d := Details{Backend: "netlink", Sockets: 1234, Duration: 1500 * time.Microsecond, Verbose: tt.verbose}
			if err := r.Render(&b, d, tt.json); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.name, b.String()+"exit "+strconv.Itoa(r.ExitCode())+"\n")
		})
	}
}

// With more namespaces than the long output shows, the tables that alert
// are among those shown, wherever they come: the one about to overflow is
// never behind "... and N more".
func TestConntrackLinesAlertFirst(t *testing.T) {
	for _, tt := range []struct {
		name  string
		hot   []int // the namespaces over the warning
		shown int
	}{
		{"one past the bound", []int{maxLinesMeasure + 4}, maxLinesMeasure},
		{"the last and the first", []int{0, 2*maxLinesMeasure - 1}, maxLinesMeasure},
		{"all fit", []int{3}, maxLinesMeasure - 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := saturation.NewSink(saturation.Options{Conntrack: true})
			n := tt.shown
			if n == maxLinesMeasure {
				n = 2 * maxLinesMeasure
			}
			for i := range n {
				count := 100
				if slices.Contains(tt.hot, i) {
					count = 950
				}
				ns := &netns.Namespace{Name: fmt.Sprintf("ns-%02d", i), Perf: fmt.Sprintf("ns-%02d", i), Inode: uint64(i + 1)}
				s.EnterWith(ns, saturation.Limits{Conntrack: saturation.Conntrack{Loaded: true, Count: count, Max: 1000}})
				s.Done()
			}
			r := New(sock.Counts{}, Options{GroupBy: ByTypeStatus, TypeText: "all", StatusText: "all"})
			r.JudgeSaturation(s.Spaces(), MeasureOptions{Conntrack: limits(t, "90", "")})
			var b strings.Builder
			if err := r.Render(&b, Details{}, false); err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, l := range strings.Split(b.String(), "\n") {
				if strings.HasPrefix(l, "conntrack ns-") {
					lines = append(lines, l)
				}
			}
			if len(lines) != tt.shown {
				t.Errorf("%d conntrack lines, want %d:\n%s", len(lines), tt.shown, b.String())
			}
			for _, h := range tt.hot {
				want := fmt.Sprintf("conntrack ns-%02d: 950 of 1000 entries, 95%% [WARNING]", h)
				if !slices.Contains(lines, want) {
					t.Errorf("no line %q:\n%s", want, b.String())
				}
			}
			if !slices.IsSortedFunc(lines, strings.Compare) {
				t.Errorf("lines not in the namespaces' order:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}
