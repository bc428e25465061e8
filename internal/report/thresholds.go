package report

import (
	"fmt"
	"strings"

	"github.com/network-connections/network-connections/internal/collect"
	"github.com/network-connections/network-connections/internal/threshold"
)

// Thresholds are the ranges of one kind (warning or critical): a plain range
// for every group, and ranges for the groups a selector names.
type Thresholds struct {
	Plain    threshold.Range
	byLabel  map[string]threshold.Range // "tcp6_established", "total"
	byStatus map[collect.Status]threshold.Range
	byType   map[collect.Type]threshold.Range
	given    []string
}

// Given is the values as the user gave them.
func (th Thresholds) Given() []string { return th.given }

// ParseThresholds reads the values of a repeated -w or -c: "RANGE" or
// "SELECTOR=RANGE", where the selector is a status, a type or a group label
// (tcp6_ESTABLISHED), in any case. Given twice, the later one wins.
func ParseThresholds(values []string) (Thresholds, error) {
	th := Thresholds{byLabel: map[string]threshold.Range{}, byStatus: map[collect.Status]threshold.Range{}, byType: map[collect.Type]threshold.Range{}, given: values}
	for _, v := range values {
		selector, text, hasSelector := strings.Cut(v, "=")
		if !hasSelector {
			text = v
		}
		r, err := threshold.Parse(text)
		if err != nil {
			return th, err
		}
		if !hasSelector {
			th.Plain = r
			continue
		}
		sel := strings.ToLower(selector)
		if s, err := collect.ParseStatus(sel); err == nil {
			th.byStatus[s] = r
		} else if t, err := collect.ParseType(sel); err == nil {
			th.byType[t] = r
		} else if isLabel(sel) {
			th.byLabel[sel] = r
		} else {
			return th, fmt.Errorf("%q: unknown selector %q (want a status, a type, a group label such as tcp6_established, or total)", v, selector)
		}
	}
	return th, nil
}

// isLabel reports whether sel names a type+status group or the total.
func isLabel(sel string) bool {
	if sel == "total" {
		return true
	}
	typ, status, ok := strings.Cut(sel, "_")
	if !ok {
		return false
	}
	t, err1 := collect.ParseType(typ)
	s, err2 := collect.ParseStatus(status)
	return err1 == nil && err2 == nil && t.CanHave(s)
}

// For returns the range that applies to g: the most specific selector that
// names it (its label, then its status, then its type), else the plain range.
func (th Thresholds) For(g Group) threshold.Range {
	if r, ok := th.byLabel[strings.ToLower(g.PerfLabel())]; ok {
		return r
	}
	if g.By.status() {
		if r, ok := th.byStatus[g.Status]; ok {
			return r
		}
	}
	if g.By.typ() {
		if r, ok := th.byType[g.Type]; ok {
			return r
		}
	}
	return th.Plain
}
