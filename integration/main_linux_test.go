// Package integration drives the built plugin as the monitoring cores, an
// admin and a packager do: in private network namespaces against ss, under
// the real Icinga 2 and Nagios 4, as the Windows build under wine, as
// packages, at scale and under churn, and in make bench. It is a module of its
// own so that the plugin's module keeps only what the plugin needs. Tests
// that need root or a tool skip and say which.
package integration

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/network-connections/network-connections/internal/netnstest"
)

// repo is the plugin's source tree; binary the plugin built from it once.
var repo, binary string

func TestMain(m *testing.M) {
	if pairs := os.Getenv("NC_HOLD_PAIRS"); pairs != "" {
		holdSockets(pairs) // a socket holder, not a test run
		return
	}
	repo, _ = filepath.Abs("..")
	// A test re-run inside a network namespace is handed the binary.
	if binary = os.Getenv("NC_BINARY"); binary != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "network-connections-test")
	if err != nil {
		panic(err)
	}
	os.Chmod(dir, 0o755) // tests run it as nobody too
	binary = filepath.Join(dir, "network-connections")
	// Static, as make build and make dist build it: a dynamic binary's
	// loader fails on its own under a low ulimit -n.
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir, build.Env, build.Stderr = repo, append(os.Environ(), "CGO_ENABLED=0"), os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		panic("go build: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// inPrivateNetns re-runs the calling test in a network namespace of its own,
// handing it the binary; true in the re-run, false in the parent.
func inPrivateNetns(t *testing.T) bool {
	t.Helper()
	return netnstest.Enter(t, "NC_BINARY="+binary)
}

// alone re-runs the calling test as inPrivateNetns does, in PID and mount
// namespaces of its own too, with a private /run: every network namespace
// and process that --netns all finds there is the test's (or its own).
func alone(t *testing.T) bool {
	t.Helper()
	return netnstest.EnterAlone(t, "NC_BINARY="+binary)
}

// need skips the test when a tool it runs is missing, naming the package.
func need(t *testing.T, tool, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("needs %s: apt-get install %s (make deps does)", tool, pkg)
	}
	return path
}

// asNobody is a command that runs the plugin as nobody, with no capability.
func asNobody(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	return asNobodyWith(t, "", args...)
}

// asNobodyWith runs it as nobody with the capabilities caps
// ("+sys_ptrace,+dac_read_search"), raised as ambient ones.
func asNobodyWith(t *testing.T, caps string, args ...string) *exec.Cmd {
	t.Helper()
	need(t, "setpriv", "util-linux")
	opts := []string{"--reuid=65534", "--regid=65534", "--clear-groups"}
	if caps != "" {
		opts = append(opts, "--inh-caps="+caps, "--ambient-caps="+caps)
	}
	return exec.Command("setpriv", append(append(opts, binary), args...)...)
}

// widePorts widens the namespace's ephemeral port range, for tests that
// open more connections than the default range holds.
func widePorts(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535").CombinedOutput(); err != nil {
		t.Fatalf("sysctl: %v: %s", err, out)
	}
}

// runBinary runs the built plugin and returns its stdout, stderr and exit code.
func runBinary(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runBinaryAt(t, binary, args...)
}

// runBinaryAt runs the plugin at path.
func runBinaryAt(t *testing.T, path string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s %q: %v", path, args, err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// Bad input through the real process: exit 3, one stdout line, and nothing
// on stderr (the full table runs in-process in the plugin's own tests).
func TestBadInputProcess(t *testing.T) {
	for _, args := range [][]string{{"--bogus"}, {"-w", "abc"}, {"--conn-type", "sctp"}, {"--local-port", "70000"},
		{"--format", "json", "-c", "1:2:3"}, {"-c", "total=0"}, {"--conn-type", strings.Repeat("x", 100_000)}} {
		stdout, stderr, code := runBinary(t, args...)
		if code != 3 || stderr != "" || strings.Count(stdout, "\n") != 1 || len(stdout) > 1200 {
			t.Errorf("%.60q: exit %d, stdout %.200q, stderr %q", args, code, stdout, stderr)
		}
	}
}
