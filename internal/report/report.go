// Package report groups socket counts, judges them against the thresholds and
// renders the plugin's output: one status line with perfdata.
package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/network-connections/network-connections/internal/sock"
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

// stateRank orders states as the original does: CRITICAL > WARNING >
// UNKNOWN > OK.
var stateRank = [...]int{OK: 0, Unknown: 1, Warning: 2, Critical: 3}

// worse reports whether a ranks above b.
func worse(a, b State) bool { return stateRank[a] > stateRank[b] }

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

// GroupBy says what of a socket makes its group: its network namespace,
// its type, its status; none of them: one group, the total.
type GroupBy struct{ Netns, Type, Status bool }

// The groupings of the original, and the default: type,status.
var (
	ByTypeStatus = GroupBy{Type: true, Status: true}
	ByType       = GroupBy{Type: true}
	ByStatus     = GroupBy{Status: true}
	ByNone       = GroupBy{}
)

// ParseGroupBy reads a --group-by value: type,status, type, status or none;
// or netns with type, status or both in any order, or netns alone.
func ParseGroupBy(s string) (GroupBy, error) {
	bad := fmt.Errorf("unknown grouping %q (want type,status, type, status or none; or netns with any of them: netns,type,status, netns,status, netns,type, netns)", s)
	parts := strings.Split(strings.ReplaceAll(strings.ToLower(s), " ", ""), ",")
	if len(parts) == 1 && parts[0] == "none" {
		return ByNone, nil
	}
	var by GroupBy
	seen := map[string]bool{}
	for _, p := range parts {
		if seen[p] {
			return GroupBy{}, bad
		}
		seen[p] = true
		switch p {
		case "type":
			by.Type = true
		case "status":
			by.Status = true
		case "netns":
			by.Netns = true
		default:
			return GroupBy{}, bad
		}
	}
	return by, nil
}

func (b GroupBy) String() string {
	var parts []string
	if b.Netns {
		parts = append(parts, "netns")
	}
	if b.Type {
		parts = append(parts, "type")
	}
	if b.Status {
		parts = append(parts, "status")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

// total reports whether the groups tell neither type nor status.
func (b GroupBy) total() bool { return !b.Type && !b.Status }

// Group is the count of the sockets that share a namespace, a type, a
// status, some or none of them.
type Group struct {
	By     GroupBy
	Type   sock.Type   // when By includes the type
	Status sock.Status // when By includes the status
	Netns  *Netns      // when By includes the namespace
	Count  int
	State  State
	// The ranges that apply to this group, as given (for perfdata too).
	Warning, Critical threshold.Range
}

// Netns is a network namespace as the output names it.
type Netns struct {
	Name  string `json:"name"`  // host, blue, docker 0123456789ab, pod web-1, pid 42 (nginx)
	Perf  string `json:"perf"`  // in perfdata labels: letters, digits and '-'
	Inode uint64 `json:"inode"` // its identity
}

// Label is how the message names the group: "tcp CLOSE WAIT", "tcp",
// "CLOSE WAIT" or "total"; with the namespace first ("docker 0123456789ab
// tcp CLOSE WAIT"), or the namespace alone. The name is exact: the text
// output shows it through Clean (shown).
func (g Group) Label() string { return g.labelWith(func(s string) string { return s }) }

// shown is the label as the text output shows it.
func (g Group) shown() string { return g.labelWith(Clean) }

func (g Group) labelWith(name func(string) string) string {
	l := strings.ReplaceAll(g.label(), "_", " ")
	switch {
	case g.Netns == nil:
		return l
	case g.By.total():
		return name(g.Netns.Name)
	}
	return name(g.Netns.Name) + " " + l
}

// PerfLabel is how the perfdata names the group: "tcp_CLOSE_WAIT"; with the
// namespace "docker-0123456789ab_tcp_CLOSE_WAIT", or the namespace alone.
func (g Group) PerfLabel() string {
	switch {
	case g.Netns == nil:
		return g.label()
	case g.By.total():
		return g.Netns.Perf
	}
	return g.Netns.Perf + "_" + g.label()
}

func (g Group) label() string {
	switch {
	case g.By.Type && g.By.Status:
		return g.Type.String() + "_" + g.Status.String()
	case g.By.Type:
		return g.Type.String()
	case g.By.Status:
		return g.Status.String()
	}
	return "total"
}

// Options carry what grouping, judging and rendering need beyond the counts.
type Options struct {
	GroupBy           GroupBy
	Warning, Critical Thresholds
	// ReportMissing adds a 0 group for each type x status that Filter
	// selects and that can exist, so an absent socket can alert.
	ReportMissing bool
	Filter        sock.Selects
	TypeText      string // the type filter as asked, for "No connections ..."
	StatusText    string
	ScopeText     string // the scoping options as given
	AlwaysOK      bool
	NoPerfdata    bool
}

// Report is the judged result of one check.
type Report struct {
	Groups   []Group     // largest first
	State    State       // the worst group's, or entity's
	Entities *Entities   // --top-by's entities, when counted
	Netns    *Namespaces // --netns all's namespaces
	// The listen queues, ephemeral ports and conntrack, when asked for.
	Saturation *Saturation
	opts       Options
}

// text is the group as the status line and the long output show it.
func (g Group) text() string {
	if g.State != OK {
		return fmt.Sprintf("%s: %d [%s]", g.shown(), g.Count, g.State)
	}
	return fmt.Sprintf("%s: %d", g.shown(), g.Count)
}

// Part is one network namespace's counts (Netns nil: the one counted).
type Part struct {
	Netns  *Netns
	Counts sock.Counts
}

// New groups the counts, sorts them by count (ties by label) and judges each.
func New(c sock.Counts, opts Options) Report { return NewParts([]Part{{Counts: c}}, opts) }

// NewParts groups the counts of each namespace: each its own groups when
// the grouping tells the namespace, else summed.
func NewParts(parts []Part, opts Options) Report {
	r := Report{opts: opts}
	index := map[string]int{} // perf label -> position in r.Groups
	for _, p := range parts {
		ns := p.Netns
		if !opts.GroupBy.Netns {
			ns = nil
		} else if ns == nil {
			ns = &Netns{Name: "host", Perf: "host"}
		}
		for t := range sock.NumTypes {
			for s := range sock.Status(sock.NumStatuses) {
				n := p.Counts[t][s]
				missing := opts.ReportMissing && opts.Filter.Has(t, s) && t.CanHave(s)
				if n == 0 && !missing {
					continue
				}
				g := Group{By: opts.GroupBy, Type: t, Status: s, Netns: ns}
				i, ok := index[g.PerfLabel()]
				if !ok {
					i = len(r.Groups)
					index[g.PerfLabel()] = i
					r.Groups = append(r.Groups, g)
				}
				r.Groups[i].Count += n
			}
		}
	}
	for i := range r.Groups {
		g := &r.Groups[i]
		g.Warning, g.Critical = opts.Warning.For(*g), opts.Critical.For(*g)
		g.State = judge(g.Count, g.Warning, g.Critical)
		r.raise(g.State)
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

// raise makes s the report's state if it is worse: the one place the
// state of groups, entities and partial views rolls up.
func (r *Report) raise(s State) {
	if worse(s, r.State) {
		r.State = s
	}
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
			fmt.Fprintf(&b, " for %s", clean(r.opts.ScopeText, 0))
		}
	}
	order := r.statusOrder()
	groups := order
	if r.opts.GroupBy.Netns && len(groups) > statusLineGroups {
		groups = groups[:statusLineGroups]
	}
	for i, g := range groups {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(g.text())
	}
	if more := len(r.Groups) - len(groups); more > 0 {
		fmt.Fprintf(&b, ", and %d more groups", more)
		var alerting []string
		for _, s := range []State{Critical, Warning} {
			n := 0
			for _, g := range order[len(groups):] {
				if g.State == s {
					n++
				}
			}
			if n > 0 {
				alerting = append(alerting, fmt.Sprintf("%d %s", n, s))
			}
		}
		if len(alerting) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(alerting, ", "))
		}
	}
	more := false
	for _, m := range []string{r.Netns.netnsMessage(), r.Entities.entityMessage(), r.Saturation.message()} {
		if m != "" {
			b.WriteString(", " + m)
			more = true
		}
	}
	if len(r.Groups) == 0 && !more {
		b.WriteByte('.') // "No connections ... found." as the original says it
	}
	if r.opts.AlwaysOK {
		b.WriteString(" (always ok)")
	}
	return b.String()
}
