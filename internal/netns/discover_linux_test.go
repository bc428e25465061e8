package netns

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeHost is a /proc tree and the runtimes' state in a temporary
// directory: a namespace is a file (its inode the namespace's), a process
// a directory whose ns/net is a hard link to it; a pin is another hard link
// listed in self/mountinfo. Discover reads it as it reads the host's, as
// any user, in milliseconds.
type fakeHost struct {
	t     testing.TB
	root  string
	o     Options
	mount strings.Builder
	next  int
}

func newFakeHost(t testing.TB) *fakeHost {
	t.Helper()
	root := t.TempDir()
	h := &fakeHost{t: t, root: root, next: 100}
	h.o = Options{Proc: h.path("proc"), Roots: Roots{
		IPNetns:    []string{h.path("run/netns")},
		Docker:     []string{h.path("var/lib/docker")},
		DockerConf: h.path("etc/docker/daemon.json"),
		Containerd: []string{h.path("run/containerd")},
		Podman:     []string{h.path("var/lib/containers/storage")},
		PodLogs:    h.path("var/log/pods"),
	}}
	h.netns("host", "net")
	h.link("ns/host", "proc/self/ns/net")
	// The type of a namespace file, as NS_GET_NSTYPE tells it: here its
	// content.
	old := nsType
	nsType = func(path string) (int, error) {
		b, err := os.ReadFile(path)
		switch strings.TrimSpace(string(b)) {
		case "net":
			return unix.CLONE_NEWNET, err
		case "uts":
			return unix.CLONE_NEWUTS, err
		}
		return 0, unix.ENOTTY
	}
	// The owner of a process: its file "uid", else root.
	oldOwner := ownerOf
	ownerOf = func(dir string) (uint32, bool) {
		if _, err := os.Stat(dir); err != nil {
			return 0, false
		}
		b, _ := os.ReadFile(filepath.Join(dir, "uid"))
		uid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return uint32(uid), true
	}
	t.Cleanup(func() { nsType, ownerOf = old, oldOwner })
	return h
}

func (h *fakeHost) path(rel string) string { return filepath.Join(h.root, rel) }

func (h *fakeHost) write(rel, content string) string {
	h.t.Helper()
	p := h.path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *fakeHost) link(from, to string) {
	h.t.Helper()
	if err := os.MkdirAll(filepath.Dir(h.path(to)), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Link(h.path(from), h.path(to)); err != nil {
		h.t.Fatal(err)
	}
}

// netns makes a namespace of the type given; it returns its inode.
func (h *fakeHost) netns(name, typ string) uint64 {
	p := h.write("ns/"+name, typ+"\n")
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		h.t.Fatal(err)
	}
	return st.Ino
}

// proc makes a process in namespace ns (a name netns made) with a cgroup
// file, its parent and its start time; it returns its pid.
func (h *fakeHost) proc(ns, comm, cgroup string, ppid, start int) int {
	h.next++
	pid := h.next
	d := fmt.Sprintf("proc/%d/", pid)
	h.link("ns/"+ns, d+"ns/net")
	h.write(d+"comm", comm+"\n")
	h.write(d+"cgroup", cgroup)
	// Fields 3 on after the command; the 22nd is the start time.
	rest := fmt.Sprintf("S %d", ppid) + strings.Repeat(" 0", 17) + fmt.Sprintf(" %d 0 0", start)
	h.write(d+"stat", fmt.Sprintf("%d (%s) %s\n", pid, comm, rest))
	return pid
}

// pin binds namespace ns at rel, as ip netns add or unshare --net=FILE
// would: a hard link, and a line in the mount table (root as the kernel
// writes it, or "/" as old kernels did).
func (h *fakeHost) pin(ns, rel, root string) string {
	h.link("ns/"+ns, rel)
	h.next++
	p := h.path(rel)
	fmt.Fprintf(&h.mount, "%d 1 0:4 %s %s rw shared:2 - nsfs nsfs rw\n", h.next, root, strings.ReplaceAll(p, " ", `\040`))
	return p
}

// shim makes a containerd shim working in the bundle, the parent of
// processes made after.
func (h *fakeHost) shim(bundle string) int {
	pid := h.proc("host", "containerd-shim", "0::/\n", 1, 1)
	if err := os.Symlink(bundle, h.path(fmt.Sprintf("proc/%d/cwd", pid))); err != nil {
		h.t.Fatal(err)
	}
	return pid
}

// conmon makes a conmon with these arguments, the parent of processes
// made after.
func (h *fakeHost) conmon(args ...string) int {
	pid := h.proc("host", "conmon", "0::/\n", 1, 1)
	h.write(fmt.Sprintf("proc/%d/cmdline", pid), strings.Join(append([]string{"/usr/bin/conmon"}, args...), "\x00")+"\x00")
	return pid
}

func (h *fakeHost) discover() map[uint64]Namespace {
	h.t.Helper()
	h.write("proc/self/mountinfo", "22 1 0:21 / /proc rw - proc proc rw\n"+h.mount.String())
	l, err := Discover(h.o)
	if err != nil {
		h.t.Fatal(err)
	}
	got := map[uint64]Namespace{}
	names, labels := map[string]bool{}, map[string]bool{}
	for _, ns := range l.Namespaces {
		if _, dup := got[ns.Inode]; dup {
			h.t.Errorf("namespace %d found twice", ns.Inode)
		}
		if names[ns.Name] || labels[ns.Perf] {
			h.t.Errorf("the name %q or the label %q is another namespace's too", ns.Name, ns.Perf)
		}
		names[ns.Name], labels[ns.Perf] = true, true
		got[ns.Inode] = ns
	}
	return got
}

func hexID(b string) string { return strings.Repeat(b, 64/len(b)) }

const (
	uidShop = "1b2c3d4e-0000-4111-8222-123456789abc"
	uidProd = "9f8e7d6c-0000-4111-8222-123456789abc"
)

func TestDiscoverNames(t *testing.T) {
	h := newFakeHost(t)
	type want struct{ name, perf, source string }
	wants := map[uint64]want{}
	expect := func(ino uint64, name, perf, source string) { wants[ino] = want{name, perf, source} }

	// ip netns: an admin's name names its namespace, even one called host.
	blue := h.netns("blue", "net")
	h.pin("blue", "run/netns/blue", "net:[1]")
	h.proc("blue", "sleep", "0::/\n", 1, 5)
	expect(blue, "blue", "blue", "ip netns "+h.path("run/netns/blue"))
	fakeHostNs := h.netns("iphost", "net")
	h.pin("iphost", "run/netns/host", "net:[2]")
	expect(fakeHostNs, "netns host", "netns-host", "ip netns")

	// Pinned anywhere, without a process: found by the mount table.
	file := h.netns("file", "net")
	p := h.pin("file", "tmp/some dir/pin", "net:[3]")
	expect(file, "netns "+p, "", "pinned at "+p)

	// A UTS namespace bound in /run/netns is no network namespace, even
	// where the mount table's root does not tell (old kernels).
	h.netns("uts", "uts")
	h.pin("uts", "run/netns/uts", "/")
	// A file left in /run/netns without its mount is none either.
	h.netns("stale", "net")
	h.link("ns/stale", "run/netns/stale")

	// Docker: the name in config.v2.json, before the pin Docker made.
	web := h.netns("docker-web", "net")
	h.write("var/lib/docker/containers/"+hexID("d0")+"/config.v2.json", `{"Config":{"Labels":{"Name":"/forged"}},"Name":"/rc-dk-web","HostConfig":{"NetworkMode":"bridge"}}`)
	h.pin("docker-web", "run/docker/netns/0123456789ab", "net:[4]")
	h.proc("docker-web", "holder", "12:pids:/docker/"+hexID("d0")+"\n0::/\n", 1, 10)
	expect(web, "docker rc-dk-web", "docker-rc-dk-web", h.path("var/lib/docker/containers/"+hexID("d0")+"/config.v2.json"))

	// Docker, --network container:<owner>: the owner names it, though the
	// joiner's process comes first.
	joint := h.netns("docker-joint", "net")
	h.write("var/lib/docker/containers/"+hexID("d1")+"/config.v2.json", `{"Name":"/rc-dk-owner","HostConfig":{"NetworkMode":"bridge"}}`)
	h.write("var/lib/docker/containers/"+hexID("d2")+"/config.v2.json", `{"Name":"/rc-dk-joiner","HostConfig":{"NetworkMode":"container:`+hexID("d1")+`"}}`)
	h.proc("docker-joint", "joiner", "0::/system.slice/docker-"+hexID("d2")+".scope\n", 1, 12)
	h.proc("docker-joint", "owner", "0::/system.slice/docker-"+hexID("d1")+".scope\n", 1, 11)
	expect(joint, "docker rc-dk-owner", "docker-rc-dk-owner", "config.v2.json")

	// Docker with its data root elsewhere: daemon.json tells it.
	moved := h.netns("docker-moved", "net")
	h.write("etc/docker/daemon.json", `{"data-root": "`+h.path("srv/docker")+`"}`)
	h.write("srv/docker/containers/"+hexID("d3")+"/config.v2.json", `{"Name":"/rc-dk-moved"}`)
	h.proc("docker-moved", "holder", "0::/docker/"+hexID("d3")+"\n", 1, 13)
	expect(moved, "docker rc-dk-moved", "docker-rc-dk-moved", h.path("srv/docker/containers"))

	// Docker with a data root nobody told: the bundle's /etc/hostname
	// mount leads there, through the shim's working directory.
	hidden := h.netns("docker-hidden", "net")
	h.write("opt/dk/containers/"+hexID("d4")+"/config.v2.json", `{"Name":"/rc-dk-hidden"}`)
	bundle := h.path("opt/dk-exec/containerd/daemon/io.containerd.runtime.v2.task/moby/" + hexID("d4"))
	h.write("opt/dk-exec/containerd/daemon/io.containerd.runtime.v2.task/moby/"+hexID("d4")+"/config.json",
		`{"mounts":[{"destination":"/etc/hostname","source":"`+h.path("opt/dk/containers/"+hexID("d4")+"/hostname")+`"}]}`)
	shim := h.shim(bundle)
	h.proc("docker-hidden", "holder", "0::/docker/"+hexID("d4")+"\n", shim, 14)
	expect(hidden, "docker rc-dk-hidden", "docker-rc-dk-hidden", h.path("opt/dk/containers"))

	// Docker, its config unreadable: today's rule, the id.
	noConf := h.netns("docker-noconf", "net")
	h.proc("docker-noconf", "holder", "0::/docker/"+hexID("d5")+"\n", 1, 15)
	expect(noConf, "docker d5d5d5d5d5d5", "container-docker-d5d5d5d5d5d5", "the cgroup of pid")

	// Kubernetes: two pods postgres-0 in two namespaces, named by the
	// kubelet's log directories, before containerd's cni-<uuid> pins.
	shop := h.netns("pod-shop", "net")
	prod := h.netns("pod-prod", "net")
	h.write("var/log/pods/shop_postgres-0_"+uidShop+"/postgres/0.log", "")
	h.write("var/log/pods/prod_postgres-0_"+uidProd+"/postgres/0.log", "")
	h.pin("pod-shop", "run/netns/cni-fe9f02b4-2c8c-4a5d-9a1b-0123456789ab", "net:[5]")
	h.pin("pod-prod", "run/netns/cni-fe9f02b4-2c8c-4a5d-9a1b-0123456789ac", "net:[6]")
	h.proc("pod-shop", "pause", "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"+strings.ReplaceAll(uidShop, "-", "_")+".slice/cri-containerd-"+hexID("e0")+".scope\n", 1, 20)
	h.proc("pod-prod", "pause", "4:memory:/kubepods/besteffort/pod"+uidProd+"/"+hexID("e1")+"\n0::/\n", 1, 21)
	expect(shop, "pod shop/postgres-0", "pod-shop-postgres-0", h.path("var/log/pods/shop_postgres-0_"+uidShop))
	expect(prod, "pod prod/postgres-0", "pod-prod-postgres-0", h.path("var/log/pods/prod_postgres-0_"+uidProd))

	// A static pod: its UID 32 hex digits.
	static := h.netns("pod-static", "net")
	h.write("var/log/pods/prod_db-rc-node_0123456789abcdef0123456789abcdef/db/0.log", "")
	h.proc("pod-static", "db", "4:memory:/kubepods/burstable/pod0123456789abcdef0123456789abcdef/"+hexID("e2")+"\n", 1, 22)
	expect(static, "pod prod/db-rc-node", "pod-prod-db-rc-node", "prod_db-rc-node_")

	// A pod without a log directory (crictl runp): containerd's CRI
	// annotations in the task's bundle.
	cri := h.netns("pod-cri", "net")
	h.write("run/containerd/io.containerd.runtime.v2.task/k8s.io/"+hexID("e3")+"/config.json",
		`{"annotations":{"io.kubernetes.cri.sandbox-namespace":"staging","io.kubernetes.cri.sandbox-name":"cache-0","io.kubernetes.cri.sandbox-uid":"`+uidShop+`x"}}`)
	h.proc("pod-cri", "pause", "0::/kubepods/besteffort/pod2b2c3d4e-0000-4111-8222-123456789abc/"+hexID("e3")+"\n", 1, 23)
	expect(cri, "pod staging/cache-0", "pod-staging-cache-0", "CRI annotations in "+h.path("run/containerd"))

	// CRI-O: conmon holds the bundle, its annotations the pod; the pin a
	// bare uuid.
	crio := h.netns("pod-crio", "net")
	h.write("run/containers/storage/overlay-containers/"+hexID("c0")+"/userdata/config.json",
		`{"annotations":{"io.kubernetes.pod.namespace":"web","io.kubernetes.pod.name":"front-1","io.kubernetes.pod.uid":"u"}}`)
	cm := h.conmon("-c", hexID("c0"), "-b", h.path("run/containers/storage/overlay-containers/"+hexID("c0")+"/userdata"), "-n", "k8s_POD_front-1")
	h.pin("pod-crio", "run/netns/fe9f02b4-2c8c-4a5d-9a1b-0123456789ad", "net:[7]")
	h.proc("pod-crio", "pause", "0::/kubepods/besteffort/pod3b2c3d4e-0000-4111-8222-123456789abc/crio-"+hexID("c0")+"\n", cm, 24)
	expect(crio, "pod web/front-1", "pod-web-front-1", "CRI annotations")

	// A pod no source names: by its UID (its hostname, read by entering
	// its UTS namespace, is not there to read in a fake tree).
	anon := h.netns("pod-anon", "net")
	h.proc("pod-anon", "pause", "0::/kubepods/pod4b2c3d4e-0000-4111-8222-123456789abc/"+hexID("e4")+"\n", 1, 25)
	expect(anon, "pod uid 4b2c3d4e-0000-4111-8222-123456789abc", "", "")

	// Podman rootful, cgroupfs: containers.json names it, before the
	// netns-<uuid> pin netavark made.
	pm := h.netns("podman-web", "net")
	h.write("var/lib/containers/storage/overlay-containers/containers.json",
		`[{"id":"`+hexID("a0")+`","names":["rc-pm-web"]},{"id":"`+hexID("a1")+`","names":["fedcba987654-infra"]},{"id":"`+hexID("a2")+`","names":["rc-pm-member"]}]`)
	h.pin("podman-web", "run/netns/netns-59fc6b8b-9ae4-9da6-dddc-084d0fb0a8ad", "net:[8]")
	h.proc("podman-web", "holder", "9:name=systemd:/libpod_parent/libpod-"+hexID("a0")+"\n", 1, 30)
	expect(pm, "podman rc-pm-web", "podman-rc-pm-web", "containers.json")

	// A Podman pod: the infra container's hostname is the pod's name.
	pod := hexID("fedcba9876543210")
	pmPod := h.netns("podman-pod", "net")
	h.write("var/lib/containers/storage/overlay-containers/"+hexID("a1")+"/userdata/config.json", `{"hostname":"rc-pm-pod"}`)
	h.proc("podman-pod", "catatonit", "9:pids:/libpod_parent/"+pod+"/libpod-"+hexID("a1")+"\n", 1, 31)
	h.proc("podman-pod", "holder", "9:pids:/libpod_parent/"+pod+"/libpod-"+hexID("a2")+"\n", 1, 32)
	expect(pmPod, "podman pod rc-pm-pod", "podmanpod-rc-pm-pod", "the hostname in")

	// Podman rootless on cgroup v1: no cgroup of its own; conmon, the
	// parent, names it.
	rl := h.netns("podman-rootless", "net")
	rlConmon := h.conmon("--api-version", "1", "-c", hexID("b0"), "-u", hexID("b0"), "-n", "rc-rl-web", "--exit-command", "/usr/bin/podman")
	h.write(fmt.Sprintf("proc/%d/uid", rlConmon), "1000\n")
	h.pin("podman-rootless", "run/user/1000/netns/netns-69fc6b8b-9ae4-9da6-dddc-084d0fb0a8ad", "net:[9]")
	h.proc("podman-rootless", "holder", "1:name=systemd:/user.slice/user-1000.slice/session-3.scope\n0::/user.slice/user-1000.slice/session-3.scope\n", rlConmon, 33)
	expect(rl, "podman rc-rl-web (uid 1000)", "podmanuser-1000-rc-rl-web", "conmon's command line")

	// A user cannot pass their namespace off as root's container: their
	// own conmon or shim names it with their uid, or not at all.
	forged := h.netns("forged", "net")
	fakeConmon := h.conmon("-c", hexID("b1"), "-n", "rc-pm-web", "--exit-command", "/usr/bin/podman")
	h.write(fmt.Sprintf("proc/%d/uid", fakeConmon), "1001\n")
	h.proc("forged", "holder", "0::/user.slice/user-1001.slice/session-4.scope\n", fakeConmon, 34)
	expect(forged, "podman rc-pm-web (uid 1001)", "podmanuser-1001-rc-pm-web", "conmon's command line")
	forgedShim := h.netns("forged-shim", "net")
	h.write("home/u/io.containerd.runtime.v2.task/rc/rc-ctr-web/config.json", `{}`)
	userShim := h.shim(h.path("home/u/io.containerd.runtime.v2.task/rc/rc-ctr-web"))
	h.write(fmt.Sprintf("proc/%d/uid", userShim), "1001\n")
	shimmed := h.proc("forged-shim", "holder", "0::/user.slice/user-1001.slice/session-4.scope\n", userShim, 35)
	expect(forgedShim, fmt.Sprintf("pid %d (holder)", shimmed), "", "the oldest process")
	userCg := h.netns("user-cgroup", "net")
	h.write("var/lib/docker/containers/"+hexID("d6")+"/config.v2.json", `{"Name":"/rc-dk-web2"}`)
	h.proc("user-cgroup", "holder", "0::/user.slice/user-1001.slice/user@1001.service/app.slice/docker-"+hexID("d6")+".scope\n", 1, 36)
	expect(userCg, "docker rc-dk-web2 (uid 1001)", "dockeruser-1001-rc-dk-web2", "config.v2.json")

	// containerd via ctr, cgroupfs: /<namespace>/<id>, a task under
	// /run/containerd.
	ctr := h.netns("ctr", "net")
	h.write("run/containerd/io.containerd.runtime.v2.task/rc/rc-ctr-web/config.json", `{}`)
	h.proc("ctr", "holder", "12:pids:/rc/rc-ctr-web\n11:memory:/rc/rc-ctr-web\n0::/\n", 1, 40)
	expect(ctr, "containerd rc/rc-ctr-web", "containerd-rc-rc-ctr-web", "containerd task")

	// A private containerd: its shim's working directory is the task.
	private := h.netns("ctr-private", "net")
	h.write("run/h20-containerd/io.containerd.runtime.v2.task/rc/rc-ctr-own/config.json", `{}`)
	ctrShim := h.shim(h.path("run/h20-containerd/io.containerd.runtime.v2.task/rc/rc-ctr-own"))
	h.proc("ctr-private", "holder", "12:pids:/rc/rc-ctr-own\n", ctrShim, 41)
	expect(private, "containerd rc/rc-ctr-own", "containerd-rc-rc-ctr-own", "containerd task "+h.path("run/h20-containerd"))

	// nerdctl: its annotation names the container.
	nerd := h.netns("nerdctl", "net")
	h.write("run/containerd/io.containerd.runtime.v2.task/default/"+hexID("f0")+"/config.json", `{"annotations":{"nerdctl/name":"rc-nerd"}}`)
	h.proc("nerdctl", "holder", "0::/system.slice/nerdctl-"+hexID("f0")+".scope\n", 1, 42)
	expect(nerd, "nerdctl rc-nerd", "nerdctl-rc-nerd", "annotations in")

	// A cgroup that looks like containerd's, with no such task: the
	// oldest process names it.
	plain := h.netns("plain", "net")
	young := h.proc("plain", "young", "12:pids:/user/session\n", 1, 51)
	old := h.proc("plain", "old one", "12:pids:/user/session\n", 1, 50)
	_ = young
	expect(plain, fmt.Sprintf("pid %d (old one)", old), fmt.Sprintf("pid-%d-old-one--", old), "the oldest process")

	got := h.discover()
	for ino, w := range wants {
		ns, ok := got[ino]
		switch {
		case !ok:
			t.Errorf("%s: not found", w.name)
		case ns.Name != w.name || !strings.HasPrefix(ns.Perf, w.perf) || !strings.Contains(ns.ID.Source, w.source):
			t.Errorf("named %q, label %q, source %q; want %q, %q, %q", ns.Name, ns.Perf, ns.ID.Source, w.name, w.perf, w.source)
		}
	}
	// host, and each namespace above: no UTS namespace, no stale file.
	if len(got) != len(wants)+1 {
		for _, ns := range got {
			t.Logf("found %d %q", ns.Inode, ns.Name)
		}
		t.Errorf("%d namespaces found, want %d", len(got), len(wants)+1)
	}
	if id := got[shop].ID; id.PodNamespace != "shop" || id.Pod != "postgres-0" || id.PodUID != uidShop || id.Runtime != "containerd" || id.ContainerIDs[0] != hexID("e0") {
		t.Errorf("the pod's identity: %+v", id)
	}
	if id := got[pmPod].ID; id.Pod != "rc-pm-pod" || len(id.ContainerIDs) != 2 {
		t.Errorf("the podman pod's identity: %+v", id)
	}
}

// A label names the same namespace in every run, whatever else exists:
// two names that clean alike each keep theirs, with or without the other.
func TestDiscoverLabelsStable(t *testing.T) {
	labels := func(names ...string) map[string]string {
		h := newFakeHost(t)
		for i, n := range names {
			ns := fmt.Sprintf("ns%d", i)
			h.netns(ns, "net")
			id := hexID(fmt.Sprintf("%02x", i))
			h.write("var/lib/docker/containers/"+id+"/config.v2.json", `{"Name":"/`+n+`"}`)
			h.proc(ns, "holder", "0::/docker/"+id+"\n", 1, i)
		}
		out := map[string]string{}
		for _, ns := range h.discover() {
			out[ns.Name] = ns.Perf
		}
		return out
	}
	both := labels("adv3-a.b", "adv3-a_b", "adv3-a-b")
	for _, n := range []string{"adv3-a.b", "adv3-a_b", "adv3-a-b"} {
		alone := labels(n)
		if both["docker "+n] != alone["docker "+n] || alone["docker "+n] == "" {
			t.Errorf("docker %s: label %q beside the others, %q alone", n, both["docker "+n], alone["docker "+n])
		}
	}
}

// Two containers of one name (two Docker daemons) still read apart.
func TestDiscoverSameNameTwice(t *testing.T) {
	h := newFakeHost(t)
	h.o.Roots.Docker = append(h.o.Roots.Docker, h.path("srv/docker"))
	for i, root := range []string{"var/lib/docker", "srv/docker"} {
		ns := fmt.Sprintf("ns%d", i)
		h.netns(ns, "net")
		id := hexID(fmt.Sprintf("%02x", i))
		h.write(root+"/containers/"+id+"/config.v2.json", `{"Name":"/web"}`)
		h.proc(ns, "holder", "0::/docker/"+id+"\n", 1, i)
	}
	got := h.discover() // fails on a shared name or label
	if len(got) != 3 {
		t.Errorf("%d namespaces", len(got))
	}
}

// The naming's own cost, on a fake tree of 120 Docker containers whose
// data root only their bundles tell, against naming them by their cgroup
// ids alone: go test -run - -bench Discover ./internal/netns.
func BenchmarkDiscover(b *testing.B) {
	h := newFakeHost(b)
	for i := range 120 {
		ns := fmt.Sprintf("ns%d", i)
		h.netns(ns, "net")
		id := hexID(fmt.Sprintf("%02x", i))
		h.write("opt/dk/containers/"+id+"/config.v2.json", `{"Config":{"Env":["PATH=/bin"],"Labels":{}},"Name":"/web-`+fmt.Sprint(i)+`","HostConfig":{"NetworkMode":"bridge"}}`)
		bundle := "opt/exec/io.containerd.runtime.v2.task/moby/" + id
		h.write(bundle+"/config.json", `{"process":{"env":["PATH=/bin"]},"mounts":[{"destination":"/etc/hostname","source":"`+h.path("opt/dk/containers/"+id+"/hostname")+`"}]}`)
		shim := h.shim(h.path(bundle))
		h.proc(ns, "holder", "12:pids:/docker/"+id+"\n0::/\n", shim, i)
	}
	h.write("proc/self/mountinfo", "")
	for _, plain := range []bool{false, true} {
		o := h.o
		o.Plain = plain
		b.Run(fmt.Sprintf("plain=%v", plain), func(b *testing.B) {
			for b.Loop() {
				if l, err := Discover(o); err != nil || len(l.Namespaces) != 121 {
					b.Fatal(len(l.Namespaces), err)
				}
			}
		})
	}
}
