// Package report groups socket counts, judges them against the thresholds and
// renders the plugin's output: one status line with perfdata.
package report

import (
	"fmt"
	"io"
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

// Group is the count of one type+status.
type Group struct {
	Type   collect.Type
	Status collect.Status
	Count  int
	State  State
}

// Label is how the message names the group: "tcp CLOSE WAIT".
func (g Group) Label() string {
	return g.Type.String() + " " + strings.ReplaceAll(g.Status.String(), "_", " ")
}

// PerfLabel is how the perfdata names the group: "tcp_CLOSE_WAIT".
func (g Group) PerfLabel() string {
	return g.Type.String() + "_" + g.Status.String()
}

// Options carry what the rendering needs beyond the counts.
type Options struct {
	Warning, Critical threshold.Range
	TypeText          string // the type filter as asked, for "No connections ..."
	StatusText        string
	AlwaysOK          bool
	NoPerfdata        bool
}

// Report is the judged result of one check.
type Report struct {
	Groups []Group // non-empty groups, largest first
	State  State   // the worst group's
	opts   Options
}

// New groups the counts, sorts them by count (ties by label) and judges each.
func New(c collect.Counts, opts Options) Report {
	r := Report{opts: opts}
	for t := range collect.NumTypes {
		for s := range collect.Status(collect.NumStatuses) {
			if n := c[t][s]; n > 0 {
				g := Group{Type: t, Status: s, Count: n}
				switch {
				case opts.Critical.Alerts(float64(n)):
					g.State = Critical
				case opts.Warning.Alerts(float64(n)):
					g.State = Warning
				}
				if worse(g.State, r.State) {
					r.State = g.State
				}
				r.Groups = append(r.Groups, g)
			}
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

// Write prints the status line and perfdata.
func (r Report) Write(w io.Writer) error {
	var b strings.Builder
	if len(r.Groups) == 0 {
		fmt.Fprintf(&b, "No connections of type %q in status %q found.", r.opts.TypeText, r.opts.StatusText)
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
	if r.opts.AlwaysOK {
		b.WriteString(" (always ok)")
	}
	if !r.opts.NoPerfdata && len(r.Groups) > 0 {
		b.WriteByte('|')
		for i, g := range r.Groups {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "'%s'=%d;%s;%s;0", g.PerfLabel(), g.Count, r.opts.Warning, r.opts.Critical)
		}
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}
