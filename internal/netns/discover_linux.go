package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// List is what Discover found.
type List struct {
	Namespaces []Namespace // the checker's own first
	// Processes whose namespace could not be read: another user namespace's
	// (EACCES even for root there), or another user's without CAP_SYS_PTRACE.
	Unreadable    int
	UnreadableErr error
}

// NamedDirs are where names for namespaces live: ip netns's, and Docker's.
// Read only when the mount table cannot be: every pin is a mount.
var NamedDirs = []string{"/run/netns", "/var/run/netns", "/run/docker/netns", "/var/run/docker/netns"}

// nsType tells a namespace file's type (CLONE_NEWNET for a network
// namespace) with the NS_GET_NSTYPE ioctl. Tests of fake trees replace it.
var nsType = func(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	return unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
}

// Discover finds every network namespace that a process is in or that a
// bind mount pins (the mount table's nsfs files: ip netns, unshare
// --net=FILE, a runtime's pin), each once, by its inode, and names it.
func Discover(o Options) (List, error) {
	var l List
	proc := o.Proc
	var self unix.Stat_t
	if err := unix.Stat(filepath.Join(proc, "self/ns/net"), &self); err != nil {
		return l, fmt.Errorf("%s/self/ns/net: %w", proc, err)
	}
	byInode := map[uint64]*Namespace{self.Ino: {Inode: self.Ino, Self: true}}
	order := []uint64{self.Ino}
	add := func(ino uint64) *Namespace {
		ns := byInode[ino]
		if ns == nil {
			ns = &Namespace{Inode: ino}
			byInode[ino] = ns
			order = append(order, ino)
		}
		return ns
	}
	dir, err := os.Open(proc)
	if err != nil {
		return l, err
	}
	defer dir.Close()
	for {
		names, err := dir.Readdirnames(1024)
		for _, name := range names {
			pid, err := strconv.Atoi(name)
			if err != nil || pid <= 0 {
				continue
			}
			var st unix.Stat_t
			switch err := unix.Stat(filepath.Join(proc, name, "ns/net"), &st); {
			case err == nil:
				ns := add(st.Ino)
				ns.Pids = append(ns.Pids, pid)
			case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ESRCH):
				// ended meanwhile
			default:
				l.Unreadable++
				l.UnreadableErr = err
			}
		}
		if err != nil {
			break // io.EOF, or a /proc that stopped answering: what was read stands
		}
	}
	for _, p := range pins(proc) {
		var st unix.Stat_t
		// A file left behind without its mount is no namespace: nsfs
		// inodes live on the device of our own. Nor is a pin of another
		// type of namespace (a UTS namespace bound in /run/netns).
		if unix.Stat(p, &st) != nil || st.Dev != self.Dev {
			continue
		}
		if t, err := nsType(p); err != nil || t != unix.CLONE_NEWNET {
			continue
		}
		ns := add(st.Ino)
		if !slices.Contains(ns.Named, p) {
			ns.Named = append(ns.Named, p)
		}
	}
	for _, ino := range order {
		l.Namespaces = append(l.Namespaces, *byInode[ino])
	}
	name(o, l.Namespaces)
	return l, nil
}

// pins are the paths of the nsfs files bound somewhere: from the mount
// table, else the files in NamedDirs.
func pins(proc string) []string {
	if b, err := readFile(filepath.Join(proc, "self/mountinfo"), 64<<20, false); err == nil {
		return nsfsMounts(string(b))
	}
	var paths []string
	for _, d := range NamedDirs {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			paths = append(paths, filepath.Join(d, e.Name()))
		}
	}
	return paths
}

// name gives each namespace its Name, Perf and ID: host; the name an admin
// gave it with ip netns; its pod or container by the name the runtime gave
// it; its container by id; the name of a runtime's pin; the oldest process
// inside. Names are unique: where two identities read the same (two
// Docker daemons' web), the namespace's inode is added to both.
func name(o Options, list []Namespace) {
	n := &namer{Options: o}
	var pods []int // indexes of namespaces whose pod hostname is to be read
	for i := range list {
		ns := &list[i]
		if ns.Self {
			ns.Name, ns.Perf, ns.ID.Source = "host", "host", "the checker's own"
			continue
		}
		found := n.containers(ns.Pids)
		named := !o.Plain && n.identify(ns, found)
		if p := n.ipNetnsName(ns.Named, false); p != "" {
			ns.Name, ns.Perf = ipNetnsDisplay(filepath.Base(p)), ipNetnsLabel(filepath.Base(p))
			ns.ID.Source = "ip netns " + p
			continue
		}
		switch {
		case named:
		case ns.ID.PodUID != "":
			pods = append(pods, i) // the pod's hostname, below
			ns.Name, ns.Perf = "pod uid "+ns.ID.PodUID, Label("podhost", "uid-"+ns.ID.PodUID)
		case len(found) > 0:
			c := found[0].c
			id := c.ID[:min(len(c.ID), 12)]
			ns.Name, ns.Perf = owned(c.Owner, c.Short(), "container", strings.ReplaceAll(c.Runtime, "-", ""), id)
			ns.ID.Source = fmt.Sprintf("the cgroup of pid %d", found[0].pids[0])
			if !o.Plain {
				ns.ID.Source += " (no name of the runtime's was readable)"
			}
		case len(ns.Named) > 0:
			if p := n.ipNetnsName(ns.Named, true); p != "" {
				ns.Name, ns.Perf = "netns "+filepath.Base(p), Label("netns", filepath.Base(p))
				ns.ID.Source = "ip netns " + p
			} else {
				p := ns.Named[0]
				ns.Name, ns.Perf, ns.ID.Source = "netns "+p, Label("pin", p), "pinned at "+p
			}
		default:
			sortByAge(o.Proc, ns.Pids)
			if len(ns.Pids) > 0 {
				pid := ns.Pids[0]
				comm := comm(o.Proc, pid)
				ns.Name, ns.Perf = fmt.Sprintf("pid %d (%s)", pid, comm), Label("pid", strconv.Itoa(pid), comm)
				ns.ID.Source = "the oldest process inside"
			}
		}
	}
	podNames(o.Proc, list, pods)
	count := map[string]int{}
	for i := range list {
		count[list[i].Name]++
	}
	for i := range list {
		if ns := &list[i]; count[ns.Name] > 1 {
			ns.Name += fmt.Sprintf(" (netns %d)", ns.Inode)
			ns.Perf = hashed(ns.Perf, ns.Perf+"\x00"+strconv.FormatUint(ns.Inode, 10))
		}
	}
}

// ipNetnsName is the pin that `ip netns add` made (a file under
// /run/netns) with a name an admin chose, or, with generated, any.
func (n *namer) ipNetnsName(named []string, generatedToo bool) string {
	for _, p := range named {
		if d := filepath.Dir(p); slices.Contains(n.Roots.IPNetns, d) && (generatedToo || !generated(filepath.Base(p))) {
			return p
		}
	}
	return ""
}

// ipNetnsDisplay shows an ip netns name as it is, but where it could be
// taken for another namespace's name (host, or words with a space as the
// runtimes' names have), after "netns ".
func ipNetnsDisplay(name string) string {
	if name == "host" || strings.ContainsAny(name, " \t") || name == "" {
		return "netns " + name
	}
	return name
}

// seen is a container seen among a namespace's processes.
type seen struct {
	c    Container
	pids []int // its processes, the first few
}

// containers reads the cgroups of the namespace's first processes and
// returns the containers they name; a process in no cgroup a runtime marks
// is asked for its parent (rootless Podman on cgroup v1 has none of its
// own). containerd's bare /<namespace>/<id> counts only where that task
// exists.
func (n *namer) containers(pids []int) []seen {
	var found []seen
	loose := 0
	for i, pid := range pids {
		if i == 64 || i >= 16 && len(found) > 0 {
			break // a namespace of many processes that name none is no container's
		}
		b, err := readProc(filepath.Join(n.Proc, strconv.Itoa(pid), "cgroup"))
		if err != nil {
			continue
		}
		c, ok := ParseCgroup(string(b))
		if ok && c.Namespace != "" && (n.Plain || n.taskDir(c.Namespace, c.ID, []int{pid}) == "") {
			ok = false
		}
		if !ok && loose < 4 && !n.Plain {
			loose++
			if p, isParent := n.parentOf(pid); isParent {
				switch {
				case p.conmon && p.id != "":
					rt := "cri-o"
					if p.podman {
						rt = "podman"
					}
					c, ok = Container{Runtime: rt, ID: p.id}, true
					if p.uid != 0 {
						c.Owner = strconv.FormatUint(uint64(p.uid), 10)
					}
				case p.shim:
					c, ok = Container{Runtime: "containerd", Namespace: filepath.Base(filepath.Dir(p.bundle)), ID: filepath.Base(p.bundle)}, true
				}
			}
		}
		if !ok {
			continue
		}
		j := slices.IndexFunc(found, func(s seen) bool { return s.c.ID == c.ID })
		if j < 0 {
			found = append(found, seen{c: c})
			j = len(found) - 1
		}
		if len(found[j].pids) < 4 {
			found[j].pids = append(found[j].pids, pid)
		}
	}
	return found
}

// identify fills ns.ID from the containers found and, where a runtime's
// state names them, the namespace's Name and Perf; false when none did.
func (n *namer) identify(ns *Namespace, found []seen) bool {
	if len(found) == 0 {
		return false
	}
	id := &ns.ID
	id.Runtime = found[0].c.Runtime
	for _, s := range found {
		id.ContainerIDs = append(id.ContainerIDs, s.c.ID)
		if s.c.PodUID != "" && id.PodUID == "" {
			id.PodUID = s.c.PodUID
		}
	}
	// A Kubernetes pod: by the kubelet's log directory, else the CRI
	// annotations of a container's bundle.
	if id.PodUID != "" {
		if pns, pod, src := n.pod(id.PodUID); src != "" {
			id.PodNamespace, id.Pod, id.Source = pns, pod, src
		}
	}
	for _, s := range found {
		if id.Pod != "" {
			break
		}
		if dir := n.bundle(s); dir != "" {
			if spec, ok := readSpec(dir); ok {
				if pns, pod, uid, ctr, ok := podFromSpec(spec); ok {
					id.PodNamespace, id.Pod, id.Container = pns, pod, ctr
					if uid != "" {
						id.PodUID = uid
					}
					id.Source = "CRI annotations in " + filepath.Join(dir, "config.json")
				}
			}
		}
	}
	if id.Pod != "" {
		if id.Runtime == "container" {
			id.Runtime = "kubernetes"
		}
		ns.Name, ns.Perf = "pod "+id.PodNamespace+"/"+id.Pod, Label("pod", id.PodNamespace, id.Pod)
		return true
	}
	for _, s := range found {
		switch s.c.Runtime {
		case "docker":
			// The namespace's owner names it, not a container that joined
			// it (--network container:<owner>).
			c, src := n.docker(s.c.ID, s.pids)
			if src == "" || strings.HasPrefix(c.HostConfig.NetworkMode, "container:") && s.c.ID != found[len(found)-1].c.ID {
				continue
			}
			id.Runtime, id.Container, id.Source = "docker", c.Name, src
			ns.Name, ns.Perf = owned(s.c.Owner, "docker "+c.Name, "docker", c.Name)
			return true
		case "podman":
			if n.podmanName(ns, s) {
				return true
			}
		case "containerd", "nerdctl":
			dir := n.bundle(s)
			if dir == "" {
				continue
			}
			id.Runtime = s.c.Runtime
			if spec, ok := readSpec(dir); ok && spec.Annotations["nerdctl/name"] != "" {
				id.Runtime, id.Container, id.Source = "nerdctl", spec.Annotations["nerdctl/name"], "annotations in "+filepath.Join(dir, "config.json")
				ns.Name, ns.Perf = owned(s.c.Owner, "nerdctl "+id.Container, "nerdctl", id.Container)
				return true
			}
			if s.c.Owner != "" {
				continue // a user's containerd: shown by id, with the uid
			}
			cns := filepath.Base(filepath.Dir(dir))
			id.Container, id.Source = s.c.ID, "containerd task "+dir
			ns.Name, ns.Perf = "containerd "+cns+"/"+s.c.ID, Label("containerd", cns, s.c.ID)
			return true
		}
	}
	return false
}

// bundle is the OCI bundle directory of a container: containerd's task
// (its namespace from the cgroup, k8s.io for the CRI, or any the shim is
// in), or what conmon was given.
func (n *namer) bundle(s seen) string {
	switch s.c.Runtime {
	case "containerd", "container", "nerdctl":
		if s.c.Namespace != "" {
			return n.taskDir(s.c.Namespace, s.c.ID, s.pids)
		}
		if d := n.taskDir("k8s.io", s.c.ID, nil); d != "" {
			return d
		}
		return n.taskDir("", s.c.ID, s.pids)
	case "cri-o", "podman":
		for _, pid := range s.pids {
			if p, ok := n.parentOf(pid); ok && p.conmon {
				return p.bundle
			}
		}
	}
	return ""
}

// podmanName names a Podman container's namespace: its pod, by the
// hostname the infra container was given (the pod's name, unless the pod
// was made with another --hostname), else the container, by the storage's
// containers.json or conmon's command line.
func (n *namer) podmanName(ns *Namespace, s seen) bool {
	id := &ns.ID
	n.podmanStorage()
	name, src := n.podman[s.c.ID], ""
	if name != "" {
		src = filepath.Join(n.podmanDir[s.c.ID], "overlay-containers", "containers.json")
	}
	var conmon parent
	for _, pid := range s.pids {
		if p, ok := n.parentOf(pid); ok && p.conmon {
			conmon = p
			break
		}
	}
	if name == "" && conmon.name != "" {
		name, src = conmon.name, fmt.Sprintf("conmon's command line (pid %d)", conmon.pid)
	}
	// The pod: its infra container's bundle, found by the pod's id (the
	// cgroup) or by the sandbox a member's bundle names.
	var infra string
	if s.c.PodmanPod != "" {
		if i := n.podmanInfra[s.c.PodmanPod[:12]]; i != "" {
			infra = filepath.Join(n.podmanDir[i], "overlay-containers", i, "userdata")
		}
	}
	if infra == "" && conmon.bundle != "" {
		if spec, ok := readSpec(conmon.bundle); ok {
			if sb := spec.Annotations["io.kubernetes.cri-o.SandboxID"]; isID(sb) {
				infra = filepath.Join(filepath.Dir(filepath.Dir(conmon.bundle)), sb, "userdata")
			} else if strings.HasSuffix(name, "-infra") {
				infra = conmon.bundle
			}
		}
	}
	if infra != "" {
		if spec, ok := readSpec(infra); ok && spec.Hostname != "" {
			id.Runtime, id.Pod, id.Container, id.Source = "podman", spec.Hostname, name, "the hostname in "+filepath.Join(infra, "config.json")
			ns.Name, ns.Perf = owned(s.c.Owner, "podman pod "+spec.Hostname, "podmanpod", spec.Hostname)
			return true
		}
	}
	if name == "" {
		return false
	}
	id.Runtime, id.Container, id.Source = "podman", name, src
	ns.Name, ns.Perf = owned(s.c.Owner, "podman "+name, "podman", name)
	return true
}

// sortByAge sorts pids oldest first, by their start time (/proc/PID/stat's
// 22nd field, in clock ticks since boot); pids that ended go last.
func sortByAge(proc string, pids []int) {
	if len(pids) < 2 {
		return
	}
	start := make(map[int]uint64, len(pids))
	for _, pid := range pids {
		start[pid] = uint64(statField(proc, pid, 22)) // -1, unread: last
	}
	sort.SliceStable(pids, func(i, j int) bool {
		a, b := start[pids[i]], start[pids[j]]
		if a != b {
			return a < b
		}
		return pids[i] < pids[j]
	})
}

func comm(proc string, pid int) string {
	b, err := readProc(filepath.Join(proc, strconv.Itoa(pid), "comm"))
	if err != nil {
		return "ended"
	}
	return strings.TrimSpace(string(b))
}
