package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/network-connections/network-connections/internal/netns"
)

// The runtimes' tests start their daemons with state of their own, under
// this prefix (paths, containers, bridges), and leave nothing behind.
const rt = "h20"

// runtimeImage is the test containers' root: busybox-static and ctrholder,
// a static program holding a known set of loopback sockets. No registry:
// the runtimes import it from a tarball.
type runtimeImage struct {
	rootfs, tar string
}

func buildRuntimeImage(t *testing.T) runtimeImage {
	t.Helper()
	bb := need(t, "busybox", "busybox-static")
	dir := t.TempDir()
	img := runtimeImage{rootfs: filepath.Join(dir, "rootfs"), tar: filepath.Join(dir, "rootfs.tar")}
	os.MkdirAll(filepath.Join(img.rootfs, "bin"), 0o755)
	os.MkdirAll(filepath.Join(img.rootfs, "etc"), 0o755)
	if out, err := exec.Command("cp", bb, filepath.Join(img.rootfs, "bin/busybox")).CombinedOutput(); err != nil {
		t.Fatalf("cp busybox: %v: %s", err, out)
	}
	for _, c := range []string{"sh", "sleep", "ip", "hostname", "cat"} {
		os.Symlink("busybox", filepath.Join(img.rootfs, "bin", c))
	}
	build := exec.Command("go", "build", "-o", filepath.Join(img.rootfs, "holder"), "./ctrholder")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ctrholder: %v: %s", err, out)
	}
	if out, err := exec.Command("tar", "-C", img.rootfs, "-cf", img.tar, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	return img
}

// sh runs a command and returns its trimmed stdout, failing the test on an
// error.
func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v: %s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// daemon starts a daemon of the test's and stops it, by the pid it
// started, when the test ends (after what was registered later: its
// containers go first).
func daemon(t *testing.T, log string, ready func() bool, name string, args ...string) {
	t.Helper()
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		f.Close()
	})
	for range 200 {
		if ready() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(log)
	t.Fatalf("%s did not start:\n%s", name, b)
}

// containerd starts a containerd with its own root, state and socket, its
// CRI plugin configured with a bridge of its own (no NAT, no firewall
// rules) and the test image as the pods' sandbox image.
func startContainerd(t *testing.T) (sock string) {
	t.Helper()
	need(t, "containerd", "containerd")
	need(t, "runc", "runc")
	if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
		t.Skip("needs the CNI plugins in /usr/lib/cni: apt-get install containernetworking-plugins (make deps does)")
	}
	base, state := filepath.Join(t.TempDir(), "containerd"), "/run/"+rt+"-containerd"
	os.RemoveAll(state)
	os.MkdirAll(filepath.Join(base, "cni"), 0o755)
	t.Cleanup(func() {
		// The pods' network: the bridge the CNI plugin made, its leases.
		exec.Command("ip", "link", "del", rt+"-cri0").Run()
		unmountUnder(state)
		os.RemoveAll(state)
	})
	sock = state + "/containerd.sock"
	os.WriteFile(filepath.Join(base, "cni", "10-"+rt+".conflist"), []byte(`{"cniVersion":"0.4.0","name":"`+rt+`-cri","plugins":[`+
		`{"type":"bridge","bridge":"`+rt+`-cri0","isGateway":false,"ipMasq":false,`+
		`"ipam":{"type":"host-local","ranges":[[{"subnet":"10.220.0.0/24"}]],"dataDir":"`+state+`/ipam"}}]}`), 0o644)
	conf := filepath.Join(base, "config.toml")
	os.WriteFile(conf, []byte(fmt.Sprintf(`version = 2
root = %q
state = %q
[grpc]
  address = %q
[ttrpc]
  address = "%s.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/%s-img:1"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
`, filepath.Join(base, "root"), state, sock, sock, rt, filepath.Join(base, "cni"))), 0o644)
	daemon(t, filepath.Join(base, "log"), func() bool {
		return exec.Command("ctr", "-a", sock, "version").Run() == nil
	}, "containerd", "--config", conf)
	return sock
}

// nsWant is a namespace the test made, as the check must show it.
type nsWant struct {
	name string // as the check must name it
	pid  int    // a process inside
}

// nsSeen is what the check showed of it.
type nsSeen struct {
	name, perf string
	identity   map[string]any
}

// checkRuntimeNamespaces runs --netns all and checks each namespace
// wanted: found once, named as wanted, its counts those of ss inside. It
// returns what was seen of each, by name.
func checkRuntimeNamespaces(t *testing.T, wants []nsWant) map[string]nsSeen {
	t.Helper()
	// A long timeout: on a busy host every namespace's dump walks all
	// the host's sockets.
	stdout, stderr, code := runBinary(t, "--netns", "all", "--group-by", "netns,type,status", "--format", "json", "-t", "120")
	if code == 3 || stderr != "" {
		t.Fatalf("exit %d:\n%s%s", code, stdout, stderr)
	}
	doc := checkJSON(t, jsonSchema(t), stdout)
	var d netnsDoc
	json.Unmarshal([]byte(stdout), &d)
	counted := doc["netns"].(map[string]any)["counted"].([]any)
	byInode := map[uint64]map[string]any{}
	names := map[string]int{}
	for _, c := range counted {
		c := c.(map[string]any)
		ino := uint64(c["inode"].(float64))
		if byInode[ino] != nil {
			t.Errorf("namespace %d counted twice", ino)
		}
		byInode[ino] = c
		names[c["name"].(string)]++
	}
	seen := map[string]nsSeen{}
	for _, w := range wants {
		path := fmt.Sprintf("/proc/%d/ns/net", w.pid)
		ino := netnsInode(t, path)
		c := byInode[ino]
		if c == nil {
			t.Errorf("%s (pid %d): not found", w.name, w.pid)
			continue
		}
		name := c["name"].(string)
		seen[w.name] = nsSeen{name, c["perf"].(string), c["identity"].(map[string]any)}
		if name != w.name || names[name] != 1 {
			t.Errorf("pid %d: named %q (%d times), want %q once; identity %v", w.pid, name, names[name], w.name, c["identity"])
		}
		got := map[string]int{}
		for _, g := range d.Groups {
			if g.Inode == ino && g.Count > 0 {
				got[g.Type+"_"+g.Status] = g.Count
			}
		}
		if w.name == "host" {
			continue // the host's sockets change while it runs
		}
		if want := ssCountsIn(t, path); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: counted %v, ss inside %v", w.name, got, want)
		}
	}
	return seen
}

// sameLabels checks that each namespace kept its label across a restart.
func sameLabels(t *testing.T, before, after map[string]nsSeen) {
	t.Helper()
	for n, b := range before {
		if a, ok := after[n]; !ok || a.perf != b.perf {
			t.Errorf("%s: label %q before the restart, %q after", n, b.perf, a.perf)
		}
	}
}

func pidOf(t *testing.T, s string) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || pid <= 0 {
		t.Fatalf("no pid: %q", s)
	}
	return pid
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root: starts container runtimes")
	}
	need(t, "nsenter", "util-linux")
	need(t, "ss", "iproute2")
}

// Docker: a dockerd of the test's (its own data root, exec root, socket,
// bridge; no iptables), on the test's containerd: bridge, none, a
// container in another's namespace, a user network, host.
// startDockerd starts a dockerd of the test's (its own data root, exec
// root, socket and bridge; no iptables rules) on a containerd of the
// test's, with the test image imported; its containers go when the test
// ends. It returns the docker client for it and the data root's parent.
func startDockerd(t *testing.T) (func(args ...string) string, string) {
	t.Helper()
	img := buildRuntimeImage(t)
	sock := startContainerd(t)
	base := t.TempDir()
	execRoot := "/run/" + rt + "-docker"
	os.RemoveAll(execRoot)
	dsock := execRoot + "/docker.sock"
	// The docker client beside dockerd: another may come first in PATH.
	client := filepath.Join(filepath.Dir(need(t, "dockerd", "docker.io")), "..", "bin", "docker")
	if _, err := os.Stat(client); err != nil {
		client = need(t, "docker", "docker.io")
	}
	d := func(args ...string) string {
		t.Helper()
		return sh(t, client, append([]string{"-H", "unix://" + dsock}, args...)...)
	}
	bridge := rt + "-dk0"
	sh(t, "ip", "link", "add", bridge, "type", "bridge")
	t.Cleanup(func() { osExec("ip", "link", "del", bridge) })
	sh(t, "ip", "addr", "add", "10.221.0.1/24", "dev", bridge)
	sh(t, "ip", "link", "set", bridge, "up")
	os.WriteFile(filepath.Join(base, "daemon.json"), []byte("{}"), 0o644)
	t.Cleanup(func() { unmountUnder(execRoot); os.RemoveAll(execRoot) })
	daemon(t, filepath.Join(base, "log"), func() bool {
		return osExec(client, "-H", "unix://"+dsock, "version") == nil
	}, "dockerd", "--data-root", filepath.Join(base, "data"), "--exec-root", execRoot, "--pidfile", execRoot+"/dockerd.pid",
		"-H", "unix://"+dsock, "--containerd", sock, "--bridge", bridge, "--iptables=false", "--ip6tables=false",
		"--ip-masq=false", "--config-file", filepath.Join(base, "daemon.json"))
	t.Cleanup(func() {
		if ids := strings.Fields(d("ps", "-aq")); len(ids) > 0 {
			osExec(client, append([]string{"-H", "unix://" + dsock, "rm", "-f"}, ids...)...)
		}
		// The user networks, and with them their bridges.
		if ids := strings.Fields(d("network", "ls", "-q", "--filter", "type=custom")); len(ids) > 0 {
			osExec(client, append([]string{"-H", "unix://" + dsock, "network", "rm"}, ids...)...)
		}
	})
	d("import", "--change", `CMD ["/bin/sleep","100000000"]`, img.tar, rt+"-img:1")
	return d, base
}

func TestRuntimeDocker(t *testing.T) {
	needRoot(t)
	need(t, "dockerd", "docker.io")
	d, base := startDockerd(t)
	d("network", "create", "--opt", "com.docker.network.bridge.name="+rt+"-dk1", rt+"-dk-net")
	run := func(name string, args ...string) {
		d(append([]string{"run", "--pull", "never", "-d", "--name", name}, args...)...)
	}
	run(rt+"-dk-web", rt+"-img:1", "/holder", "3")
	run(rt+"-dk-none", "--network", "none", rt+"-img:1", "/holder", "1")
	run(rt+"-dk-side", "--network", "container:"+rt+"-dk-web", rt+"-img:1", "/holder", "1")
	run(rt+"-dk-user", "--network", rt+"-dk-net", rt+"-img:1", "/holder", "2")
	run(rt+"-dk-host", "--network", "host", rt+"-img:1", "/bin/sleep", "100000")
	wants := func() []nsWant {
		pid := func(c string) int { return pidOf(t, d("inspect", "-f", "{{.State.Pid}}", c)) }
		return []nsWant{
			{"docker " + rt + "-dk-web", pid(rt + "-dk-web")},
			{"docker " + rt + "-dk-web", pid(rt + "-dk-side")}, // joined the web's: named by it
			{"docker " + rt + "-dk-none", pid(rt + "-dk-none")},
			{"docker " + rt + "-dk-user", pid(rt + "-dk-user")},
			{"host", pid(rt + "-dk-host")},
		}
	}
	before := checkRuntimeNamespaces(t, wants())
	if id := before["docker "+rt+"-dk-web"].identity; id["runtime"] != "docker" || id["container_name"] != rt+"-dk-web" ||
		!strings.HasPrefix(id["name_source"].(string), base) {
		t.Errorf("the identity: %v", id)
	}
	d("restart", "-t", "1", rt+"-dk-none", rt+"-dk-user")
	sameLabels(t, before, checkRuntimeNamespaces(t, wants()))
}

// unmountUnder unmounts what a daemon left mounted under dir (its
// namespace pins, shm), deepest first.
func unmountUnder(dir string) {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			points = append(points, f[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		syscall.Unmount(points[i], syscall.MNT_DETACH)
	}
}

// osExec runs a command, for clean-ups: its error only.
func osExec(name string, args ...string) error { return exec.Command(name, args...).Run() }

// containerd through ctr: a container in a namespace of its own, its
// cgroup /<namespace>/<id>, and one on the host's network.
func TestRuntimeContainerd(t *testing.T) {
	needRoot(t)
	need(t, "ctr", "containerd")
	img := buildRuntimeImage(t)
	sock := startContainerd(t)
	c := func(args ...string) string {
		t.Helper()
		return sh(t, "ctr", append([]string{"-a", sock, "-n", rt}, args...)...)
	}
	web, host := rt+"-ctr-web", rt+"-ctr-host"
	t.Cleanup(func() {
		for _, id := range []string{web, host} {
			osExec("ctr", "-a", sock, "-n", rt, "task", "kill", "-s", "KILL", id)
			time.Sleep(200 * time.Millisecond)
			osExec("ctr", "-a", sock, "-n", rt, "task", "rm", "-f", id)
			osExec("ctr", "-a", sock, "-n", rt, "container", "rm", id)
		}
	})
	start := func() {
		// No runtime brings a new namespace's loopback up here: the
		// container does, with CAP_NET_ADMIN.
		c("run", "-d", "--cap-add", "CAP_NET_ADMIN", "--rootfs", img.rootfs, web, "/bin/sh", "-c", "ip link set lo up && exec /holder 3")
	}
	start()
	c("run", "-d", "--net-host", "--rootfs", img.rootfs, host, "/bin/sleep", "100000")
	pid := func(id string) int {
		for range 50 {
			for _, line := range strings.Split(c("task", "ls"), "\n") {
				if f := strings.Fields(line); len(f) == 3 && f[0] == id && f[2] == "RUNNING" {
					return pidOf(t, f[1])
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("task %s not running", id)
		return 0
	}
	waitSockets(t, pid(web))
	wants := func() []nsWant {
		return []nsWant{{"containerd " + rt + "/" + web, pid(web)}, {"host", pid(host)}}
	}
	before := checkRuntimeNamespaces(t, wants())
	c("task", "kill", "-s", "KILL", web)
	time.Sleep(300 * time.Millisecond)
	c("task", "rm", "-f", web)
	c("container", "rm", web)
	start()
	waitSockets(t, pid(web))
	sameLabels(t, before, checkRuntimeNamespaces(t, wants()))
}

// waitSockets waits until the holder in pid's namespace holds its sockets.
func waitSockets(t *testing.T, pid int) {
	t.Helper()
	for range 50 {
		if ssCountsIn(t, fmt.Sprintf("/proc/%d/ns/net", pid))["tcp_LISTEN"] > 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no holder's sockets in pid %d's namespace", pid)
}

// Kubernetes pods through containerd's CRI, made with crictl as a kubelet
// would (cgroup parent /kubepods/besteffort/pod<uid>): two pods of one name
// in two Kubernetes namespaces, named apart, each by its namespace and
// name, and keeping its label when the pod is made anew.
func TestRuntimeCRI(t *testing.T) {
	needRoot(t)
	need(t, "podman", "podman") // makes the image containerd imports
	img := buildRuntimeImage(t)
	crictl := filepath.Join(t.TempDir(), "crictl")
	build := exec.Command("go", "build", "-o", crictl, "sigs.k8s.io/cri-tools/cmd/crictl")
	build.Dir = filepath.Join(repo, "tools", "crictl")
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("crictl from the Go module proxy (tools/crictl): %v: %s", err, out)
	}
	sock := startContainerd(t)
	// The image as a Docker archive, for ctr images import.
	pm := podmanTest(t)
	pm("import", "--change", `CMD ["/bin/sleep","100000000"]`, img.tar, "localhost/"+rt+"-img:1")
	archive := filepath.Join(t.TempDir(), "img.tar")
	pm("save", "--format", "docker-archive", "-o", archive, "localhost/"+rt+"-img:1")
	sh(t, "ctr", "-a", sock, "-n", "k8s.io", "images", "import", archive)
	dir := t.TempDir()
	conf := filepath.Join(dir, "crictl.yaml")
	os.WriteFile(conf, []byte("runtime-endpoint: unix://"+sock+"\nimage-endpoint: unix://"+sock+"\ntimeout: 30\n"), 0o644)
	cri := func(args ...string) string {
		t.Helper()
		return sh(t, crictl, append([]string{"--config", conf}, args...)...)
	}
	t.Cleanup(func() { osExec(crictl, "--config", conf, "rmp", "-fa") })
	ctrConf := filepath.Join(dir, "ctr.json")
	os.WriteFile(ctrConf, []byte(`{"metadata":{"name":"holder"},"image":{"image":"localhost/`+rt+`-img:1"},"command":["/holder","2"],"linux":{}}`), 0o644)
	uids := map[string]string{"shop": "5f0c1a52-0000-4111-8222-000000000001", "prod": "5f0c1a52-0000-4111-8222-000000000002"}
	pods := map[string]string{}
	runPod := func(ns string) int {
		uid := uids[ns]
		podConf := filepath.Join(dir, "pod-"+ns+".json")
		os.WriteFile(podConf, []byte(`{"metadata":{"name":"postgres-0","namespace":"`+rt+ns+`","uid":"`+uid+`","attempt":0},`+
			`"hostname":"postgres-0","linux":{"cgroup_parent":"/kubepods/besteffort/pod`+uid+`"}}`), 0o644)
		pods[ns] = cri("runp", podConf)
		id := cri("create", pods[ns], ctrConf, podConf)
		cri("start", id)
		var info struct {
			Info struct{ Pid int } `json:"info"`
		}
		json.Unmarshal([]byte(cri("inspect", id)), &info)
		waitSockets(t, info.Info.Pid)
		return info.Info.Pid
	}
	shop, prod := runPod("shop"), runPod("prod")
	before := checkRuntimeNamespaces(t, []nsWant{{"pod " + rt + "shop/postgres-0", shop}, {"pod " + rt + "prod/postgres-0", prod}})
	if id := before["pod "+rt+"shop/postgres-0"].identity; id["pod_uid"] != uids["shop"] || id["pod_namespace"] != rt+"shop" || id["pod_name"] != "postgres-0" {
		t.Errorf("the pod's identity: %v", id)
	}
	cri("stopp", pods["shop"])
	cri("rmp", pods["shop"])
	shop = runPod("shop")
	sameLabels(t, before, checkRuntimeNamespaces(t, []nsWant{{"pod " + rt + "shop/postgres-0", shop}, {"pod " + rt + "prod/postgres-0", prod}}))
}

// podmanTest is podman with its own storage, run root, network config (a
// bridge of the test's, no NAT, no firewall rules) and the ulimits a root
// without CAP_SYS_RESOURCE can set; its containers, pods and bridge go
// when the test ends.
func podmanTest(t *testing.T) func(args ...string) string {
	t.Helper()
	need(t, "podman", "podman")
	need(t, "conmon", "conmon")
	base := t.TempDir()
	run := "/run/" + rt + "-podman"
	os.RemoveAll(run)
	os.MkdirAll(filepath.Join(base, "net"), 0o755)
	os.WriteFile(filepath.Join(base, "net", rt+"-pm-net.conflist"), []byte(`{"cniVersion":"0.4.0","name":"`+rt+`-pm-net","plugins":[`+
		`{"type":"bridge","bridge":"`+rt+`-pm0","isGateway":true,"ipMasq":false,`+
		`"ipam":{"type":"host-local","ranges":[[{"subnet":"10.222.0.0/24","gateway":"10.222.0.1"}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":"`+run+`/ipam"}}]}`), 0o644)
	conf := filepath.Join(base, "containers.conf")
	os.WriteFile(conf, []byte("[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n"), 0o644)
	global := []string{"--root", filepath.Join(base, "root"), "--runroot", run, "--tmpdir", run + "/tmp",
		"--network-config-dir", filepath.Join(base, "net"), "--cgroup-manager", "cgroupfs", "--events-backend", "file"}
	env := append(os.Environ(), "CONTAINERS_CONF="+conf)
	t.Cleanup(func() {
		for _, a := range [][]string{{"pod", "rm", "-fa"}, {"rm", "-fa"}} {
			c := exec.Command("podman", append(global, a...)...)
			c.Env = env
			c.Run()
		}
		osExec("ip", "link", "del", rt+"-pm0")
		unmountUnder(run)
		os.RemoveAll(run)
		unmountUnder(base)
	})
	return func(args ...string) string {
		t.Helper()
		cmd := exec.Command("podman", append(global, args...)...)
		cmd.Env = env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("podman %s: %v: %s%s", strings.Join(args, " "), err, out, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}
}

// Podman as root: a container on a bridge, one without a network, and a
// pod of two.
func TestRuntimePodman(t *testing.T) {
	needRoot(t)
	need(t, "catatonit", "catatonit") // the pods' infra container
	img := buildRuntimeImage(t)
	pm := podmanTest(t)
	pm("import", "--change", `CMD ["/bin/sleep","100000000"]`, img.tar, "localhost/"+rt+"-img:1")
	image := "localhost/" + rt + "-img:1"
	pm("run", "-d", "--name", rt+"-pm-web", "--network", rt+"-pm-net", image, "/holder", "3")
	pm("run", "-d", "--name", rt+"-pm-none", "--network", "none", image, "/bin/sh", "-c", "exec /holder 1")
	pm("pod", "create", "--name", rt+"-pm-pod", "--network", rt+"-pm-net")
	pm("run", "-d", "--pod", rt+"-pm-pod", "--name", rt+"-pm-a", image, "/holder", "1")
	pm("run", "-d", "--pod", rt+"-pm-pod", "--name", rt+"-pm-b", image, "/holder", "2")
	wants := func() []nsWant {
		pid := func(c string) int { return pidOf(t, pm("inspect", "-f", "{{.State.Pid}}", c)) }
		for _, c := range []string{rt + "-pm-web", rt + "-pm-none", rt + "-pm-b"} {
			waitSockets(t, pid(c))
		}
		return []nsWant{
			{"podman " + rt + "-pm-web", pid(rt + "-pm-web")},
			{"podman " + rt + "-pm-none", pid(rt + "-pm-none")},
			{"podman pod " + rt + "-pm-pod", pid(rt + "-pm-a")},
			{"podman pod " + rt + "-pm-pod", pid(rt + "-pm-b")},
		}
	}
	before := checkRuntimeNamespaces(t, wants())
	pm("restart", "-t", "1", rt+"-pm-web", rt+"-pm-none")
	pm("pod", "restart", rt+"-pm-pod")
	sameLabels(t, before, checkRuntimeNamespaces(t, wants()))
}

// Podman rootless, as nobody: no cgroup of its own on cgroup v1 (hybrid),
// so conmon, the container's parent, names it. Without a network (as
// nobody, slirp4netns needs /dev/net/tun, which not every host opens to
// all).
func TestRuntimePodmanRootless(t *testing.T) {
	needRoot(t)
	need(t, "podman", "podman")
	need(t, "newuidmap", "uidmap")
	need(t, "setpriv", "util-linux")
	img := buildRuntimeImage(t)
	// Not t.TempDir: the pause process and conmon may still write under
	// run/ for a moment after they are killed, and TempDir's removal then
	// fails the test. Removed here once they are gone, a few tries.
	base, err := os.MkdirTemp("", "nc-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for try := 0; ; try++ {
			err := os.RemoveAll(base)
			if err == nil {
				return
			}
			if try == 20 {
				t.Logf("left behind: %v", err)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	home, run := filepath.Join(base, "home"), filepath.Join(base, "run")
	for _, d := range []string{base, home, run} {
		os.MkdirAll(d, 0o700)
		os.Chown(d, 65534, 65534)
	}
	os.Chmod(base, 0o755)
	os.Chmod(filepath.Dir(base), 0o755) // the test's temporary directory: nobody passes through
	conf := filepath.Join(base, "containers.conf")
	os.WriteFile(conf, []byte("[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n"), 0o644)
	tar := filepath.Join(base, "img.tar")
	if b, err := os.ReadFile(img.tar); err != nil || os.WriteFile(tar, b, 0o644) != nil {
		t.Fatal(err)
	}
	cmd := func(args ...string) *exec.Cmd {
		c := exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", "podman",
			"--cgroup-manager", "cgroupfs", "--events-backend", "file"}, args...)...)
		c.Env = append(os.Environ(), "HOME="+home, "XDG_RUNTIME_DIR="+run, "CONTAINERS_CONF="+conf)
		c.Dir = base
		return c
	}
	pm := func(args ...string) string {
		t.Helper()
		var stderr strings.Builder
		c := cmd(args...)
		c.Stderr = &stderr
		out, err := c.Output()
		if err != nil {
			t.Fatalf("podman (rootless) %s: %v: %s%s", strings.Join(args, " "), err, out, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}
	t.Cleanup(func() {
		if out, err := cmd("rm", "-fa", "-t", "0").CombinedOutput(); err != nil {
			t.Logf("podman rm: %v: %s", err, out)
		}
		// The pause process that holds the user namespace.
		b, err := os.ReadFile(filepath.Join(run, "libpod/tmp/pause.pid"))
		if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			syscall.Kill(pid, syscall.SIGKILL)
		} else {
			t.Logf("no pause process: %v", err)
		}
	})
	if out, err := cmd("import", tar, "localhost/"+rt+"-img:1").CombinedOutput(); err != nil {
		t.Skipf("rootless podman does not run here: %v: %s", err, out)
	}
	name := rt + "-rl-web"
	pm("run", "-d", "--network", "none", "--name", name, "localhost/"+rt+"-img:1", "/bin/sh", "-c", "exec /holder 2")
	wants := func() []nsWant {
		pid := pidOf(t, pm("inspect", "-f", "{{.State.Pid}}", name))
		waitSockets(t, pid)
		return []nsWant{{"podman " + name + " (uid 65534)", pid}} // a user's: its uid told
	}
	before := checkRuntimeNamespaces(t, wants())
	if src := before["podman "+name+" (uid 65534)"].identity["name_source"].(string); !strings.HasPrefix(src, "conmon's command line") {
		t.Errorf("named by %q", src)
	}
	pm("restart", "-t", "1", name)
	sameLabels(t, before, checkRuntimeNamespaces(t, wants()))
}

// The cost of the names (make bench): --netns all next to 120 Docker
// containers (their data root found through their bundles, the longest
// way), against naming them by the ids in their cgroups alone. Reading the
// names must add at most 10% to the check's time.
func TestBenchRuntimeNames(t *testing.T) {
	if os.Getenv("NC_BENCH") == "" {
		t.Skip("a benchmark: make bench (NC_BENCH=1) runs it")
	}
	needRoot(t)
	need(t, "dockerd", "docker.io")
	d, _ := startDockerd(t)
	const n = 120
	for i := range n {
		d("run", "--pull", "never", "-d", "--name", fmt.Sprintf("%s-bench-%03d", rt, i), rt+"-img:1", "/holder", "1")
	}
	median := func(runs int, fn func()) time.Duration {
		ds := make([]time.Duration, runs)
		for i := range ds {
			start := time.Now()
			fn()
			ds[i] = time.Since(start)
		}
		slices.Sort(ds)
		return ds[runs/2]
	}
	check := median(15, func() {
		if _, _, code := runBinary(t, "--netns", "all", "--group-by", "netns"); code == 3 {
			t.Fatal("UNKNOWN")
		}
	})
	discover := func(o netns.Options) func() {
		return func() {
			l, err := netns.Discover(o)
			if err != nil || len(l.Namespaces) < n {
				t.Fatalf("%d namespaces, %v", len(l.Namespaces), err)
			}
		}
	}
	plainOpts := netns.Defaults()
	plainOpts.Plain = true
	// Each round times both, one after the other, against the host's
	// drift; the medians of 41 rounds.
	const rounds = 41
	var nameds, plains, diffs []time.Duration
	for range rounds {
		a := median(1, discover(netns.Defaults()))
		b := median(1, discover(plainOpts))
		nameds, plains, diffs = append(nameds, a), append(plains, b), append(diffs, a-b)
	}
	for _, ds := range [][]time.Duration{nameds, plains, diffs} {
		slices.Sort(ds)
	}
	named, plain, diff := nameds[rounds/2], plains[rounds/2], diffs[rounds/2]
	l, _ := netns.Discover(netns.Defaults())
	docker := 0
	for _, ns := range l.Namespaces {
		if strings.HasPrefix(ns.Name, "docker "+rt+"-bench-") {
			docker++
		}
	}
	cost := float64(diff) / float64(check)
	t.Logf("%d containers (%d named by Docker's name): --netns all %.1f ms; discovery with names %.2f ms, by cgroup ids alone %.2f ms: the names add %.2f ms, %.1f%% of the check (at most 10%%), %.1f µs a container",
		n, docker, ms(check), ms(named), ms(plain), ms(diff), 100*cost, float64(diff.Microseconds())/n)
	if docker != n {
		t.Errorf("%d of %d containers named by their name", docker, n)
	}
	if cost > 0.10 {
		t.Errorf("the names add %.1f%% to --netns all, more than 10%%", 100*cost)
	}
}
