// Package netns finds the host's network namespaces for --netns all and
// names each the way an operator knows it: its ip netns name, its pod or
// container by the name the runtime gave it, or the process in it.
package netns

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Namespace is one network namespace of the host.
type Namespace struct {
	Inode uint64 // the namespace's inode in nsfs: its identity
	Name  string // as the output shows it: host, blue, docker web, pod shop/api-0, pid 42 (nginx); raw, cleaned where printed
	Perf  string // the name in perfdata labels: a function of the namespace's identity alone (Label)
	Self  bool   // the checker's own
	Pids  []int  // the processes inside, oldest first where the name needed it
	Named []string
	ID    Identity // what the name was made of, and where it was read
}

// Identity is what a namespace was found to be: the containers inside and
// the names their runtime gave them. All raw, as read.
type Identity struct {
	Runtime      string   // docker, podman, containerd, nerdctl, cri-o, kubernetes, container (a runtime not told); "" for none
	ContainerIDs []string // the containers seen among its first processes
	Container    string   // the container's name
	PodNamespace string   // a Kubernetes pod's namespace
	Pod          string   // the pod's name (Kubernetes, or a Podman pod)
	PodUID       string
	Source       string // where the name came from: a file, a process, or the rule that named it
}

// Container is what a process's cgroup paths tell of the container it runs
// in: the runtime, the container's id, its pod.
type Container struct {
	Runtime   string // docker, containerd, cri-o, podman, nerdctl; "container" under kubepods without a runtime's prefix
	ID        string // the full id: hex, or the name a ctr user chose (containerd)
	PodUID    string // a Kubernetes pod's
	PodmanPod string // a Podman pod's id
	Namespace string // containerd's namespace, with the id only a candidate: a task must exist
	// Owner is the uid of a rootless runtime's user (user@UID.service in
	// the path, or the owner of conmon): that user named the container,
	// and may name it as another's, so the name carries the uid.
	Owner string
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
// cgroup (systemd cgroup driver): <prefix><64 hex>.scope. Podman's cgroupfs
// driver writes libpod-<id> without the suffix.
var scopePrefixes = []struct{ prefix, runtime string }{
	{"docker-", "docker"},
	{"cri-containerd-", "containerd"},
	{"crio-", "cri-o"},
	{"libpod-", "podman"},
	{"nerdctl-", "nerdctl"},
}

// ParseCgroup reads /proc/PID/cgroup's text (one hierarchy a line,
// "ID:CONTROLLERS:PATH", v1, v2 or both) and returns the container it names,
// if any. A runtime's own mark on any line wins over containerd's bare
// /<namespace>/<id>, which the caller must confirm.
func ParseCgroup(text string) (Container, bool) {
	var weak Container
	for line := range strings.Lines(text) {
		_, path, ok := strings.Cut(strings.TrimRight(line, "\n"), ":")
		if !ok {
			continue
		}
		if _, path, ok = strings.Cut(path, ":"); !ok {
			continue
		}
		if c, ok := parsePath(path); ok {
			if c.Namespace == "" {
				return c, true
			}
			if weak.ID == "" {
				weak = c
			}
		}
	}
	return weak, weak.ID != ""
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
			id = strings.TrimSuffix(id, ".scope")
			if isID(id) {
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
	if c.ID == "" && len(elems) == 2 && ctrName(elems[0]) && ctrName(elems[1]) && !strings.HasSuffix(elems[0], ".slice") {
		// containerd with the cgroupfs driver: /<namespace>/<id>, which
		// any other cgroup may look like: a candidate only.
		return Container{Runtime: "containerd", Namespace: elems[0], ID: elems[1]}, true
	}
	if c.ID == "" {
		return c, false
	}
	for _, e := range elems[:len(elems)-1] {
		if u, ok := strings.CutPrefix(e, "user@"); ok {
			if u, ok = strings.CutSuffix(u, ".service"); ok && u != "" && strings.Trim(u, "0123456789") == "" {
				c.Owner = u // a user's delegated cgroups: theirs to name
			}
		}
		if uid := podUID(e); uid != "" {
			c.PodUID = uid
		}
		if c.Runtime == "podman" {
			if id, ok := strings.CutPrefix(e, "machine-libpod_pod_"); ok {
				e = strings.TrimSuffix(id, ".slice") // systemd driver
			}
			if isID(e) {
				c.PodmanPod = e // cgroupfs: libpod_parent/<pod id>/libpod-<id>
			}
		}
	}
	return c, true
}

// ctrName: what containerd accepts as a namespace or container id: letters,
// digits, '.', '_', '-', starting with a letter or digit.
func ctrName(s string) bool {
	if s == "" || len(s) > 76 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !alnum(c) && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

// podUID finds a pod's UID in a kubepods path element: pod<uid> with the
// cgroupfs driver, kubepods-<qos>-pod<uid with _ for ->.slice with systemd's.
// A static pod's UID is the 32 hex digits of its manifest's hash.
func podUID(elem string) string {
	i := strings.LastIndex(elem, "pod")
	if i < 0 || !strings.HasPrefix(elem, "pod") && !strings.HasPrefix(elem, "kubepods") {
		return ""
	}
	uid := strings.TrimSuffix(elem[i+3:], ".slice")
	uid = strings.ReplaceAll(uid, "_", "-")
	switch {
	case len(uid) == 36 && strings.Count(uid, "-") == 4:
	case len(uid) == 32 && !strings.Contains(uid, "-"):
	default:
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

func alnum(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }

// Kinds start every label but an ip netns name's, and are words without a
// '-': a label's first word tells how to read the rest.
var kinds = map[string]int{ // kind: how many parts follow
	"host": 0, "netns": 1, "pin": 1, "pid": 2, "pod": 2, "podhost": 1,
	"docker": 1, "podman": 1, "podmanpod": 1, "containerd": 2, "nerdctl": 1, "crio": 1, "container": 2,
	// A rootless runtime's: the user's uid first.
	"dockeruser": 2, "podmanuser": 2, "podmanpoduser": 2, "nerdctluser": 2, "containeruser": 3,
}

// owned is a rootless container's name and label: the uid after the name,
// and first in the label, so that no user can take another's (root's
// containers' included).
func owned(owner, display, kind string, parts ...string) (string, string) {
	if owner == "" {
		return display, Label(kind, parts...)
	}
	return display + " (uid " + owner + ")", Label(kind+"user", append([]string{owner}, parts...)...)
}

// Label is the perfdata label of a namespace of this kind and identity:
// the kind and the parts joined by '-'. It is a function of them alone,
// never of the other namespaces, and two identities never share it: when a
// part is not already label-safe (only letters, digits and inner single
// '-'), or an inner part holds a '-' (which would blur where it ends), the
// label is cleaned and ends in "--" and a hash of the exact identity, which
// a plain label never holds. At most 64 bytes.
func Label(kind string, parts ...string) string {
	plain := true
	for i, p := range parts {
		if !safe(p) || i < len(parts)-1 && strings.Contains(p, "-") {
			plain = false
		}
	}
	l := strings.Join(append([]string{kind}, parts...), "-")
	if plain && len(l) <= 64 {
		return l
	}
	return hashed(clean(l), kind+"\x00"+strings.Join(parts, "\x00"))
}

// ipNetnsLabel is an ip netns name's label: the name itself where it is
// safe and does not start with a kind's word, else the kind netns's.
func ipNetnsLabel(name string) string {
	first, _, _ := strings.Cut(name, "-")
	if _, ok := kinds[first]; safe(name) && !ok && len(name) <= 64 {
		return name
	}
	return Label("netns", name)
}

// PerfName is the label of a namespace named on the command line (--netns
// NAME): that of the ip netns name.
func PerfName(s string) string { return ipNetnsLabel(s) }

// safe: only letters, digits and '-', no '-' at either end or twice in a
// row. Such a string is its own label.
func safe(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !alnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// clean keeps letters and digits, and one '-' for each run of anything else.
func clean(s string) string {
	b := make([]byte, 0, len(s))
	dash := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; alnum(c) {
			if dash && len(b) > 0 {
				b = append(b, '-')
			}
			b = append(b, c)
			dash = false
		} else {
			dash = true
		}
	}
	return string(b)
}

// hashed is the cleaned label, cut to fit, then "--" and 6 bytes of
// hex from the exact identity's SHA-256.
func hashed(cleaned, exact string) string {
	sum := sha256.Sum256([]byte(exact))
	h := hex.EncodeToString(sum[:3])
	cleaned = strings.TrimRight(cleaned[:min(len(cleaned), 64-2-len(h))], "-")
	if cleaned == "" {
		cleaned = "netns"
	}
	return cleaned + "--" + h
}

// generated tells a pin's name that a runtime made up (containerd's
// cni-<uuid>, netavark's netns-<uuid>, CRI-O's bare uuid) from one an admin
// chose.
func generated(name string) bool {
	for _, p := range []string{"cni-", "netns-"} {
		name = strings.TrimPrefix(name, p)
	}
	if len(name) != 36 {
		return false
	}
	for i, r := range name {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !isHex(r) {
				return false
			}
		}
	}
	return true
}
