package report

import (
	"fmt"
	"sort"
)

// Namespaces is what the report tells of --netns all beyond the groups:
// what was counted, and what was not and why.
type Namespaces struct {
	Counted    []NamespaceCount `json:"counted"`
	NotCounted []NotCounted     `json:"not_counted"`
	Gone       int              `json:"gone"`                 // ended before they were counted
	Unreadable int              `json:"unreadable_processes"` // whose namespace could not be read
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
	Identity NetnsIdentity `json:"identity"`
	Error    string        `json:"error"`
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

// The status line of a grouping by namespace names at most this many
// groups, those that alert first; the rest go to the long output, up to
// maxLongOutput bytes, and the perfdata up to maxPerfdata: with hundreds of
// namespaces the whole would outgrow what cores keep (--format json has all).
const (
	statusLineGroups = 10
	maxLongOutput    = 16 << 10
	maxPerfdata      = 32 << 10
)

// statusOrder is the groups in the order the status line names them: by
// namespace, those that alert first (CRITICAL, then WARNING), then by count;
// otherwise as sorted, by count.
func (r Report) statusOrder() []Group {
	if !r.opts.GroupBy.netns() {
		return r.Groups
	}
	gs := append([]Group(nil), r.Groups...)
	sort.SliceStable(gs, func(i, j int) bool { return worse(gs[i].State, gs[j].State) })
	return gs
}

// netnsMessage is the status line's word on namespaces not counted.
func (n *Namespaces) netnsMessage() string {
	if n == nil || len(n.NotCounted) == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d network namespaces not counted (see the long output)", len(n.NotCounted), len(n.NotCounted)+len(n.Counted))
}

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
		for _, c := range n.Counted {
			lines = append(lines, fmt.Sprintf("network namespace %s: named by %s", c.Name, c.Identity.Source))
		}
	}
	for _, nc := range n.NotCounted {
		lines = append(lines, fmt.Sprintf("not counted: %s: %s", nc.Name, nc.Error))
	}
	if n.Unreadable > 0 {
		lines = append(lines, fmt.Sprintf("not read: the network namespace of %d processes (%s): in another user namespace, or another user's without CAP_SYS_PTRACE; their sockets are counted only where another process shares their namespace",
			n.Unreadable, n.Why))
	}
	return lines
}
