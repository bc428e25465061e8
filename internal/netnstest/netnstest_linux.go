// Package netnstest runs a test inside a private network namespace of its
// own, where only the sockets the test opens exist, so that every count the
// test checks is exact. Tests only.
package netnstest

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// envName marks the re-run: it holds the name of the test re-run.
const envName = "NC_IN_NETNS"

// Inside reports whether this process is a test re-run in its namespace.
func Inside() bool { return os.Getenv(envName) != "" }

// Enter re-runs the calling test (alone, under unshare -n, with env added to
// its environment) and reports true in the re-run, where the test goes on,
// and false in the parent, which stops there. It skips, saying why, without
// root or the tools.
func Enter(t *testing.T, env ...string) bool {
	t.Helper()
	return EnterWith(t, nil, env...)
}

// EnterAlone is Enter in PID and mount namespaces of its own too, with a
// tmpfs on /run: the processes, and the named network namespaces (ip netns,
// Docker's, all under /run), that --netns all finds there are the test's
// alone, also on a host that runs containers or has an ip netns of its own.
func EnterAlone(t *testing.T, env ...string) bool {
	t.Helper()
	if os.Getenv(envName) == t.Name() {
		// unshare --mount-proc made the mount namespace private: this tmpfs
		// hides the host's /run from the test, and the test's from the host.
		if err := unix.Mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"); err != nil {
			t.Fatalf("a private /run: %v", err)
		}
	}
	return EnterWith(t, []string{"-p", "-f", "--mount-proc"}, env...)
}

// EnterWith is Enter with more unshare options.
func EnterWith(t *testing.T, unshare []string, env ...string) bool {
	t.Helper()
	if os.Getenv(envName) == t.Name() {
		if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
			t.Fatalf("ip link set lo up: %v: %s", err, out)
		}
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates a private network namespace with unshare -n")
	}
	for _, tool := range []string{"unshare", "ip", "ss"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: apt-get install util-linux iproute2 (make deps does)", tool)
		}
	}
	args := append(append([]string{}, unshare...), "-n", os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1")
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(append(os.Environ(), envName+"="+t.Name()), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("in a private network namespace:\n%s", out)
	if err != nil {
		t.Fatalf("the test failed in its namespace: %v", err)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatal("the test did not run in its namespace")
	}
	return false
}
