package report

import (
	"fmt"
	"strings"

	"github.com/network-connections/network-connections/internal/threshold"
	"github.com/network-connections/network-connections/internal/top"
)

// EntityOptions say how --top-by's entities (peers, networks, ports) are
// shown and judged.
type EntityOptions struct {
	Key top.Key
	N   int // --top: how many of the largest to show (and the offenders)
	// --top-warning, --top-critical: the limit per entity; empty: none.
	Warning, Critical threshold.Range
}

// Judges reports whether a limit per entity is set.
func (o EntityOptions) Judges() bool { return o.Warning.IsSet() || o.Critical.IsSet() }

// Entities is what the report tells of --top-by's entities.
type Entities struct {
	Key       top.Key      `json:"key"`
	Alerting  bool         `json:"alerting_groups_only"`
	Groups    []string     `json:"groups"`   // the labels counted
	Count     int          `json:"count"`    // entities in all
	Max       int          `json:"max"`      // the largest entity's count
	Shown     []top.Entity `json:"entities"` // the N largest, and the offenders
	Offenders []top.Entity `json:"offenders"`
	Warning   string       `json:"warning"`
	Critical  string       `json:"critical"`
	n         int          // --top
}

// EntityCounter sums the entities of the sockets in a scope (top.Tally).
type EntityCounter interface {
	Entities(top.Scope) []top.Entity
}

// JudgeEntities counts the entities, judges each by the limits, raises the
// report's state by the worst, and keeps what the output shows. With a
// limit per entity every group is counted (the limit is on what the check
// counted); otherwise, as --top by process, the groups that alert, or all.
// Max, the one series for graphs, is the largest entity over every group
// whatever alerts, so that it means the same in every run.
func (r *Report) JudgeEntities(c EntityCounter, o EntityOptions) {
	scope := r.scope(!o.Judges())
	all := c.Entities(scope)
	e := &Entities{Key: o.Key, Alerting: scope.Alerting, Groups: nonNil(scope.Labels), Count: len(all),
		Warning: o.Warning.String(), Critical: o.Critical.String(), Shown: []top.Entity{}, Offenders: []top.Entity{}, n: o.N}
	everything := all
	if scope.Alerting {
		everything = c.Entities(r.scope(false))
	}
	if len(everything) > 0 {
		e.Max = everything[0].Total // largest first
	}
	// The N largest, then the offenders beyond them: every entity the
	// status line names has its line.
	var beyond []top.Entity
	for i := range all {
		en := &all[i]
		state := judge(en.Total, o.Warning, o.Critical)
		en.State = state.String()
		if state != OK {
			e.Offenders = append(e.Offenders, *en)
			if i >= o.N {
				beyond = append(beyond, *en)
			}
			r.raise(state)
		}
	}
	e.Shown = append(append(e.Shown, all[:min(o.N, len(all))]...), beyond...)
	r.Entities = e
}

// entityName is an entity as the text output names it: its key, after its
// namespace where it is one namespace's ("pod shop/api-0: 127.0.0.1").
func entityName(en top.Entity) string {
	if en.Netns != "" {
		return Clean(en.Netns) + ": " + Clean(en.Name)
	}
	return Clean(en.Name)
}

// maxOffendersNamed bounds the status line: the rest are in the long output.
const maxOffendersNamed = 5

// entityMessage is the status line's part on the offenders: "1 remote
// address over the limit: 203.0.113.7 (812)".
func (e *Entities) entityMessage() string {
	if e == nil || len(e.Offenders) == 0 {
		return ""
	}
	var names []string
	for _, en := range e.Offenders[:min(maxOffendersNamed, len(e.Offenders))] {
		names = append(names, fmt.Sprintf("%s (%d)", entityName(en), en.Total))
	}
	if more := len(e.Offenders) - maxOffendersNamed; more > 0 {
		names = append(names, fmt.Sprintf("and %d more", more))
	}
	return fmt.Sprintf("%s over the limit: %s", e.Key.Noun(len(e.Offenders)), strings.Join(names, ", "))
}

// perfLabel is the one series for graphs: the largest entity's count.
func (e *Entities) perfLabel() string {
	return "top_" + strings.ReplaceAll(e.Key.String(), "-", "_") + "_max"
}

// entityLines renders the long output: a line an entity shown.
func (e *Entities) entityLines() []string {
	plural := strings.TrimPrefix(e.Key.Noun(2), "2 ")
	scope := "all groups"
	if e.Alerting {
		scope = "the groups that alert"
	}
	head := fmt.Sprintf("Top %s by sockets in %s (%s):", plural, scope, strings.Join(e.Groups, ", "))
	if e.n == 0 {
		head = fmt.Sprintf("%s over the limit, by sockets in %s (%s):", strings.ToUpper(plural[:1])+plural[1:], scope, strings.Join(e.Groups, ", "))
	}
	var list []string
	for _, en := range e.Shown {
		l := fmt.Sprintf("%s: %s", entityName(en), joinCounts(en.Groups))
		if en.State != OK.String() {
			l += " [" + en.State + "]"
		}
		list = append(list, l)
	}
	if len(e.Shown) == 0 {
		list = append(list, fmt.Sprintf("none (%s counted)", e.Key.Noun(e.Count)))
	}
	return append([]string{head}, bounded(list, plural)...)
}
