package report

import (
	"fmt"
	"io"
	"slices"
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
	if !r.opts.NoPerfdata && len(r.Groups) > 0 {
		// The bound holds the whole perfdata: '|', each item and the
		// spaces between, --top-by's series first (it is always there).
		var items []string
		if e := r.Entities; e != nil {
			items = append(items, fmt.Sprintf("'%s'=%d;%s;%s;0", e.perfLabel(), e.Max, e.Warning, e.Critical))
		}
		size := 1 + len(strings.Join(items, " "))
		n := 0
		for _, g := range r.Groups {
			item := fmt.Sprintf("'%s'=%d;%s;%s;0", g.PerfLabel(), g.Count, g.Warning, g.Critical)
			if size+1+len(item) > maxPerfdata {
				break
			}
			size += 1 + len(item)
			items = slices.Insert(items, n, item)
			n++
		}
		b.WriteByte('|')
		b.WriteString(strings.Join(items, " "))
		if n < len(r.Groups) {
			cut = append(cut, fmt.Sprintf("perfdata: the %d largest of %d groups (bound: %d KiB; --format json has all)", n, len(r.Groups), maxPerfdata>>10))
		}
	}
	if perf := r.Saturation.perfdata(); perf != "" && !r.opts.NoPerfdata {
		sep := "|" // no groups: the measures' series are the only ones
		if len(r.Groups) > 0 {
			sep = " "
		}
		b.WriteString(sep + perf)
	}
	b.WriteByte('\n')
	for _, l := range append(r.longOutput(d), cut...) {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
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
