package report

import (
	"fmt"
	"strings"

	"github.com/network-connections/network-connections/internal/sock"
	"github.com/network-connections/network-connections/internal/threshold"
)

// Thresholds are the ranges of one kind (warning or critical): a plain range
// for every group, and ranges for the groups a selector names.
type Thresholds struct {
	Plain     threshold.Range
	selectors []selector // in the order given, each key once (the last wins)
	given     []string
}

// selector names groups: a status, a type, one type and status (a label such
// as tcp6_established), or the total.
type selector struct {
	kind  selectorKind
	typ   sock.Type
	state sock.Status
	text  string // the value as given, for errors
	r     threshold.Range
}

type selectorKind int

const (
	byStatus selectorKind = iota
	byType
	byLabel
	byTotal
)

func (s selector) sameKey(o selector) bool {
	return s.kind == o.kind && s.typ == o.typ && s.state == o.state
}

// Given is the values as the user gave them.
func (th Thresholds) Given() []string { return th.given }

// ParseThresholds reads the values of a repeated -w or -c: "RANGE" or
// "SELECTOR=RANGE", where the selector is a status, a type, a group label
// (tcp6_ESTABLISHED, tcp6_close-wait) or total, in any case, with _ or -
// between words. Given twice, in any spelling, the later one wins.
func ParseThresholds(values []string) (Thresholds, error) {
	th := Thresholds{given: values}
	for _, v := range values {
		text, r, hasSelector := strings.Cut(v, "=")
		if !hasSelector {
			r = v
		}
		rng, err := threshold.Parse(r)
		if err != nil {
			return th, err
		}
		if !hasSelector {
			th.Plain = rng
			continue
		}
		sel, ok := parseSelector(text)
		if !ok {
			return th, fmt.Errorf("%q: unknown selector %q (want a status, a type, a group label such as tcp6_established, or total)", v, text)
		}
		sel.text, sel.r = v, rng
		th.selectors = append(deleteKey(th.selectors, sel), sel)
	}
	return th, nil
}

func deleteKey(sels []selector, s selector) []selector {
	out := sels[:0]
	for _, o := range sels {
		if !o.sameKey(s) {
			out = append(out, o)
		}
	}
	return out
}

func parseSelector(text string) (selector, bool) {
	if strings.EqualFold(text, "total") {
		return selector{kind: byTotal}, true
	}
	if s, err := sock.ParseStatus(text); err == nil {
		return selector{kind: byStatus, state: s}, true
	}
	if t, err := sock.ParseType(text); err == nil {
		return selector{kind: byType, typ: t}, true
	}
	for t := range sock.NumTypes {
		name := t.String()
		if len(text) <= len(name)+1 || !strings.EqualFold(text[:len(name)], name) || !strings.ContainsRune("_-", rune(text[len(name)])) {
			continue
		}
		if s, err := sock.ParseStatus(text[len(name)+1:]); err == nil && t.CanHave(s) {
			return selector{kind: byLabel, typ: t, state: s}, true
		}
	}
	return selector{}, false
}

// Check refuses a selector that names no group under the grouping in force:
// it would be accepted and never apply. A selector for a type or status that
// the filter leaves out passes: one list of thresholds serves services that
// count different sockets (a template's time_wait=500 on a LISTEN check).
func (th Thresholds) Check(by GroupBy) error {
	given := by
	by.Netns = false // a selector names its group in each namespace alike
	for _, s := range th.selectors {
		var why string
		switch {
		case s.kind == byTotal && by != ByNone:
			why = fmt.Sprintf("total is the one group of --group-by none, not of --group-by %s (a plain range covers every group)", given)
		case s.kind == byLabel && by != ByTypeStatus:
			why = fmt.Sprintf("groups of one type and status exist with --group-by type,status, not with --group-by %s", given)
		case s.kind == byStatus && !by.Status:
			why = fmt.Sprintf("--group-by %s makes no groups by status", given)
		case s.kind == byType && !by.Type:
			why = fmt.Sprintf("--group-by %s makes no groups by type", given)
		}
		if why != "" {
			return fmt.Errorf("%q names no group: %s", s.text, why)
		}
	}
	return nil
}

// For returns the range that applies to g: the most specific selector that
// names it (its label or the total, then its status, then its type), else
// the plain range.
func (th Thresholds) For(g Group) threshold.Range {
	for _, kind := range []selectorKind{byLabel, byTotal, byStatus, byType} {
		for _, s := range th.selectors {
			if s.kind == kind && s.names(g) {
				return s.r
			}
		}
	}
	return th.Plain
}

// names reports whether s selects group g.
func (s selector) names(g Group) bool {
	switch s.kind {
	case byLabel:
		return g.By.Type && g.By.Status && g.Type == s.typ && g.Status == s.state
	case byTotal:
		return g.By.total()
	case byStatus:
		return g.By.Status && g.Status == s.state
	}
	return g.By.Type && g.Type == s.typ
}
