package report

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/network-connections/network-connections/internal/sock"
	"github.com/network-connections/network-connections/internal/threshold"
	"github.com/network-connections/network-connections/internal/top"
)

func TestClean(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	for _, tt := range []struct{ in, want string }{
		{"nginx", "nginx"},
		{"pod shop/api-0", "pod shop/api-0"},
		{"x|y\nCRITICAL: z", "x¦y\ufffdCRITICAL: z"},
		{"a\r\tb\x00c\x7fd\u0085e", "a\ufffd\ufffdb\ufffdc\ufffdd\ufffde"},
		{"bad \xff\xfe utf8", "bad \ufffd\ufffd utf8"},
		{"line\u2028sep\u2029par", "line\ufffdsep\ufffdpar"},
		{"evil\u202egnp.exe", "evil\ufffdgnp.exe"}, // reads backwards on screen
		{"ünï ok", "ünï ok"},
		{long, strings.Repeat("é", 62) + "…"}, // 124 + 3 bytes: whole characters
		{strings.Repeat("a", maxName), strings.Repeat("a", maxName)},
		{strings.Repeat("a", maxName+1), strings.Repeat("a", maxName-3) + "…"},
	} {
		got := Clean(tt.in)
		if got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !utf8.ValidString(got) || len(got) > maxName {
			t.Errorf("Clean(%q) = %q: invalid or longer than %d", tt.in, got, maxName)
		}
	}
}

// evil is what any local user may name a process, an ip netns or a pod's
// hostname: it tries to end the status line and forge a CRITICAL.
const evil = "x|y\nCRITICAL: z\r\n\xffw"

// TestHostileNames: names from processes, namespaces and the command line
// never end the status line, never start perfdata, and come out as valid
// UTF-8, in every part of the text output; JSON keeps them exact.
func TestHostileNames(t *testing.T) {
	var c sock.Counts
	c[sock.TCP][sock.Established] = 7
	parts := []Part{
		{Netns: &Netns{Name: "host", Perf: "host", Inode: 1}, Counts: c},
		{Netns: &Netns{Name: "pod " + evil, Perf: "pod-x-y", Inode: 2}, Counts: c},
	}
	crit := mustThresholds(t, "established=5")
	by, _ := ParseGroupBy("netns,type,status")
	r := NewParts(parts, Options{Critical: crit, GroupBy: by, TypeText: "all", StatusText: "all", ScopeText: "--netns all --remote " + evil})
	r.SetNamespaces(&Namespaces{Counted: []NamespaceCount{{Netns: *parts[0].Netns, Identity: NetnsIdentity{Source: "the checker's own"}},
		{Netns: *parts[1].Netns, Identity: NetnsIdentity{Source: "the pod's hostname " + evil}}},
		NotCounted: []NotCounted{{Netns: Netns{Name: "pid 9 (" + evil + ")", Perf: "pid-9", Inode: 3}, Error: "/run/netns/" + evil + ": permission denied", Privilege: true}},
		Unreadable: 1, Why: "stat " + evil})
	tl := top.NewTally(top.ByRemoteAddress, 24, 64, true, "host")
	for i, p := range parts {
		s := tl.For(p.Netns.Inode, p.Netns.Name)
		s.Add(sock.Socket{Type: sock.TCP, Status: sock.Established, Remote: netip.MustParseAddrPort("127.0.0.1:" + strconv.Itoa(80+i))})
		s.Done()
	}
	lim, _ := threshold.Parse("0")
	r.JudgeEntities(tl, EntityOptions{Key: top.ByRemoteAddress, N: 3, Critical: lim})
	d := Details{Backend: "netlink", Verbose: 2, Top: &top.Top{Groups: []string{"tcp ESTABLISHED"},
		Processes: []top.ProcessCount{{Pid: 42, Name: evil, Total: 1, Groups: []top.LabelCount{{Label: "tcp ESTABLISHED", Count: 1}}}}}}
	var b strings.Builder
	if err := r.Render(&b, d, false); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if strings.Count(got, "|") != 1 || !utf8.ValidString(got) || strings.Contains(got, "\r") {
		t.Errorf("a name broke out: %d '|', valid UTF-8 %v:\n%s", strings.Count(got, "|"), utf8.ValidString(got), got)
	}
	for i, l := range lines {
		if strings.HasPrefix(l, "CRITICAL") || strings.HasPrefix(l, "y") || (i > 0 && strings.Contains(l, "'=")) {
			t.Errorf("line %d forged: %q", i, l)
		}
	}
	checkGolden(t, "hostile-names", got+"exit "+strconv.Itoa(r.ExitCode())+"\n")

	b.Reset()
	if err := r.Render(&b, d, true); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct{ Netns string }
		Top    struct{ Processes []struct{ Name string } }
		TopBy  struct{ Entities []struct{ Netns string } } `json:"top_by"`
	}
	if err := json.Unmarshal([]byte(b.String()), &doc); err != nil {
		t.Fatal(err)
	}
	// JSON carries names exact, but for invalid UTF-8, which it cannot.
	exact := strings.ToValidUTF8(evil, "\ufffd")
	if doc.Top.Processes[0].Name != exact || doc.TopBy.Entities[0].Netns != "pod "+exact && doc.TopBy.Entities[1].Netns != "pod "+exact {
		t.Errorf("JSON changed a name: %+v", doc)
	}
}

// TestUnknownClean: an UNKNOWN that echoes a value is one clean line.
func TestUnknownClean(t *testing.T) {
	var b strings.Builder
	WriteUnknown(&b, "--netns "+evil+": no such file", false)
	if got, want := b.String(), "UNKNOWN: --netns x¦y CRITICAL: z \ufffdw: no such file\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestBoundedLists: thousands of peers over a limit, or of namespaces not
// counted, are a bounded long output that says how many more; JSON has all.
func TestBoundedLists(t *testing.T) {
	var c sock.Counts
	c[sock.TCP][sock.Established] = 6000
	r := New(c, Options{GroupBy: ByTypeStatus})
	tl := top.NewTally(top.ByRemoteAddress, 24, 64, false, "host")
	for i := range 3000 {
		a := netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
		for range 2 {
			tl.Add(sock.Socket{Type: sock.TCP, Status: sock.Established, Remote: netip.AddrPortFrom(a, 443)})
		}
	}
	tl.Done()
	lim, _ := threshold.Parse("1")
	r.JudgeEntities(tl, EntityOptions{Key: top.ByRemoteAddress, N: 3, Warning: lim})
	var ns Namespaces
	for i := range 400 {
		ns.NotCounted = append(ns.NotCounted, NotCounted{Netns: Netns{Name: fmt.Sprintf("pid %d (sleep)", 1000+i)},
			Error: fmt.Sprintf("/proc/%d/ns/net: permission denied", 1000+i), Privilege: true})
	}
	r.SetNamespaces(&ns)
	var b strings.Builder
	if err := r.Render(&b, Details{Backend: "netlink"}, false); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	if len(got) > 24<<10 || !strings.Contains(got, "more remote addresses (bound: 8 KiB") || !strings.Contains(got, "more namespaces not counted (bound: 8 KiB") {
		t.Errorf("%d bytes, %d lines; bounds not said:\n%s", len(got), strings.Count(got, "\n"), got)
	}
	if r.ExitCode() != int(Warning) {
		t.Errorf("exit %d, want 1 (WARNING beats UNKNOWN)", r.ExitCode())
	}
	b.Reset()
	r.Render(&b, Details{Backend: "netlink"}, true)
	var doc struct {
		TopBy struct{ Offenders []any } `json:"top_by"`
		Netns struct {
			NotCounted []any `json:"not_counted"`
		}
	}
	if err := json.Unmarshal([]byte(b.String()), &doc); err != nil || len(doc.TopBy.Offenders) != 3000 || len(doc.Netns.NotCounted) != 400 {
		t.Errorf("JSON: %d offenders, %d not counted (%v)", len(doc.TopBy.Offenders), len(doc.Netns.NotCounted), err)
	}
}

// TestPerfdataBound: the perfdata, '|' and spaces included, fits the bound
// exactly, with --top-by's series always in it.
func TestPerfdataBound(t *testing.T) {
	for _, n := range []int{1000, 1003, 1010} {
		var parts []Part
		for i := range n {
			var c sock.Counts
			c[sock.TCP][sock.Established] = 1
			parts = append(parts, Part{Netns: &Netns{Name: fmt.Sprint(i), Perf: fmt.Sprintf("ns%05d", i), Inode: uint64(i + 1)}, Counts: c})
		}
		by, _ := ParseGroupBy("netns,type,status")
		r := NewParts(parts, Options{GroupBy: by})
		r.JudgeEntities(top.NewTally(top.ByRemotePort, 24, 64, true, "host"), EntityOptions{Key: top.ByRemotePort})
		var b strings.Builder
		r.Render(&b, Details{}, false)
		line, _, _ := strings.Cut(b.String(), "\n")
		_, perf, _ := strings.Cut(line, "|")
		if len(perf)+1 > maxPerfdata || !strings.HasSuffix(perf, "'top_remote_port_max'=0;;;0") {
			t.Errorf("%d groups: perfdata of %d bytes with its '|' (bound %d), ends %q", n, len(perf)+1, maxPerfdata, perf[len(perf)-40:])
		}
	}
}

// TestTopMaxOneMeaning: top_*_max is the largest entity over every group,
// whether or not an unrelated group alerts.
func TestTopMaxOneMeaning(t *testing.T) {
	var c sock.Counts
	c[sock.TCP][sock.Established] = 6
	c[sock.UDP][sock.None] = 1
	tl := top.NewTally(top.ByRemoteAddress, 24, 64, false, "host")
	for range 6 {
		tl.Add(sock.Socket{Type: sock.TCP, Status: sock.Established, Remote: netip.MustParseAddrPort("192.0.2.1:443")})
	}
	tl.Add(sock.Socket{Type: sock.UDP, Status: sock.None, Remote: netip.MustParseAddrPort("192.0.2.9:53")})
	tl.Done()
	for _, w := range [][]string{nil, {"udp_none=0"}} {
		r := New(c, Options{GroupBy: ByTypeStatus, Warning: mustThresholds(t, w...)})
		r.JudgeEntities(tl, EntityOptions{Key: top.ByRemoteAddress, N: 3})
		if r.Entities.Max != 6 {
			t.Errorf("-w %v: top_remote_address_max %d, want 6", w, r.Entities.Max)
		}
	}
}

// TestNothingFoundNotCounted: the sentence ends where the message does.
func TestNothingFoundNotCounted(t *testing.T) {
	r := New(sock.Counts{}, Options{TypeText: "all", StatusText: "all", ScopeText: "--netns all"})
	r.SetNamespaces(&Namespaces{Counted: []NamespaceCount{{}}, NotCounted: []NotCounted{{Error: "x", Privilege: true}}})
	want := `No connections of type "all" in status "all" found for --netns all, 1 of 2 network namespaces not counted: ` + needPrivilege + " (see the long output)"
	if got := r.Message(); got != want || r.ExitCode() != int(Unknown) {
		t.Errorf("got %q (exit %d), want %q (exit 3)", got, r.ExitCode(), want)
	}
	r = New(sock.Counts{}, Options{TypeText: "all", StatusText: "all"})
	if got := r.Message(); !strings.HasSuffix(got, `found.`) {
		t.Errorf("got %q", got)
	}
}

// TestNeedPtrace: processes whose namespace was not read for want of
// CAP_SYS_PTRACE may hide namespaces: the view is partial, never OK.
func TestNeedPtrace(t *testing.T) {
	var c sock.Counts
	c[sock.TCP][sock.Listen] = 1
	for _, tt := range []struct {
		ns   Namespaces
		exit int
	}{
		{Namespaces{Counted: []NamespaceCount{{}}, Unreadable: 75, NeedPtrace: true}, 3},
		{Namespaces{Counted: []NamespaceCount{{}}, Unreadable: 1}, 0}, // with the capability: said, not judged
	} {
		r := New(c, Options{GroupBy: ByTypeStatus})
		r.SetNamespaces(&tt.ns)
		msg := r.Message()
		if r.ExitCode() != tt.exit || tt.ns.NeedPtrace != strings.Contains(msg, "the network namespace of 75 processes not read: other users' /proc/PID/ns/net needs CAP_SYS_PTRACE") {
			t.Errorf("%+v: exit %d, %q", tt.ns, r.ExitCode(), msg)
		}
	}
}
