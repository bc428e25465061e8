package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/network-connections/network-connections/internal/top"
)

// Details is what a run tells beyond the judged groups: how it counted, and
// what the long output (--top, -v) and the JSON document show.
type Details struct {
	Backend  string        // the way it counted
	Sockets  int           // counted, before grouping
	Duration time.Duration // the whole check
	Timeout  time.Duration // --timeout, for -vv
	Verbose  int           // -v count
	Top      *top.Top      // --top, or nil
}

// Render prints the report: the status line with perfdata and the long
// output, or with asJSON one JSON document.
func (r Report) Render(w io.Writer, d Details, asJSON bool) error {
	if asJSON {
		return r.writeJSON(w, d)
	}
	var b strings.Builder
	b.WriteString(r.Message())
	var cut []string // what the bounds left out, said in the long output
	if !r.opts.NoPerfdata {
		// The bound holds the whole perfdata: '|', each item and the
		// spaces between. The series that are always there (--top-by's,
		// the measures') are counted first; the largest groups fill the rest.
		var fixed []string
		if e := r.Entities; e != nil && len(r.Groups) > 0 {
			fixed = append(fixed, perf{label: e.perfLabel(), value: strconv.Itoa(e.Max), warning: e.Warning, critical: e.Critical}.String())
		}
		for _, p := range r.Saturation.perfdata() {
			fixed = append(fixed, p.String())
		}
		size := len(strings.Join(fixed, " "))
		var items []string
		for _, g := range r.Groups {
			item := perf{label: g.PerfLabel(), value: strconv.Itoa(g.Count), warning: g.Warning.String(), critical: g.Critical.String()}.String()
			if 1+size+1+len(item) > maxPerfdata {
				break
			}
			size += 1 + len(item)
			items = append(items, item)
		}
		if n := len(items); n < len(r.Groups) {
			cut = append(cut, fmt.Sprintf("perfdata: the %d largest of %d groups (bound: %d KiB; --format json has all)", n, len(r.Groups), maxPerfdata>>10))
		}
		if items = append(items, fixed...); len(items) > 0 {
			b.WriteByte('|')
			b.WriteString(strings.Join(items, " "))
		}
	}
	b.WriteByte('\n')
	for _, l := range append(r.longOutput(d), cut...) {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// perf is one perfdata item, 'label'=value;warning;critical;0: it owns the
// quoting and the order of the thresholds. Labels are made safe where they
// are made (PerfLabel, the measures' fixed names).
type perf struct {
	label             string
	value             string // the number, with its unit (%) if any
	warning, critical string // the ranges as given
}

func (p perf) String() string {
	return "'" + p.label + "'=" + p.value + ";" + p.warning + ";" + p.critical + ";0"
}

// longOutput is the lines after the status line: --top, then -v and -vv.
func (r Report) longOutput(d Details) []string {
	var lines []string
	if rest := r.statusOrder(); r.opts.GroupBy.Netns && len(rest) > statusLineGroups {
		size := 0
		for i, g := range rest[statusLineGroups:] {
			l := g.text()
			if size += len(l) + 1; size > maxLongOutput {
				lines = append(lines, fmt.Sprintf("... and %d more groups (bound: %d KiB; --format json has all)", len(rest)-statusLineGroups-i, maxLongOutput>>10))
				break
			}
			lines = append(lines, l)
		}
	}
	lines = append(lines, r.Netns.netnsLines(d.Verbose)...)
	if d.Top != nil {
		lines = append(lines, topLines(d.Top)...)
	}
	if r.Entities != nil && (r.Entities.n > 0 || len(r.Entities.Offenders) > 0) {
		lines = append(lines, r.Entities.entityLines()...)
	}
	lines = append(lines, r.Saturation.lines(d.Verbose)...)
	if d.Verbose >= 1 {
		lines = append(lines, fmt.Sprintf("backend %s, %d sockets counted in %.1f ms", d.Backend, d.Sockets, ms(d.Duration)))
	}
	if d.Verbose >= 2 {
		o := r.opts
		scope := ""
		if o.ScopeText != "" {
			scope = o.ScopeText + " "
		}
		lines = append(lines, fmt.Sprintf("options: --conn-type %s --conn-status %s --group-by %s %s--timeout %s",
			clean(o.TypeText, maxShownValue), clean(o.StatusText, maxShownValue), o.GroupBy, clean(scope, 0), d.Timeout),
			fmt.Sprintf("thresholds: warning %s; critical %s", given(o.Warning), given(o.Critical)))
	}
	return lines
}

func given(th Thresholds) string {
	if len(th.Given()) == 0 {
		return "none"
	}
	return strings.Join(th.Given(), ", ")
}

// ms is a duration in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
