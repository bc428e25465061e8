package report

import (
	"fmt"
	"strings"

	"github.com/network-connections/network-connections/internal/sock"
	"github.com/network-connections/network-connections/internal/top"
)

// TopScope is what --top attributes: the sockets of the groups that alert,
// or of all groups when none does.
func (r Report) TopScope() top.Scope { return r.scope(true) }

// scope is the groups whose sockets --top attributes or counts: with
// alertingOnly the groups that alert, if any; else every group.
func (r Report) scope(alertingOnly bool) top.Scope {
	var s top.Scope
	for _, g := range r.Groups {
		s.Alerting = s.Alerting || alertingOnly && g.State != OK
	}
	// By type and status only: a socket does not say its namespace, so
	// with --netns all the same group of every namespace is one here.
	index := map[string]int{}
	for _, g := range r.Groups {
		if _, dup := index[g.label()]; !dup && (g.State != OK || !s.Alerting) {
			index[g.label()] = len(s.Labels)
			s.Labels = append(s.Labels, strings.ReplaceAll(g.label(), "_", " "))
		}
	}
	s.GroupOf = func(t sock.Type, st sock.Status) (int, bool) {
		i, ok := index[Group{By: r.opts.GroupBy, Type: t, Status: st}.label()]
		return i, ok
	}
	return s
}

// topLines renders --top's long output: what is attributed, a line a
// process, then the sockets no process could be named for, and why.
func topLines(t *top.Top) []string {
	scope := "all groups"
	if t.Alerting {
		scope = "the groups that alert"
	}
	lines := []string{fmt.Sprintf("Top processes by sockets in %s (%s):", scope, strings.Join(t.Groups, ", "))}
	var procs []string
	for _, p := range t.Processes {
		procs = append(procs, fmt.Sprintf("pid %d (%s): %s", p.Pid, Clean(p.Name), joinCounts(p.Groups)))
	}
	lines = append(lines, bounded(procs, "processes")...)
	if len(t.NoProcess) > 0 {
		lines = append(lines, fmt.Sprintf("no process: %s (TIME_WAIT sockets and connections not yet accepted belong to the kernel)", joinCounts(t.NoProcess)))
	}
	if len(t.NotFound) > 0 {
		why := "their processes ended meanwhile or live in another PID namespace"
		if t.Unreadable > 0 {
			why = fmt.Sprintf("held by processes we may not read (%d of them): root, or CAP_SYS_PTRACE with CAP_DAC_READ_SEARCH, names them", t.Unreadable)
		}
		lines = append(lines, fmt.Sprintf("owner not found: %s (%s)", joinCounts(t.NotFound), why))
	}
	return lines
}

func joinCounts(cs []top.LabelCount) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%d %s", c.Count, c.Label)
	}
	return strings.Join(parts, ", ")
}
