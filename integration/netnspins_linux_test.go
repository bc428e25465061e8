package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Namespaces pinned anywhere, and names that must not meet: a network
// namespace bound to a file outside /run/netns (unshare --net=FILE) with no
// process inside is found and counted; a UTS namespace bound in /run/netns
// is no network namespace; an ip netns called host is not the checker's
// own; two names that clean alike keep labels of their own, the same
// whether or not the other exists.
func TestNetnsAllPins(t *testing.T) {
	needRoot(t)
	need(t, "unshare", "util-linux")
	need(t, "ip", "iproute2")
	dir := t.TempDir()
	pin := filepath.Join(dir, "a pin")
	os.WriteFile(pin, nil, 0o644)
	if out, err := exec.Command("unshare", "--net="+pin, "true").CombinedOutput(); err != nil {
		t.Fatalf("unshare --net=FILE: %v: %s", err, out)
	}
	t.Cleanup(func() { osExec("umount", pin) })
	uts := "/run/netns/" + rt + "-uts"
	os.MkdirAll("/run/netns", 0o755)
	os.WriteFile(uts, nil, 0o644)
	if out, err := exec.Command("unshare", "--uts="+uts, "true").CombinedOutput(); err != nil {
		t.Fatalf("unshare --uts=FILE: %v: %s", err, out)
	}
	t.Cleanup(func() { osExec("umount", uts); os.Remove(uts) })
	names := []string{"host", rt + "-a.b", rt + "-a_b"}
	for _, n := range names {
		osExec("ip", "netns", "del", n)
		if out, err := exec.Command("ip", "netns", "add", n).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", n, err, out)
		}
		t.Cleanup(func() { osExec("ip", "netns", "del", n) })
	}
	type ns struct {
		Name, Perf string
		Inode      uint64
	}
	run := func() map[uint64]ns {
		t.Helper()
		stdout, stderr, code := runBinary(t, "--netns", "all", "--group-by", "netns", "--format", "json", "-t", "120")
		if code == 3 || stderr != "" {
			t.Fatalf("exit %d:\n%s%s", code, stdout, stderr)
		}
		checkJSON(t, jsonSchema(t), stdout)
		var d struct {
			Netns struct{ Counted, NotCounted []ns } `json:"netns"`
		}
		json.Unmarshal([]byte(stdout), &d)
		out := map[uint64]ns{}
		for _, c := range append(d.Netns.Counted, d.Netns.NotCounted...) {
			out[c.Inode] = c
		}
		return out
	}
	got := run()
	if c, ok := got[netnsInode(t, pin)]; !ok || c.Name != "netns "+pin {
		t.Errorf("the namespace pinned at %s: %+v, found %v", pin, c, ok)
	}
	if c, ok := got[netnsInode(t, uts)]; ok {
		t.Errorf("a UTS namespace taken for a network namespace: %+v", c)
	}
	self := netnsInode(t, "/proc/self/ns/net")
	ipHost := got[netnsInode(t, "/run/netns/host")]
	if ipHost.Name != "netns host" || ipHost.Perf != "netns-host" || got[self].Name != "host" || got[self].Perf != "host" {
		t.Errorf("ip netns host: %+v; the checker's own: %+v", ipHost, got[self])
	}
	ab, a_b := got[netnsInode(t, "/run/netns/"+names[1])], got[netnsInode(t, "/run/netns/"+names[2])]
	if ab.Perf == a_b.Perf || ab.Perf == "" {
		t.Errorf("%s and %s share the label %q", names[1], names[2], ab.Perf)
	}
	// Without the other, each keeps its label.
	ino := netnsInode(t, "/run/netns/"+names[1])
	osExec("ip", "netns", "del", names[2])
	if again := run()[ino]; again.Perf != ab.Perf {
		t.Errorf("%s: label %q beside %s, %q without", names[1], ab.Perf, names[2], again.Perf)
	}
}
