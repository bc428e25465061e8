// Package report groups socket counts, judges them against the thresholds and
// renders the plugin's output: one status line with perfdata.
package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/network-connections/network-connections/internal/collect"
	"github.com/network-connections/network-connections/internal/threshold"
)

// State is a Nagios state; its value is the exit code.
type State int

const (
	OK       State = 0
	Warning  State = 1
	Critical State = 2
	Unknown  State = 3
)

func (s State) String() string {
	return [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}[s]
}

// worse orders states as the original does: CRITICAL > WARNING > UNKNOWN > OK.
func worse(a, b State) bool {
	rank := [...]int{OK: 0, Unknown: 1, Warning: 2, Critical: 3}
	return rank[a] > rank[b]
}

// judge is the state of a count: CRITICAL outside critical, else WARNING
// outside warning, else OK.
func judge(n int, warning, critical threshold.Range) State {
	switch {
	case critical.Alerts(float64(n)):
		return Critical
	case warning.Alerts(float64(n)):
		return Warning
	}
	return OK
}

// GroupBy says which of a socket's type and status make its group.
type GroupBy int

const (
	ByTypeStatus GroupBy = iota
	ByType
	ByStatus
	ByNone
)

// ParseGroupBy reads a --group-by value.
func ParseGroupBy(s string) (GroupBy, error) {
	switch strings.ReplaceAll(strings.ToLower(s), " ", "") {
	case "type,status", "status,type":
		return ByTypeStatus, nil
	case "type":
		return ByType, nil
	case "status":
		return ByStatus, nil
	case "none":
		return ByNone, nil
	}
	return 0, fmt.Errorf("unknown grouping %q (want type,status, type, status or none)", s)
}

func (b GroupBy) String() string {
	return [...]string{"type,status", "type", "status", "none"}[b]
}

func (b GroupBy) typ() bool    { return b == ByTypeStatus || b == ByType }
func (b GroupBy) status() bool { return b == ByTypeStatus || b == ByStatus }

// Group is the count of the sockets that share a type, a status, both or none.
type Group struct {
	By     GroupBy
	Type   collect.Type   // when By includes the type
	Status collect.Status // when By includes the status
	Count  int
	State  State
	// The ranges that apply to this group, as given (for perfdata too).
	Warning, Critical threshold.Range
}

// Label is how the message names the group: "tcp CLOSE WAIT", "tcp",
// "CLOSE WAIT" or "total".
func (g Group) Label() string { return strings.ReplaceAll(g.PerfLabel(), "_", " ") }

// PerfLabel is how the perfdata names the group: "tcp_CLOSE_WAIT".
func (g Group) PerfLabel() string {
	switch g.By {
	case ByType:
		return g.Type.String()
	case ByStatus:
		return g.Status.String()
	case ByNone:
		return "total"
	}
	return g.Type.String() + "_" + g.Status.String()
}

// Options carry what grouping, judging and rendering need beyond the counts.
type Options struct {
	GroupBy           GroupBy
	Warning, Critical Thresholds
	// ReportMissing adds a 0 group for each type x status that Filter
	// selects and that can exist, so an absent socket can alert.
	ReportMissing bool
	Filter        collect.Filter
	TypeText      string // the type filter as asked, for "No connections ..."
	StatusText    string
	ScopeText     string // the scoping options as given
	AlwaysOK      bool
	NoPerfdata    bool
}

// Report is the judged result of one check.
type Report struct {
	Groups   []Group   // largest first
	State    State     // the worst group's, or entity's
	Entities *Entities // --top-by's entities, when counted
	opts     Options
}

// New groups the counts, sorts them by count (ties by label) and judges each.
func New(c collect.Counts, opts Options) Report {
	r := Report{opts: opts}
	index := map[string]int{} // perf label -> position in r.Groups
	for t := range collect.NumTypes {
		for s := range collect.Status(collect.NumStatuses) {
			n := c[t][s]
			missing := opts.ReportMissing && opts.Filter.Has(t, s) && t.CanHave(s)
			if n == 0 && !missing {
				continue
			}
			g := Group{By: opts.GroupBy, Type: t, Status: s}
			i, ok := index[g.PerfLabel()]
			if !ok {
				i = len(r.Groups)
				index[g.PerfLabel()] = i
				r.Groups = append(r.Groups, g)
			}
			r.Groups[i].Count += n
		}
	}
	for i := range r.Groups {
		g := &r.Groups[i]
		g.Warning, g.Critical = opts.Warning.For(*g), opts.Critical.For(*g)
		g.State = judge(g.Count, g.Warning, g.Critical)
		if worse(g.State, r.State) {
			r.State = g.State
		}
	}
	sort.Slice(r.Groups, func(i, j int) bool {
		a, b := r.Groups[i], r.Groups[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Label() < b.Label()
	})
	return r
}

// ExitCode is the state to exit with: the worst group's, or 0 with --always-ok.
func (r Report) ExitCode() int {
	if r.opts.AlwaysOK {
		return int(OK)
	}
	return int(r.State)
}

// Message is the status text: the groups and their states.
func (r Report) Message() string {
	var b strings.Builder
	if len(r.Groups) == 0 {
		fmt.Fprintf(&b, "No connections of type %q in status %q found", r.opts.TypeText, r.opts.StatusText)
		if r.opts.ScopeText != "" {
			fmt.Fprintf(&b, " for %s", r.opts.ScopeText)
		}
		b.WriteByte('.')
	}
	for i, g := range r.Groups {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %d", g.Label(), g.Count)
		if g.State != OK {
			fmt.Fprintf(&b, " [%s]", g.State)
		}
	}
	if m := r.Entities.entityMessage(); m != "" {
		b.WriteString(", " + m)
	}
	if r.opts.AlwaysOK {
		b.WriteString(" (always ok)")
	}
	return b.String()
}
