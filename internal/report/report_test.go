package report

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/network-connections/network-connections/internal/collect"
	"github.com/network-connections/network-connections/internal/sock"
	"github.com/network-connections/network-connections/internal/top"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// readCounts reads a fixture of "type STATUS count" lines.
func readCounts(t *testing.T, name string) sock.Counts {
	t.Helper()
	f, err := os.Open(filepath.Join("../../testdata/counts", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var c sock.Counts
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var typ, status string
		var n int
		if _, err := fmt.Sscan(line, &typ, &status, &n); err != nil {
			t.Fatalf("%s: %q: %v", name, line, err)
		}
		ty, err := sock.ParseType(typ)
		if err != nil {
			t.Fatal(err)
		}
		st, err := sock.ParseStatus(status)
		if err != nil {
			t.Fatal(err)
		}
		c[ty][st] = n
	}
	return c
}

func mustThresholds(t *testing.T, values ...string) Thresholds {
	t.Helper()
	th, err := ParseThresholds(values)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// details is what a --top run on busy.txt tells, and -v.
func details(verbose int) Details {
	return Details{Backend: "netlink", Sockets: 1234, Duration: 1500 * time.Microsecond, Timeout: 10 * time.Second, Verbose: verbose,
		Top: &top.Top{Alerting: true, Groups: []string{"tcp ESTABLISHED", "tcp TIME WAIT"},
			Processes: []top.ProcessCount{
				{Pid: 812, Name: "nginx", Total: 40, Groups: []top.LabelCount{{Label: "tcp ESTABLISHED", Count: 40}}},
				{Pid: 9, Name: "java", Total: 3, Groups: []top.LabelCount{{Label: "tcp ESTABLISHED", Count: 2}, {Label: "tcp TIME WAIT", Count: 1}}},
			},
			NoProcess: []top.LabelCount{{Label: "tcp TIME WAIT", Count: 30}},
			NotFound:  []top.LabelCount{{Label: "tcp ESTABLISHED", Count: 4}},
		}}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name, counts  string
		warning       []string
		critical      []string
		typ, status   string
		alwaysOK      bool
		noPerfdata    bool
		groupBy       GroupBy
		none          bool // groupBy ByNone meant (its zero value is the default's stand-in here)
		reportMissing bool
		filter        collect.Filter
		details       Details
		json          bool
	}{
		{name: "default", counts: "original-example.txt"},
		{name: "ties", counts: "ties.txt"},
		{name: "warning-200", counts: "busy.txt", warning: []string{"200"}},
		{name: "warning-30-40", counts: "busy.txt", warning: []string{"30:40"}},
		{name: "warning-critical", counts: "busy.txt", warning: []string{"20"}, critical: []string{"100"}},
		{name: "critical-inside", counts: "ties.txt", critical: []string{"@5:10"}},
		{name: "always-ok", counts: "busy.txt", warning: []string{"20"}, critical: []string{"100"}, alwaysOK: true},
		{name: "no-perfdata", counts: "busy.txt", warning: []string{"30"}, noPerfdata: true},
		{name: "nothing-found", counts: "empty.txt", typ: "tcp6", status: "established,closing", warning: []string{"30:40"}},
		{name: "nothing-found-all", counts: "empty.txt", typ: "all", status: "all"},
		{name: "group-by-status", counts: "original-example.txt", groupBy: ByStatus, warning: []string{"30"}},
		{name: "group-by-type", counts: "original-example.txt", groupBy: ByType, critical: []string{"tcp=20", "udp6=@5"}},
		{name: "group-by-none", counts: "original-example.txt", groupBy: ByNone, none: true, warning: []string{"50"}, critical: []string{"total=100"}},
		{name: "selectors", counts: "busy.txt",
			warning:  []string{"100", "time_wait=10", "established=20", "tcp6=1:", "TCP6_ESTABLISHED=25"},
			critical: []string{"tcp=200", "tcp_listen=@12"}},
		{name: "report-missing", counts: "busy.txt", reportMissing: true, critical: []string{"listen=1:"},
			filter: collect.Filter{Types: 1<<sock.TCP | 1<<sock.TCP6 | 1<<sock.Unix, Statuses: 1<<sock.Listen | 1<<sock.None}},
		{name: "report-missing-grouped", counts: "empty.txt", reportMissing: true, groupBy: ByStatus, critical: []string{"1:"},
			filter: collect.Filter{Types: 1<<sock.TCP | 1<<sock.TCP6, Statuses: 1 << sock.Listen}},
		{name: "top-verbose", counts: "busy.txt", warning: []string{"30"}, typ: "all", status: "all", details: details(2)},
		{name: "top-unreadable", counts: "busy.txt", critical: []string{"time_wait=5"}, details: func() Details {
			d := details(0)
			d.Top.Unreadable = 12
			return d
		}()},
		{name: "json", counts: "busy.txt", warning: []string{"30", "tcp6=1:"}, critical: []string{"100"}, json: true, details: details(0)},
		{name: "json-group-by-status", counts: "busy.txt", groupBy: ByStatus, json: true, details: Details{Backend: "procfs", Sockets: 7, Duration: 2500 * time.Microsecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			by := tt.groupBy
			if by == (GroupBy{}) && !tt.none {
				by = ByTypeStatus // the default
			}
			r := New(readCounts(t, tt.counts), Options{
				Warning: mustThresholds(t, tt.warning...), Critical: mustThresholds(t, tt.critical...),
				TypeText: tt.typ, StatusText: tt.status,
				AlwaysOK: tt.alwaysOK, NoPerfdata: tt.noPerfdata,
				GroupBy: by, ReportMissing: tt.reportMissing, Filter: tt.filter,
			})
			var b strings.Builder
			if err := r.Render(&b, tt.details, tt.json); err != nil {
				t.Fatal(err)
			}
			got := b.String() + "exit " + strconv.Itoa(r.ExitCode()) + "\n"
			checkGolden(t, tt.name, got)
		})
	}
}

func TestWorst(t *testing.T) {
	tests := []struct {
		a, b State
		want bool
	}{
		{Critical, Warning, true},
		{Warning, Unknown, true},
		{Unknown, OK, true},
		{OK, Unknown, false},
		{Warning, Critical, false},
		{OK, OK, false},
	}
	for _, tt := range tests {
		if got := worse(tt.a, tt.b); got != tt.want {
			t.Errorf("worse(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// Selectors in any spelling name the same group; the last one for a group
// wins; one that names no group under the grouping is refused.
func TestSelectors(t *testing.T) {
	tests := []struct {
		values []string
		by     GroupBy
		group  Group
		want   string // the range that applies, or the error
	}{
		{[]string{"tcp6_close-wait=5"}, ByTypeStatus, Group{Type: sock.TCP6, Status: sock.CloseWait}, "5"},
		{[]string{"TCP6_SYN-RECV=5"}, ByTypeStatus, Group{Type: sock.TCP6, Status: sock.SynRecv}, "5"},
		{[]string{"tcp6-Syn_Recv=5"}, ByTypeStatus, Group{Type: sock.TCP6, Status: sock.SynRecv}, "5"},
		{[]string{"tcp6_syn_recv=0", "tcp6_syn-recv="}, ByTypeStatus, Group{Type: sock.TCP6, Status: sock.SynRecv}, ""},
		{[]string{"tcp6_syn-recv=", "tcp6_syn_recv=0"}, ByTypeStatus, Group{Type: sock.TCP6, Status: sock.SynRecv}, "0"},
		{[]string{"9", "close-wait=7", "tcp6=8"}, ByTypeStatus, Group{Type: sock.TCP6, Status: sock.CloseWait}, "7"},
		{[]string{"9", "close-wait=7", "tcp6=8"}, ByTypeStatus, Group{Type: sock.TCP6, Status: sock.Listen}, "8"},
		{[]string{"9", "close-wait=7", "tcp6=8"}, ByTypeStatus, Group{Type: sock.TCP, Status: sock.Listen}, "9"},
		{[]string{"Total=3"}, ByNone, Group{}, "3"},
		{[]string{"udp=3"}, ByType, Group{Type: sock.UDP}, "3"},
		{[]string{"none=3"}, ByStatus, Group{Status: sock.None}, "3"},
		{[]string{"total=0"}, ByTypeStatus, Group{}, "error: names no group: total is the one group of --group-by none"},
		{[]string{"established=0"}, ByType, Group{}, "error: names no group: --group-by type makes no groups by status"},
		{[]string{"tcp=0"}, ByStatus, Group{}, "error: names no group: --group-by status makes no groups by type"},
		{[]string{"tcp_listen=0"}, ByNone, Group{}, "error: names no group: groups of one type and status exist with --group-by type,status"},
		{[]string{"listen=0"}, ByNone, Group{}, "error: names no group: --group-by none makes no groups by status"},
		{[]string{"udp_listen=0"}, ByTypeStatus, Group{}, "error: unknown selector"},
		{[]string{"tcp6__listen=0"}, ByTypeStatus, Group{}, "error: unknown selector"},
	}
	for _, tt := range tests {
		th, err := ParseThresholds(tt.values)
		if err == nil {
			err = th.Check(tt.by)
		}
		got := ""
		if err != nil {
			got = "error: " + err.Error()
		} else {
			tt.group.By = tt.by
			got = th.For(tt.group).String()
		}
		if tt.want == "" && got != "" || !strings.HasPrefix(tt.want, "error: ") && !strings.HasPrefix(got, tt.want) || strings.HasPrefix(tt.want, "error: ") && !strings.Contains(got, tt.want[len("error: "):]) {
			t.Errorf("%q under --group-by %s: got %q, want %q", tt.values, tt.by, got, tt.want)
		}
	}
}

func TestWriteUnknown(t *testing.T) {
	huge := strings.Repeat("x", 5000)
	tests := []struct {
		msg    string
		asJSON bool
		want   string
	}{
		{"--warning: range \"abc\"", false, "UNKNOWN: --warning: range \"abc\"\n"},
		{"two\nlines |pipe", false, "UNKNOWN: two lines ¦pipe\n"},
		{"bad \"" + huge + "\" value", false, "UNKNOWN: bad \"" + huge[:200] + "... (cut: 5000 characters)\" value\n"},
		{"--" + huge, false, "UNKNOWN: --" + huge[:998] + "... (cut: 5002 characters)\n"},
		{"stopped", true, `{"schema_version":2,"state":"UNKNOWN","exit_code":3,"groups":[],"warning":[],"critical":[],"sockets":0,"duration_ms":0,"error":"stopped"}` + "\n"},
	}
	for _, tt := range tests {
		var b strings.Builder
		WriteUnknown(&b, tt.msg, tt.asJSON)
		if b.String() != tt.want {
			t.Errorf("%.40q: got %.300q\nwant %.300q", tt.msg, b.String(), tt.want)
		}
	}
}

// checkGolden compares got with testdata/report/NAME.golden (written anew
// with -update).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden := filepath.Join("../../testdata/report", name+".golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
