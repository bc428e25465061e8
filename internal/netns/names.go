// Package netns finds the host's network namespaces for --netns all and
// names each the way an operator knows it: its ip netns name, its container
// or pod, or the process in it.
package netns

import (
	"strings"
)

// Namespace is one network namespace of the host.
type Namespace struct {
	Inode uint64 // the namespace's inode in nsfs: its identity
	Name  string // as the output shows it: host, an ip netns name, docker 0123456789ab, pod web-1, pid 42 (nginx)
	Perf  string // the name in perfdata labels (PerfName), unique among the namespaces
	Self  bool   // the checker's own
	Pids  []int  // the processes inside, oldest first where the name needed it
	Named []string
}

// Container is what a process's cgroup paths tell of the container it runs
// in: the runtime, the container's id, and the Kubernetes pod's UID when the
// path carries one.
type Container struct {
	Runtime string // docker, containerd, cri-o, podman; "container" under kubepods without a runtime's prefix
	ID      string // the full id, hex
	PodUID  string
}

// Short is the container as `docker ps` shows it: the runtime and the first
// 12 hex digits of its id.
func (c Container) Short() string {
	id := c.ID
	if len(id) > 12 {
		id = id[:12]
	}
	return c.Runtime + " " + id
}

// scopePrefixes are the systemd scope names that runtimes give a container's
// cgroup (systemd cgroup driver): <prefix><64 hex>.scope.
var scopePrefixes = []struct{ prefix, runtime string }{
	{"docker-", "docker"},
	{"cri-containerd-", "containerd"},
	{"crio-", "cri-o"},
	{"libpod-", "podman"},
}

// ParseCgroup reads /proc/PID/cgroup's text (one hierarchy a line,
// "ID:CONTROLLERS:PATH") and returns the container it names, if any.
// Runtimes name it in the last element of the path: a systemd scope
// (docker-<id>.scope, cri-containerd-, crio-, libpod-) or, with the cgroupfs
// driver, the id itself under /docker/ or /kubepods/.
func ParseCgroup(text string) (Container, bool) {
	for line := range strings.Lines(text) {
		_, path, ok := strings.Cut(strings.TrimRight(line, "\n"), ":")
		if !ok {
			continue
		}
		if _, path, ok = strings.Cut(path, ":"); !ok {
			continue
		}
		if c, ok := parsePath(path); ok {
			return c, true
		}
	}
	return Container{}, false
}

func parsePath(path string) (Container, bool) {
	elems := strings.Split(strings.Trim(path, "/"), "/")
	if len(elems) > 1 && elems[len(elems)-1] == "container" {
		elems = elems[:len(elems)-1] // podman's split cgroups: <scope>/container
	}
	last := elems[len(elems)-1]
	var c Container
	for _, p := range scopePrefixes {
		if id, ok := strings.CutPrefix(last, p.prefix); ok {
			if id, ok = strings.CutSuffix(id, ".scope"); ok && isID(id) {
				c = Container{Runtime: p.runtime, ID: id}
			}
		}
	}
	if c.ID == "" && isID(last) && len(elems) >= 2 {
		switch {
		case elems[len(elems)-2] == "docker":
			c = Container{Runtime: "docker", ID: last}
		case elems[0] == "kubepods" || strings.HasPrefix(elems[0], "kubepods."):
			c = Container{Runtime: "container", ID: last}
		case elems[len(elems)-2] == "libpod_parent":
			c = Container{Runtime: "podman", ID: last}
		}
	}
	if c.ID == "" {
		return c, false
	}
	for _, e := range elems[:len(elems)-1] {
		if uid := podUID(e); uid != "" {
			c.PodUID = uid
		}
	}
	return c, true
}

// podUID finds a pod's UID in a kubepods path element: pod<uid> with the
// cgroupfs driver, kubepods-<qos>-pod<uid with _ for ->.slice with systemd's.
func podUID(elem string) string {
	i := strings.LastIndex(elem, "pod")
	if i < 0 || !strings.HasPrefix(elem, "pod") && !strings.HasPrefix(elem, "kubepods") {
		return ""
	}
	uid := strings.TrimSuffix(elem[i+3:], ".slice")
	uid = strings.ReplaceAll(uid, "_", "-")
	if len(uid) != 36 || strings.Count(uid, "-") != 4 {
		return ""
	}
	for _, r := range uid {
		if r != '-' && !isHex(r) {
			return ""
		}
	}
	return uid
}

// isID: a container id is 64 hex digits.
func isID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !isHex(r) {
			return false
		}
	}
	return true
}

func isHex(r rune) bool { return '0' <= r && r <= '9' || 'a' <= r && r <= 'f' }

// PerfName makes a name fit a perfdata label in every core and writer: only
// letters, digits and '-' ('_' separates the label's parts, '.' and '/' are
// Graphite's path, quotes and '=' the Nagios format's), no '-' at either
// end, at most 64 bytes.
func PerfName(s string) string {
	b := make([]byte, 0, len(s))
	dash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		switch {
		case ok:
			if dash && len(b) > 0 {
				b = append(b, '-')
			}
			b = append(b, c)
			dash = false
		default:
			dash = true
		}
	}
	out := strings.TrimRight(string(b[:min(len(b), 64)]), "-")
	if out == "" {
		return "netns"
	}
	return out
}
