package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Namespaces is what the report tells of --netns all beyond the groups:
// what was counted, and what was not and why.
type Namespaces struct {
	Counted    []NamespaceCount `json:"counted"`
	NotCounted []NotCounted     `json:"not_counted"`
	Gone       int              `json:"gone"`                             // ended before they were counted
	Unreadable int              `json:"unreadable_processes"`             // whose namespace could not be read
	NeedPtrace bool             `json:"unreadable_need_ptrace,omitempty"` // for want of CAP_SYS_PTRACE: a partial view
	Why        string           `json:"unreadable_why,omitempty"`
}

// NamespaceCount is a counted namespace.
type NamespaceCount struct {
	Netns
	Identity  NetnsIdentity `json:"identity"`
	Processes int           `json:"processes"`
	Sockets   int           `json:"sockets"`
}

// NotCounted is a namespace found and not counted.
type NotCounted struct {
	Netns
	Identity  NetnsIdentity `json:"identity"`
	Error     string        `json:"error"`
	Privilege bool          `json:"privilege"` // more privilege would have counted it
}

// NetnsIdentity is what a namespace was found to be, each name exact as
// the runtime keeps it, and where its name came from.
type NetnsIdentity struct {
	Runtime      string   `json:"runtime,omitempty"` // docker, podman, containerd, nerdctl, cri-o, kubernetes, container
	ContainerIDs []string `json:"container_ids,omitempty"`
	Container    string   `json:"container_name,omitempty"`
	PodNamespace string   `json:"pod_namespace,omitempty"`
	PodName      string   `json:"pod_name,omitempty"` // a Kubernetes pod's, or a Podman pod's
	PodUID       string   `json:"pod_uid,omitempty"`
	Source       string   `json:"name_source"`
}

// SetNamespaces adds what --netns all counted and did not: a namespace
// not counted makes the view partial, and a partial view is never OK, so
// the state is at least UNKNOWN (a group that alerts in what was counted
// still says so).
func (r *Report) SetNamespaces(n *Namespaces) {
	r.Netns = n
	if n != nil && (len(n.NotCounted) > 0 || n.NeedPtrace) {
		r.raise(Unknown)
	}
}

// The status line of a grouping by namespace names at most this many
// groups, those that alert first; the rest go to the long output, up to
// maxLongOutput bytes, and the perfdata up to maxPerfdata: with hundreds of
// namespaces the whole would outgrow what cores keep (--format json has all).
const (
	statusLineGroups = 10
	maxLongOutput    = 16 << 10
	maxPerfdata      = 32 << 10
	maxList          = 8 << 10 // each other list in the long output
)

// bounded keeps a list's lines to maxList bytes, saying how many more
// there are (what names them: "peers", "namespaces not counted").
func bounded(lines []string, what string) []string {
	size := 0
	for i, l := range lines {
		if size += len(l) + 1; size > maxList {
			return append(lines[:i:i], fmt.Sprintf("... and %d more %s (bound: %d KiB; --format json has all)", len(lines)-i, what, maxList>>10))
		}
	}
	return lines
}

// statusOrder is the groups in the order the status line names them: by
// namespace, those that alert first (CRITICAL, then WARNING), then by count;
// otherwise as sorted, by count.
func (r Report) statusOrder() []Group {
	if !r.opts.GroupBy.Netns {
		return r.Groups
	}
	gs := append([]Group(nil), r.Groups...)
	sort.SliceStable(gs, func(i, j int) bool { return worse(gs[i].State, gs[j].State) })
	return gs
}

// netnsMessage is the status line's word on namespaces not counted.
func (n *Namespaces) netnsMessage() string {
	if n == nil {
		return ""
	}
	var parts []string
	if len(n.NotCounted) > 0 {
		why := ""
		if !slices.ContainsFunc(n.NotCounted, func(nc NotCounted) bool { return !nc.Privilege }) {
			why = ": " + needPrivilege
		}
		parts = append(parts, fmt.Sprintf("%d of %d network namespaces not counted%s", len(n.NotCounted), len(n.NotCounted)+len(n.Counted), why))
	}
	if n.NeedPtrace {
		parts = append(parts, fmt.Sprintf("the network namespace of %s not read: other users' /proc/PID/ns/net needs CAP_SYS_PTRACE", processes(n.Unreadable)))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ") + " (see the long output)"
}

// needPrivilege is what a namespace that refused us takes. Root of a user
// namespace has its capabilities only over what that namespace owns.
const needPrivilege = "entering them needs CAP_SYS_ADMIN (and CAP_SYS_PTRACE for other users' processes) in the host's user namespace"

// netnsLines is the long output on namespaces: how many were counted, then
// each one not counted and why, and the processes whose namespace could not
// be read.
func (n *Namespaces) netnsLines(verbose int) []string {
	if n == nil {
		return nil
	}
	var lines []string
	if verbose > 0 || len(n.NotCounted) > 0 || n.Unreadable > 0 {
		line := fmt.Sprintf("network namespaces: %d counted", len(n.Counted))
		if len(n.NotCounted) > 0 {
			line += fmt.Sprintf(", %d not counted", len(n.NotCounted))
		}
		if n.Gone > 0 {
			line += fmt.Sprintf(", %d gone while counted (their containers stopped)", n.Gone)
		}
		lines = append(lines, line)
	}
	if verbose > 0 {
		var named []string
		for _, c := range n.Counted {
			named = append(named, fmt.Sprintf("network namespace %s: named by %s", Clean(c.Name), Clean(c.Identity.Source)))
		}
		lines = append(lines, bounded(named, "namespaces")...)
	}
	var notCounted []string
	for _, nc := range n.NotCounted {
		notCounted = append(notCounted, fmt.Sprintf("not counted: %s: %s", Clean(nc.Name), clean(nc.Error, maxShownValue)))
	}
	lines = append(lines, bounded(notCounted, "namespaces not counted")...)
	if n.Unreadable > 0 {
		lines = append(lines, fmt.Sprintf("not read: the network namespace of %s (%s): in another user namespace, or another user's without CAP_SYS_PTRACE; their sockets are counted only where another process shares their namespace",
			processes(n.Unreadable), clean(n.Why, maxShownValue)))
	}
	return lines
}

// processes is "1 process", "75 processes".
func processes(n int) string {
	if n == 1 {
		return "1 process"
	}
	return fmt.Sprintf("%d processes", n)
}
