package report

import (
	"fmt"
	"io"
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
	if !r.opts.NoPerfdata && len(r.Groups) > 0 {
		b.WriteByte('|')
		for i, g := range r.Groups {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "'%s'=%d;%s;%s;0", g.PerfLabel(), g.Count, g.Warning, g.Critical)
		}
		if e := r.Entities; e != nil {
			fmt.Fprintf(&b, " '%s'=%d;%s;%s;0", e.perfLabel(), e.Max, e.Warning, e.Critical)
		}
	}
	b.WriteByte('\n')
	for _, l := range r.longOutput(d) {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// longOutput is the lines after the status line: --top, then -v and -vv.
func (r Report) longOutput(d Details) []string {
	var lines []string
	if d.Top != nil {
		lines = append(lines, topLines(d.Top)...)
	}
	if r.Entities != nil && (r.Entities.n > 0 || len(r.Entities.Offenders) > 0) {
		lines = append(lines, r.Entities.entityLines()...)
	}
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
			o.TypeText, o.StatusText, o.GroupBy, scope, d.Timeout),
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
