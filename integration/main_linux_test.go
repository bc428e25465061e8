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
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	return nobody(t, "", append([]string{binary}, args...)...)
}

// asNobodyWith runs it as nobody with the capabilities caps
// ("+sys_ptrace,+dac_read_search"), raised as ambient ones.
func asNobodyWith(t *testing.T, caps string, args ...string) *exec.Cmd {
	t.Helper()
	return nobody(t, caps, append([]string{binary}, args...)...)
}

// nobody is a command that runs argv as nobody (uid and gid 65534, no
// groups), with the capabilities caps ("" for none).
func nobody(t *testing.T, caps string, argv ...string) *exec.Cmd {
	t.Helper()
	need(t, "setpriv", "util-linux")
	opts := []string{"--reuid=65534", "--regid=65534", "--clear-groups"}
	if caps != "" {
		opts = append(opts, "--inh-caps="+caps, "--ambient-caps="+caps)
	}
	return exec.Command("setpriv", append(opts, argv...)...)
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
	return runCmd(t, exec.Command(path, args...))
}

// runCmd runs cmd and returns its stdout, stderr and exit code.
func runCmd(t *testing.T, cmd *exec.Cmd) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%q: %v", cmd.Args, err)
	}
	validateOutput(t, cmd.Args, stdout.String()) // any run of the plugin that asked for JSON
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// allBackends are the --backend values; kernelBackends those that read the
// kernel's tables (not gopsutil), which count unix sockets and enter a
// network namespace.
var (
	allBackends    = []string{"auto", "netlink", "procfs", "gopsutil"}
	kernelBackends = []string{"auto", "netlink", "procfs"}
)

// outputCase is a run of the plugin and what it must print and exit with.
type outputCase struct {
	args   []string
	stdout string
	code   int
}

// runCases runs each case with each backend (nil: once, as it is), as a
// subtest named by its arguments: stdout exactly, the exit code, and
// nothing on stderr.
func runCases(t *testing.T, backends []string, cases []outputCase) {
	t.Helper()
	if backends == nil {
		backends = []string{""}
	}
	for _, backend := range backends {
		for _, c := range cases {
			args := c.args
			if backend != "" {
				args = append([]string{"--backend", backend}, c.args...)
			}
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				stdout, stderr, code := runBinary(t, args...)
				if stdout != c.stdout || code != c.code || stderr != "" {
					t.Errorf("exit %d, stdout:\n%s\nwant exit %d, stdout:\n%s\nstderr: %q", code, stdout, c.code, c.stdout, stderr)
				}
			})
		}
	}
}

// checkUnknown checks the contract for what the check cannot answer: exit
// 3, nothing on stderr, and one line on stdout that begins with prefix
// ("UNKNOWN: " and what it must name; with --format json the document's
// start).
func checkUnknown(t *testing.T, what, stdout, stderr string, code int, prefix string) {
	t.Helper()
	if code != 3 || stderr != "" || strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") || !strings.HasPrefix(stdout, prefix) {
		t.Errorf("%s: exit %d, stdout %.300q, stderr %q; want exit 3, nothing on stderr, and one line beginning %q", what, code, stdout, stderr, prefix)
	}
}

// Bad input through the real process: exit 3, one stdout line, and nothing
// on stderr (the full table runs in-process in the plugin's own tests).
func TestBadInputProcess(t *testing.T) {
	for _, args := range [][]string{{"--bogus"}, {"-w", "abc"}, {"--conn-type", "sctp"}, {"--local-port", "70000"},
		{"--format", "json", "-c", "1:2:3"}, {"-c", "total=0"}, {"--conn-type", strings.Repeat("x", 100_000)}} {
		stdout, stderr, code := runBinary(t, args...)
		prefix := "UNKNOWN: "
		if slices.Contains(args, "json") {
			prefix = `{"schema_version":2,"state":"UNKNOWN",`
		}
		checkUnknown(t, fmt.Sprintf("%.60q", args), stdout, stderr, code, prefix)
		if len(stdout) > 1200 {
			t.Errorf("%.60q: %d bytes on stdout, want a line of at most 1200", args, len(stdout))
		}
	}
}
