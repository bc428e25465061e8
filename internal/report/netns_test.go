package report

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/network-connections/network-connections/internal/sock"
)

func TestParseGroupBy(t *testing.T) {
	for _, tt := range []struct {
		in, want string // want "": refused
	}{
		{"type,status", "type,status"}, {"status,type", "type,status"}, {"type", "type"}, {"status", "status"},
		{"none", "none"}, {" Type , STATUS ", "type,status"},
		{"netns,type,status", "netns,type,status"}, {"status,netns,type", "netns,type,status"},
		{"netns,status", "netns,status"}, {"netns,type", "netns,type"}, {"netns", "netns"},
		{"", ""}, {"netns,none", ""}, {"none,type", ""}, {"type,type", ""}, {"netns,netns", ""},
		{"type,", ""}, {",", ""}, {"pid", ""}, {strings.Repeat("type,", 5000), ""},
	} {
		by, err := ParseGroupBy(tt.in)
		if got := by.String(); tt.want == "" && err == nil || tt.want != "" && (err != nil || got != tt.want) {
			t.Errorf("ParseGroupBy(%q) = %q, %v; want %q", Shown(tt.in), got, err, tt.want)
		}
	}
}

// TestGoldenNetns: groups by namespace, judged each, the status line
// bounded with the alerting ones first, the rest in the long output, and
// the namespaces not counted said.
func TestGoldenNetns(t *testing.T) {
	parts := func(n int) []Part {
		var ps []Part
		for i := range n {
			var c sock.Counts
			c[sock.TCP][sock.Established] = 10 + i
			c[sock.TCP][sock.CloseWait] = i % 7 * 40
			c[sock.UDP6][sock.None] = 1
			ps = append(ps, Part{Netns: &Netns{Name: fmt.Sprintf("docker %012x", i), Perf: fmt.Sprintf("docker-%012x", i), Inode: 4026532000 + uint64(i)}, Counts: c})
		}
		return ps
	}
	notCounted := &Namespaces{Counted: []NamespaceCount{{Netns: Netns{Name: "host", Perf: "host", Inode: 1}, Identity: NetnsIdentity{Source: "the checker's own"}, Processes: 80, Sockets: 12}},
		NotCounted: []NotCounted{{Netns: Netns{Name: "pid 77 (sleep)", Perf: "pid-77-sleep", Inode: 2}, Identity: NetnsIdentity{Source: "the oldest process inside"}, Error: "/proc/77/ns/net: permission denied", Privilege: true}},
		Gone:       1, Unreadable: 3, Why: "stat /proc/1/ns/net: permission denied"}
	for _, tt := range []struct {
		name     string
		parts    []Part
		by       string
		critical []string
		ns       *Namespaces
		json     bool
	}{
		{name: "netns-few", parts: parts(2), by: "netns,type,status", critical: []string{"close_wait=200"}},
		{name: "netns-status", parts: parts(3), by: "netns,status", critical: []string{"close_wait=100"}},
		{name: "netns-only", parts: parts(3), by: "netns", critical: []string{"total=50"}},
		{name: "netns-summed", parts: parts(3), by: "type,status"},
		{name: "netns-many", parts: parts(40), by: "netns,type,status", critical: []string{"close_wait=200"}},
		{name: "netns-huge", parts: parts(2000), by: "netns,type,status", critical: []string{"close_wait=200"}},
		{name: "netns-not-counted", parts: parts(1), by: "netns,type,status", ns: notCounted},
		{name: "netns-json", parts: parts(2), by: "netns,status", critical: []string{"close_wait=30"}, ns: notCounted, json: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			by, err := ParseGroupBy(tt.by)
			if err != nil {
				t.Fatal(err)
			}
			crit := mustThresholds(t, tt.critical...)
			if err := crit.Check(by); err != nil {
				t.Fatal(err)
			}
			r := NewParts(tt.parts, Options{Critical: crit, GroupBy: by})
			r.SetNamespaces(tt.ns)
			var b strings.Builder
			if err := r.Render(&b, Details{Backend: "netlink"}, tt.json); err != nil {
				t.Fatal(err)
			}
			got := b.String() + "exit " + strconv.Itoa(r.ExitCode()) + "\n"
			if tt.name == "netns-huge" { // bounded: said, and under 64 KiB in all
				if len(got) > 60<<10 || !strings.Contains(got, "more groups (bound: 16 KiB") || !strings.Contains(got, "perfdata: the ") {
					t.Fatalf("%d bytes, bounds not said:\n%s", len(got), got[len(got)-400:])
				}
				got = fmt.Sprintf("%d bytes\n%s\n...\n%s", len(got), strings.SplitN(got, "|", 2)[0], got[strings.LastIndex(got[:len(got)-20], "\n... and"):])
			}
			checkGolden(t, tt.name, got)
		})
	}
}
