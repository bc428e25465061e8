package netns

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Options say where to look: the proc file system, and where runtimes keep
// their state. Tests point them at fake trees.
type Options struct {
	Proc  string // "/proc"
	Roots Roots
	// Plain names containers by the ids in their cgroups alone, reading
	// no runtime's state: what the names cost is measured against it.
	Plain bool
}

// Roots are where runtimes keep the state the names are read from. Each is
// tried in turn; a runtime elsewhere (another data root, a private
// containerd) is still found through the process that runs its container
// (the shim's working directory, conmon's command line).
type Roots struct {
	IPNetns    []string // where ip netns pins: /run/netns
	Docker     []string // data roots: /var/lib/docker
	DockerConf string   // daemon.json, for a data-root set there
	Containerd []string // state dirs, holding io.containerd.runtime.v2.task/<ns>/<id>
	Podman     []string // storage roots, holding overlay-containers/containers.json
	PodLogs    string   // the kubelet's /var/log/pods/<namespace>_<name>_<uid>
}

// Defaults are the paths of the host.
func Defaults() Options {
	return Options{Proc: "/proc", Roots: Roots{
		IPNetns:    []string{"/run/netns", "/var/run/netns"},
		Docker:     []string{"/var/lib/docker"},
		DockerConf: "/etc/docker/daemon.json",
		Containerd: []string{"/run/containerd"},
		Podman:     []string{"/var/lib/containers/storage"},
		PodLogs:    "/var/log/pods",
	}}
}

// maxStateFile bounds what is read of one runtime file: a name is near the
// start of each, and a hostile or broken file must not cost more.
const maxStateFile = 4 << 20

func readSmall(path string) ([]byte, error) { return readFile(path, maxStateFile, true) }

// readFile reads a file of at most max bytes with plain system calls: no
// os.File, whose set-up (non-blocking mode, the poller) costs as much again
// as the small reads naming makes for each namespace. regular: a short
// read is the end (a runtime's state file), spared the read that returns
// 0; a /proc file may come a page at a time.
func readFile(path string, max int, regular bool) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	b := make([]byte, 0, 8<<10)
	for len(b) < max {
		if len(b) == cap(b) {
			b = slices.Grow(b, min(cap(b), max-len(b)))
		}
		n, err := unix.Read(fd, b[len(b):min(cap(b), max)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		short := len(b)+n < cap(b)
		b = b[:len(b)+n]
		if n == 0 || regular && short {
			break
		}
	}
	return b, nil
}

// readProc reads a small /proc file.
func readProc(path string) ([]byte, error) { return readFile(path, 1<<20, false) }

// namer reads names for one run of Discover, each source at most once.
type namer struct {
	Options
	podLogs     map[string][2]string // pod uid: namespace, name
	podLogsRead bool
	dockerRoots []string
	podman      map[string]string // container id: name, from the storages
	podmanInfra map[string]string // pod id's first 12 hex digits: the infra container's id
	podmanDir   map[string]string // container id: its storage root
	podmanRead  bool
}

// ociSpec is what is read of an OCI bundle's config.json.
type ociSpec struct {
	Hostname    string            `json:"hostname"`
	Annotations map[string]string `json:"annotations"`
	Mounts      []struct {
		Destination string `json:"destination"`
		Source      string `json:"source"`
	} `json:"mounts"`
}

func readSpec(dir string) (ociSpec, bool) {
	var s ociSpec
	b, err := readSmall(filepath.Join(dir, "config.json"))
	if err != nil {
		return s, false
	}
	v := topLevel(b, "hostname", "annotations", "mounts")
	for k, dst := range map[string]any{"hostname": &s.Hostname, "annotations": &s.Annotations, "mounts": &s.Mounts} {
		if raw, ok := v[k]; ok && json.Unmarshal(raw, dst) != nil {
			return s, false
		}
	}
	return s, true
}

// parent is what the process that started a container's first process
// tells: containerd's shim works in the task's bundle, conmon is given it
// and the container's name on its command line.
type parent struct {
	pid    int
	uid    uint32 // its owner: a shim or conmon of a user's is that user's to forge
	shim   bool   // a containerd shim
	conmon bool   // conmon (Podman, CRI-O)
	podman bool   // conmon started by podman
	bundle string // the OCI bundle directory
	name   string // conmon's -n
	id     string // conmon's -c
}

func (n *namer) parentOf(pid int) (parent, bool) {
	ppid := int(statField(n.Proc, pid, 4))
	if ppid <= 1 {
		return parent{}, false
	}
	p := parent{pid: ppid}
	dir := filepath.Join(n.Proc, strconv.Itoa(ppid))
	uid, ok := ownerOf(dir)
	if !ok {
		return p, false
	}
	p.uid = uid
	switch comm := readComm(dir); {
	case strings.HasPrefix(comm, "containerd-shim") && p.uid == 0:
		cwd, err := os.Readlink(filepath.Join(dir, "cwd"))
		if err != nil {
			return p, false
		}
		p.shim, p.bundle = true, cwd
	case comm == "conmon":
		b, err := readProc(filepath.Join(dir, "cmdline"))
		if err != nil {
			return p, false
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		p.conmon = true
		for i := 0; i+1 < len(args); i++ {
			switch args[i] {
			case "-b", "--bundle":
				p.bundle = args[i+1]
			case "-n", "--name":
				p.name = args[i+1]
			case "-c", "--cid":
				p.id = args[i+1]
			case "--exit-command":
				p.podman = filepath.Base(args[i+1]) == "podman"
			}
		}
	default:
		return p, false
	}
	return p, true
}

// ownerOf is the uid that owns a /proc/PID directory: the process's.
// Tests of fake trees replace it.
var ownerOf = func(dir string) (uint32, bool) {
	st, err := os.Stat(dir)
	if err != nil {
		return 0, false
	}
	s, ok := st.Sys().(*syscall.Stat_t)
	return s.Uid, ok
}

func readComm(dir string) string {
	b, err := readProc(filepath.Join(dir, "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}

// statField is field n (1-based, n > 2) of /proc/PID/stat, as a number;
// -1 when unread. The command, field 2, is in parentheses and may hold
// spaces: count from the last ')'.
func statField(proc string, pid, n int) int64 {
	b, err := readProc(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return -1
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < n-2 {
		return -1
	}
	v, err := strconv.ParseInt(f[n-3], 10, 64)
	if err != nil {
		return -1
	}
	return v
}

// pod is a Kubernetes pod's namespace and name by its UID: from the
// kubelet's log directory, listed once.
func (n *namer) pod(uid string) (ns, name, source string) {
	if !n.podLogsRead {
		n.podLogsRead = true
		n.podLogs = map[string][2]string{}
		entries, _ := os.ReadDir(n.Roots.PodLogs)
		for _, e := range entries {
			// namespace_name_uid: the first two are DNS names, without '_'.
			f := strings.Split(e.Name(), "_")
			if len(f) == 3 && f[0] != "" && f[1] != "" {
				n.podLogs[f[2]] = [2]string{f[0], f[1]}
			}
		}
	}
	if p, ok := n.podLogs[uid]; ok {
		return p[0], p[1], filepath.Join(n.Roots.PodLogs, p[0]+"_"+p[1]+"_"+uid)
	}
	// A static pod's UID in the cgroup path has no dashes; its log
	// directory's name may.
	if len(uid) == 32 {
		for u, p := range n.podLogs {
			if strings.ReplaceAll(u, "-", "") == uid {
				return p[0], p[1], filepath.Join(n.Roots.PodLogs, p[0]+"_"+p[1]+"_"+u)
			}
		}
	}
	return "", "", ""
}

// podFromSpec reads a pod's identity from the CRI annotations that
// containerd and CRI-O write into every container's bundle.
func podFromSpec(s ociSpec) (ns, name, uid, ctr string, ok bool) {
	a := s.Annotations
	for _, k := range [][4]string{
		{"io.kubernetes.cri.sandbox-namespace", "io.kubernetes.cri.sandbox-name", "io.kubernetes.cri.sandbox-uid", "io.kubernetes.cri.container-name"},
		{"io.kubernetes.pod.namespace", "io.kubernetes.pod.name", "io.kubernetes.pod.uid", "io.kubernetes.container.name"},
	} {
		if a[k[0]] != "" && a[k[1]] != "" {
			return a[k[0]], a[k[1]], a[k[2]], a[k[3]], true
		}
	}
	return "", "", "", "", false
}

// taskDir is containerd's bundle of a task: under a known state dir, else
// where the shim of one of pids works.
func (n *namer) taskDir(ns, id string, pids []int) string {
	for _, root := range n.Roots.Containerd {
		namespaces := []string{ns}
		if ns == "" { // any: nerdctl's systemd scope does not tell
			entries, _ := os.ReadDir(filepath.Join(root, "io.containerd.runtime.v2.task"))
			namespaces = namespaces[:0]
			for _, e := range entries {
				namespaces = append(namespaces, e.Name())
			}
		}
		for _, ns := range namespaces {
			d := filepath.Join(root, "io.containerd.runtime.v2.task", ns, id)
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				return d
			}
		}
	}
	for _, pid := range pids {
		if p, ok := n.parentOf(pid); ok && p.shim && filepath.Base(p.bundle) == id && (ns == "" || filepath.Base(filepath.Dir(p.bundle)) == ns) {
			return p.bundle
		}
	}
	return ""
}

// dockerContainer is what is read of Docker's config.v2.json.
type dockerContainer struct {
	Name       string
	HostConfig struct{ NetworkMode string }
}

// docker reads a container's name from its config.v2.json: under the data
// roots known, else under the one its bundle's /etc/hostname comes from.
func (n *namer) docker(id string, pids []int) (dockerContainer, string) {
	if n.dockerRoots == nil {
		n.dockerRoots = append([]string{}, n.Roots.Docker...)
		if b, err := readSmall(n.Roots.DockerConf); err == nil {
			var conf struct {
				DataRoot string `json:"data-root"`
			}
			if json.Unmarshal(b, &conf) == nil && conf.DataRoot != "" {
				n.dockerRoots = append([]string{conf.DataRoot}, n.dockerRoots...)
			}
		}
	}
	read := func(dir string) (dockerContainer, string, bool) {
		var c dockerContainer
		p := filepath.Join(dir, "config.v2.json")
		b, err := readSmall(p)
		if err != nil {
			return c, "", false
		}
		v := topLevel(b, "Name", "HostConfig")
		if json.Unmarshal(v["Name"], &c.Name) != nil || c.Name == "" {
			return c, "", false
		}
		if mode, ok := topLevel(v["HostConfig"], "NetworkMode")["NetworkMode"]; ok {
			json.Unmarshal(mode, &c.HostConfig.NetworkMode)
		}
		c.Name = strings.TrimPrefix(c.Name, "/")
		return c, p, true
	}
	for _, root := range n.dockerRoots {
		if c, p, ok := read(filepath.Join(root, "containers", id)); ok {
			return c, p
		}
	}
	if d := n.taskDir("moby", id, pids); d != "" {
		if s, ok := readSpec(d); ok {
			for _, m := range s.Mounts {
				if m.Destination == "/etc/hostname" && filepath.Base(filepath.Dir(m.Source)) == id {
					if c, p, ok := read(filepath.Dir(m.Source)); ok {
						// The data root, for the daemon's other
						// containers: no bundle to read for them.
						if root := filepath.Dir(filepath.Dir(filepath.Dir(m.Source))); !slices.Contains(n.dockerRoots, root) {
							n.dockerRoots = append([]string{root}, n.dockerRoots...)
						}
						return c, p
					}
				}
			}
		}
	}
	return dockerContainer{}, ""
}

// podmanStorage reads the storages' containers.json once: each container's
// name, and each pod's infra container (named <pod id's 12 digits>-infra).
func (n *namer) podmanStorage() {
	if n.podmanRead {
		return
	}
	n.podmanRead = true
	n.podman, n.podmanInfra, n.podmanDir = map[string]string{}, map[string]string{}, map[string]string{}
	for _, root := range n.Roots.Podman {
		b, err := readSmall(filepath.Join(root, "overlay-containers", "containers.json"))
		if err != nil {
			continue
		}
		var list []struct {
			ID    string   `json:"id"`
			Names []string `json:"names"`
		}
		if json.Unmarshal(b, &list) != nil {
			continue
		}
		for _, c := range list {
			if len(c.Names) == 0 || n.podman[c.ID] != "" {
				continue
			}
			n.podman[c.ID] = c.Names[0]
			n.podmanDir[c.ID] = root
			if pod, ok := strings.CutSuffix(c.Names[0], "-infra"); ok && len(pod) == 12 {
				n.podmanInfra[pod] = c.ID
			}
		}
	}
}

// topLevel returns the raw JSON values of the wanted keys of the object
// that b holds, in one pass that decodes nothing else: a runtime's state
// file is mostly what the name does not need (a bundle's config.json is
// 10 KB of process, mounts and seccomp). Keys are compared as written; the
// last of a repeated key wins, as with encoding/json.
func topLevel(b []byte, keys ...string) map[string][]byte {
	out := map[string][]byte{}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return out
	}
	i++
	for {
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
		if i >= len(b) || b[i] != '"' {
			return out // '}', or not JSON
		}
		end := endString(b, i)
		if end < 0 {
			return out
		}
		key := string(b[i+1 : end-1])
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return out
		}
		i = skipSpace(b, i+1)
		end = endValue(b, i)
		if end < 0 {
			return out
		}
		for _, k := range keys {
			if k == key {
				out[key] = b[i:end]
			}
		}
		i = end
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// endString is the index after the string that starts at b[i] ('"').
func endString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// endValue is the index after the value that starts at b[i].
func endValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return endString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e := endString(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
		j++
	}
	return j
}
