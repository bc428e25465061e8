// Package top names the processes that hold the counted sockets (--top): it
// attributes each socket of the groups in scope to its holders, found by
// walking /proc/PID/fd on Linux or given by the collector (gopsutil), and
// sums up the sockets it cannot name, saying why.
package top

import (
	"sort"

	"github.com/network-connections/network-connections/internal/sock"
)

// Scope is what to attribute: the groups that alert, or all groups when none
// does, as the report labels them, and the group of a socket's type and
// status among Labels (false: not attributed).
type Scope struct {
	Alerting bool
	Labels   []string
	GroupOf  func(sock.Type, sock.Status) (int, bool)
}

// Top is the attribution: the n processes holding the most sockets in scope
// and the sockets that no process could be named for.
type Top struct {
	Alerting   bool           `json:"alerting_groups_only"`
	Groups     []string       `json:"groups"` // the labels attributed
	Processes  []ProcessCount `json:"processes"`
	NoProcess  []LabelCount   `json:"no_process"` // TIME_WAIT and request sockets
	NotFound   []LabelCount   `json:"not_found"`  // holder unreadable, or gone
	Unreadable int            `json:"unreadable"` // processes we may not read
}

// ProcessCount is one process's share of the sockets.
type ProcessCount struct {
	Pid    int32        `json:"pid"`
	Name   string       `json:"name"`
	Total  int          `json:"total"`
	Groups []LabelCount `json:"groups"`
}

// LabelCount is a count of one group's sockets.
type LabelCount struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

// Process is a socket's holder.
type Process struct {
	Pid  int32
	Name string // its command name, exact (the report cleans what it shows)
}

// Find attributes the sockets in scope, of those h took, and keeps the n
// processes holding the most. Only here is /proc walked.
func Find(h *Holders, scope Scope, n int) (*Top, error) {
	return find(procRoot, h, scope, n)
}

func find(proc string, h *Holders, scope Scope, n int) (*Top, error) {
	a := newAttribution(h, scope)
	unreadable, err := walk(proc, a.wants, a.held)
	if err != nil {
		return nil, err
	}
	return a.top(proc, n, unreadable), nil
}

func sortedCounts(m map[string]int) []LabelCount {
	out := []LabelCount{}
	for l, c := range m {
		out = append(out, LabelCount{l, c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Label < out[j].Label
	})
	return out
}
