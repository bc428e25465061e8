package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// netnsDoc is what the tests read of --format json with --netns all.
type netnsDoc struct {
	State   string `json:"state"`
	Message string `json:"message"`
	Sockets int    `json:"sockets"`
	Groups  []struct {
		Netns  string `json:"netns"`
		Inode  uint64 `json:"netns_inode"`
		Type   string `json:"type"`
		Status string `json:"status"`
		Count  int    `json:"count"`
		State  string `json:"state"`
		Label  string `json:"label"`
	} `json:"groups"`
	Netns struct {
		Counted []struct {
			Name    string `json:"name"`
			Perf    string `json:"perf"`
			Inode   uint64 `json:"inode"`
			Sockets int    `json:"sockets"`
		} `json:"counted"`
		NotCounted []struct {
			Name  string `json:"name"`
			Error string `json:"error"`
		} `json:"not_counted"`
		Gone       int `json:"gone"`
		Unreadable int `json:"unreadable_processes"`
	} `json:"netns"`
}

func netnsInode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// cgroupRoot finds a cgroup hierarchy the test may make cgroups in: the v2
// one, else v1's name=systemd; "" when there is none or it is read-only.
func cgroupRoot(t *testing.T) string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	var v2, v1 string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, more := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(more) < 3 {
			continue
		}
		switch {
		case more[0] == "cgroup2" && v2 == "":
			v2 = fields[4]
		case more[0] == "cgroup" && strings.Contains(more[2], "name=systemd") && v1 == "":
			v1 = fields[4]
		}
	}
	for _, root := range []string{v2, v1} {
		if root == "" {
			continue
		}
		dir := filepath.Join(root, "nc-test")
		if err := os.Mkdir(dir, 0o755); err == nil || os.IsExist(err) {
			return root
		}
	}
	return ""
}

// intoCgroup makes the cgroup path under root and moves pid into it; the
// cgroups go when the test ends (after the processes, registered first).
func intoCgroup(t *testing.T, root, path string, pid int) {
	t.Helper()
	dir := filepath.Join(root, path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(fmt.Sprint(pid)), 0o644); err != nil {
		t.Fatalf("moving pid %d into %s: %v", pid, dir, err)
	}
}

func removeCgroups(root string) {
	dir := filepath.Join(root, "nc-test")
	var dirs []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i])
	}
}

// TestNetnsAll counts, names and judges the namespaces it makes, alone (see
// alone): --netns all finds those and its own, none of the host's.
func TestNetnsAll(t *testing.T) {
	need(t, "nsenter", "util-linux")
	if !alone(t) {
		return
	}
	cg := cgroupRoot(t)
	if cg != "" {
		t.Cleanup(func() { removeCgroups(cg) }) // after the processes in them end
	}
	for _, n := range []string{"nc-test-blue", "nc-test-empty"} {
		exec.Command("ip", "netns", "del", n).Run()
		if out, err := exec.Command("ip", "netns", "add", n).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", n, err, out)
		}
		t.Cleanup(func() { exec.Command("ip", "netns", "del", n).Run() })
	}
	hex := func(b string) string { return strings.Repeat(b, 64/len(b)) }
	const pod = "1b2c3d4e_0000_4111_8222_123456789abc"
	// Each namespace: how the holder gets there, the cgroup it is moved
	// into, its sockets, and the name the check must give it.
	newNet := func(extra string) string {
		return `exec unshare -n -u sh -c 'ip link set lo up && ` + extra + ` exec "$0"'`
	}
	cases := []struct {
		name, wrap, cgroup string
		pairs              int
		want               string // "": pid N (...)
	}{
		{"ip netns", "ip -n nc-test-blue link set lo up && exec ip netns exec nc-test-blue", "", 2, "nc-test-blue"},
		{"docker", newNet(""), "nc-test/system.slice/docker-" + hex("d0") + ".scope", 3, "docker d0d0d0d0d0d0"},
		{"docker cgroupfs", newNet(""), "nc-test/docker/" + hex("d1"), 1, "docker d1d1d1d1d1d1"},
		{"cri-o", newNet(""), "nc-test/machine.slice/crio-" + hex("c0") + ".scope", 1, "cri-o c0c0c0c0c0c0"},
		{"podman", newNet(""), "nc-test/machine.slice/libpod-" + hex("a0") + ".scope", 1, "podman a0a0a0a0a0a0"},
		{"pod", newNet("hostname web-7f9c &&"), "nc-test/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + pod + ".slice/cri-containerd-" + hex("e0") + ".scope", 2, "pod web-7f9c"},
		{"plain", newNet(""), "", 4, ""},
	}
	type held struct {
		pid   int
		inode uint64
		path  string
		want  string
	}
	var all []held
	for _, c := range cases {
		pid, _ := holderIn(t, c.wrap, c.pairs)
		want := c.want
		if c.cgroup != "" {
			if cg == "" {
				want = "" // no cgroup to name it by: its process names it
			} else {
				intoCgroup(t, cg, c.cgroup, pid)
			}
		}
		if want == "" {
			want = fmt.Sprintf("pid %d (", pid)
		}
		path := fmt.Sprintf("/proc/%d/ns/net", pid)
		all = append(all, held{pid, netnsInode(t, path), path, want})
	}
	all = append(all, held{0, netnsInode(t, "/run/netns/nc-test-empty"), "/run/netns/nc-test-empty", "nc-test-empty"})
	if cg == "" {
		t.Log("no writable cgroup hierarchy: the container and pod names are not tested, the processes name those namespaces")
	}

	run := func(args ...string) (netnsDoc, string) {
		t.Helper()
		stdout, stderr, code := runBinary(t, append([]string{"--netns", "all", "--format", "json"}, args...)...)
		var d netnsDoc
		if err := json.Unmarshal([]byte(stdout), &d); err != nil || stderr != "" || code == 3 {
			t.Fatalf("%q: exit %d, %v\nstdout: %s\nstderr: %s", args, code, err, stdout, stderr)
		}
		return d, stdout
	}

	t.Run("counts and names", func(t *testing.T) {
		d, stdout := run("--group-by", "netns,type,status", "-c", "established=5")
		names := map[uint64]string{}
		sum := 0
		for _, c := range d.Netns.Counted {
			if _, dup := names[c.Inode]; dup {
				t.Errorf("namespace %d counted twice", c.Inode)
			}
			names[c.Inode] = c.Name
			sum += c.Sockets
		}
		if sum != d.Sockets {
			t.Errorf("the namespaces' sockets add up to %d, the check counted %d", sum, d.Sockets)
		}
		if len(names) != len(all)+1 {
			t.Errorf("counted %d namespaces %v, want the test's %d and its own", len(names), names, len(all))
		}
		for _, h := range all {
			t.Logf("%s: %q", h.path, names[h.inode])
			if !strings.HasPrefix(names[h.inode], h.want) {
				t.Errorf("%s: named %q, want %q", h.path, names[h.inode], h.want)
			}
			got := map[string]int{}
			for _, g := range d.Groups {
				if g.Inode == h.inode {
					got[g.Type+"_"+g.Status] = g.Count
					wantState := "OK"
					if g.Status == "ESTABLISHED" && g.Count > 5 {
						wantState = "CRITICAL"
					}
					if g.State != wantState {
						t.Errorf("%s: %s is %s, want %s", h.want, g.Label, g.State, wantState)
					}
				}
			}
			if want := ssCountsIn(t, h.path); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s (%s): counted %v, ss in it %v", h.want, h.path, got, want)
			}
		}
		if d.State != "CRITICAL" {
			t.Errorf("state %s, want CRITICAL (6 established in one namespace):\n%s", d.State, stdout)
		}
	})

	t.Run("the status line names the namespace that alerts", func(t *testing.T) {
		stdout, _, code := runBinary(t, "--netns", "all", "--group-by", "netns,status", "-c", "established=5")
		first, _, _ := strings.Cut(stdout, "\n")
		docker := all[1].want
		if code != 2 || !strings.Contains(first, docker+" ESTABLISHED: 6 [CRITICAL]") {
			t.Errorf("exit %d, want 2 naming %q:\n%s", code, docker, stdout)
		}
		if !strings.Contains(first, "_ESTABLISHED'=6;;5;0") {
			t.Errorf("no perfdata for the namespace:\n%s", first)
		}
	})

	t.Run("summed without netns in the grouping", func(t *testing.T) {
		d, _ := run()
		byNs, _ := run("--group-by", "netns")
		if d.Sockets == 0 || len(byNs.Netns.Counted) != len(all)+1 || d.Sockets != byNs.Sockets {
			t.Errorf("%d sockets, %d namespaces counted (by namespace: %d sockets); want the test's %d and its own", d.Sockets, len(byNs.Netns.Counted), byNs.Sockets, len(all))
		}
		for _, g := range d.Groups {
			if g.Netns != "" {
				t.Errorf("group %q tells a namespace without --group-by netns", g.Label)
			}
		}
	})

	t.Run("top names the holders across namespaces", func(t *testing.T) {
		stdout, _, code := runBinary(t, "--netns", "all", "--top", "20", "--conn-status", "established")
		if code == 3 || !strings.Contains(stdout, fmt.Sprintf("pid %d (", all[1].pid)) {
			t.Errorf("exit %d, want pid %d named:\n%s", code, all[1].pid, stdout)
		}
	})

	t.Run("as nobody: one UNKNOWN naming the capability", func(t *testing.T) {
		stdout, stderr, code := runCmd(t, asNobody(t, "--netns", "all"))
		checkUnknown(t, "as nobody", stdout, stderr, code, "UNKNOWN: --netns all: entering network namespaces needs CAP_SYS_ADMIN")
		if strings.Contains(stdout, "as root") || !strings.Contains(stdout, "setcap") {
			t.Errorf("as nobody: %q, want setcap or sudo named, not root", stdout)
		}
	})

	t.Run("a partial view is UNKNOWN, naming the capability", func(t *testing.T) {
		// Root of a user namespace of its own may enter its own network
		// namespace, and may not read the link of a process outside (EACCES)
		// nor enter the namespaces named here (EPERM): what it counted is
		// shown, and the check is UNKNOWN, never OK.
		if err := exec.Command("unshare", "-U", "-r", "-n", "true").Run(); err != nil {
			t.Skipf("no user namespaces here (unshare -U -r -n: %v)", err)
		}
		stdout, stderr, code := runCmd(t, exec.Command("unshare", "-U", "-r", "-n", binary, "--netns", "all", "--group-by", "netns"))
		first, _, _ := strings.Cut(stdout, "\n")
		if code != 3 || stderr != "" || !strings.Contains(stdout, "not read: the network namespace of ") ||
			!strings.Contains(first, " network namespaces not counted: entering them needs CAP_SYS_ADMIN") ||
			strings.Contains(stdout, "run it as root") {
			t.Errorf("exit %d, want 3 with the namespaces not counted, the capability and the unread processes said:\n%s%s", code, stdout, stderr)
		}
	})

	t.Run("a long output waits for its reader", func(t *testing.T) {
		// Over 4 KiB (a 0 group per type and status in each namespace), into
		// a pipe read late: the plugin exits only after the read (Nagios 4's
		// worker reads once more after the exit, 4 KiB, and drops the rest);
		// a reader that goes away does not hold it.
		args := []string{"--netns", "all", "--group-by", "netns,type,status", "--report-missing", "--conn-type", "all"}
		exitedYet := func(pid int) bool {
			var info unix.Siginfo
			err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
			return err == nil && info.Signo == int32(unix.SIGCHLD) // 0: no change yet
		}
		for _, readAll := range []bool{true, false} {
			cmd := exec.Command(binary, args...)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			early := exitedYet(cmd.Process.Pid)
			var b []byte
			if readAll {
				b, _ = io.ReadAll(out)
			} else {
				b = make([]byte, 10)
				io.ReadFull(out, b)
				out.Close()
			}
			start := time.Now()
			cmd.Wait()
			waited := time.Since(start)
			switch {
			case readAll && (early || len(b) <= 4096):
				t.Errorf("%d bytes; exited before they were read: %v", len(b), early)
			case !readAll && waited > time.Second:
				t.Errorf("the reader went away, and the plugin still waited %s", waited)
			}
		}
	})

	t.Run("namespaces that vanish while counted", func(t *testing.T) {
		for round := range 8 {
			var procs []*exec.Cmd
			for range 30 {
				p := exec.Command("unshare", "-n", "sleep", "60")
				if err := p.Start(); err != nil {
					t.Fatal(err)
				}
				procs = append(procs, p)
			}
			time.Sleep(50 * time.Millisecond)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i, p := range procs {
					if i%3 == round%3 {
						time.Sleep(time.Duration(round) * 100 * time.Microsecond)
					}
					p.Process.Kill()
					p.Wait()
				}
			}()
			for range 3 {
				stdout, stderr, code := runBinary(t, "--netns", "all", "--group-by", "netns", "--format", "json")
				var d netnsDoc
				if err := json.Unmarshal([]byte(stdout), &d); err != nil || code == 3 || stderr != "" || len(d.Netns.NotCounted) > 0 {
					t.Fatalf("round %d: exit %d, %v:\n%s%s", round, code, err, stdout, stderr)
				}
			}
			<-done
		}
	})
}
