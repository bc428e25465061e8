package integration

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hangingFIFO is a path whose open(2) blocks until a writer comes: as
// --netns it makes the collector hang in a syscall, as a stuck kernel would.
func hangingFIFO(t *testing.T) string {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	return fifo
}

func TestHangingCollectorTimesOut(t *testing.T) {
	start := time.Now()
	stdout, stderr, code := runBinary(t, "--netns", hangingFIFO(t), "-t", "1")
	took := time.Since(start)
	checkUnknown(t, "-t 1", stdout, stderr, code, "UNKNOWN: the auto collector did not answer within the timeout of 1s (--timeout)\n")
	if took > 1500*time.Millisecond {
		t.Errorf("took %s, want at most the timeout plus 0.5 s", took)
	}
}

func TestSIGTERM(t *testing.T) {
	for _, format := range []string{"nagios", "json"} {
		cmd := exec.Command(binary, "--netns", hangingFIFO(t), "-t", "30", "--format", format)
		var out strings.Builder
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		sent := time.Now()
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		want := "UNKNOWN: stopped by signal 15 (terminated) before the check finished\n"
		if format == "json" {
			want = `"error":"stopped by signal 15 (terminated) before the check finished"`
		}
		if code := cmd.ProcessState.ExitCode(); code != 3 || !strings.Contains(out.String(), want) || time.Since(sent) > time.Second {
			t.Errorf("%s: exit %d after %s: %q, want 3 promptly and %q", format, code, time.Since(sent), out.String(), want)
		}
	}
}

// Output nobody reads: a pipe whose reader went away before the check
// wrote, and no stdout at all (EBADF). The check neither waits for a reader
// (drain_linux.go) nor says anything on stderr: with no stdout it exits with
// its result (OK, without thresholds), and on the broken pipe SIGPIPE ends
// it, as it ends any program whose reader went away.
func TestStdoutClosed(t *testing.T) {
	args := []string{"--conn-type", "all,unix", "--group-by", "type,status", "--report-missing"}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	gone := exec.Command(binary, args...)
	gone.Stdout = w
	closed := exec.Command("sh", append([]string{"-c", `exec "$0" "$@" >&-`, binary}, args...)...)
	for _, c := range []struct {
		name string
		cmd  *exec.Cmd
		sig  syscall.Signal // 0: exits 0
	}{{"reader gone", gone, syscall.SIGPIPE}, {"no stdout", closed, 0}} {
		var stderr strings.Builder
		c.cmd.Stderr = &stderr
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		done := make(chan struct{})
		go func() { c.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			c.cmd.Process.Kill()
			<-done
			t.Errorf("%s: still running after 5 s", c.name)
			continue
		}
		ws := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
		if c.sig != 0 && !(ws.Signaled() && ws.Signal() == c.sig) || c.sig == 0 && ws.ExitStatus() != 0 || stderr.Len() > 0 {
			t.Errorf("%s: %v, stderr %q; want %v and nothing on stderr", c.name, c.cmd.ProcessState, stderr.String(), map[bool]string{true: c.sig.String(), false: "exit 0"}[c.sig != 0])
		}
	}
}

// The default check works unprivileged: as nobody it gives root's answer.
func TestAsNobody(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	socketMix(t)
	for _, args := range [][]string{nil, {"--conn-type", "all,unix"}, {"--backend", "procfs"}, {"--local-port", "1-30000", "-w", "2"}} {
		root, _, rootCode := runBinary(t, args...)
		cmd := asNobody(t, args...)
		out, err := cmd.Output()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		if string(out) != root || cmd.ProcessState.ExitCode() != rootCode {
			t.Errorf("%q as nobody: exit %d\n%s\nas root: exit %d\n%s", args, cmd.ProcessState.ExitCode(), out, rootCode, root)
		}
	}
}

// No shell-outs, no files written, no network but netlink: what strace sees.
// Alone: --top walks only the test's processes, not a busy host's, under
// strace.
func TestSyscalls(t *testing.T) {
	need(t, "strace", "strace")
	if !alone(t) {
		return
	}
	socketMix(t)
	for _, args := range [][]string{nil, {"--backend", "procfs", "--conn-type", "all,unix"}, {"--top", "3", "-v"}, {"--local-port", "1-1024", "--format", "json"}} {
		log := filepath.Join(t.TempDir(), "strace")
		cmd := exec.Command("strace", append([]string{"-f", "-qq", "-o", log, "-e", "trace=execve,execveat,fork,vfork,open,openat,creat,socket,connect,sendto,sendmsg,bind", binary}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil && cmd.ProcessState.ExitCode() > 2 {
			t.Fatalf("%q: %v\n%s", args, err, out)
		}
		b, _ := os.ReadFile(log)
		execs := 0
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			call := strings.Fields(line)[1]
			switch {
			case strings.HasPrefix(call, "execve("):
				execs++
			case strings.HasPrefix(call, "fork(") || strings.HasPrefix(call, "vfork(") || strings.HasPrefix(call, "creat("):
				t.Errorf("%q: %s", args, line)
			case strings.HasPrefix(call, "open"):
				if strings.Contains(line, "O_WRONLY") || strings.Contains(line, "O_RDWR") || strings.Contains(line, "O_CREAT") {
					t.Errorf("%q writes a file: %s", args, line)
				}
			case strings.HasPrefix(call, "socket("):
				if !strings.Contains(line, "AF_NETLINK") {
					t.Errorf("%q opens a socket that is not netlink: %s", args, line)
				}
			case strings.HasPrefix(call, "connect(") || strings.HasPrefix(call, "sendto(") || strings.HasPrefix(call, "sendmsg(") || strings.HasPrefix(call, "bind("):
				if !strings.Contains(line, "AF_NETLINK") {
					t.Errorf("%q sends elsewhere than netlink: %s", args, line)
				}
			}
		}
		if execs != 1 {
			t.Errorf("%q: %d execve, want 1 (itself):\n%s", args, execs, b)
		}
	}
}

// A SIGTERM at any moment of a check: its own line with exit 0-2, or the
// UNKNOWN line with exit 3; never an exit code without its line. Killed by
// the signal itself (before the handler exists) is allowed, with no output.
func TestSIGTERMAnyMoment(t *testing.T) {
	argvs := [][]string{{"--conn-type", "tcp", "-w", "0"}}
	if os.Geteuid() == 0 { // entering every namespace takes longer: more moments
		argvs = append(argvs, []string{"--netns", "all", "--group-by", "netns", "-w", "0"})
	}
	for _, argv := range argvs {
		sigtermAnyMoment(t, argv)
	}
}

func sigtermAnyMoment(t *testing.T, argv []string) {
	const runs = 300
	var codes [4]int
	killed := 0
	for i := range runs {
		cmd := exec.Command(binary, argv...)
		var out strings.Builder
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Spread the signal over a check's life, start-up to exit (a few ms).
		time.Sleep(time.Duration(i%40) * 100 * time.Microsecond)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		code, stdout := cmd.ProcessState.ExitCode(), out.String()
		switch {
		case code == -1 && stdout == "":
			killed++
		case code == 3 && strings.HasPrefix(stdout, "UNKNOWN: stopped by signal 15") && strings.Count(stdout, "\n") == 1:
			codes[3]++
		case code >= 0 && code <= 2 && stdout != "" && !strings.HasPrefix(stdout, "UNKNOWN"):
			codes[code]++
		default:
			t.Errorf("%q, run %d: exit %d with stdout %q", argv, i, code, stdout)
		}
	}
	t.Logf("%q, %d runs: killed before the handler %d, UNKNOWN %d, the check's own result %d", argv, runs, killed, codes[3], codes[0]+codes[1]+codes[2])
}

// Too few file descriptors: one UNKNOWN line naming the limit, exit 3, and
// nothing on stderr, for every limit up to what the check needs.
func TestFewFileDescriptors(t *testing.T) {
	prlimit := need(t, "prlimit", "util-linux")
	for _, n := range []int{3, 4, 5, 6, 7, 10, 15} {
		out := filepath.Join(t.TempDir(), "out")
		// Files, not pipes, for stdout and stderr: fds 0-2 and no more.
		stdoutFile, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		stderrFile, err := os.Create(out + ".err")
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(prlimit, "--nofile="+strconv.Itoa(n), "--", binary)
		cmd.Stdout, cmd.Stderr = stdoutFile, stderrFile
		err = cmd.Run()
		stdoutFile.Close()
		stderrFile.Close()
		stdout, _ := os.ReadFile(out)
		stderr, _ := os.ReadFile(out + ".err")
		want := "UNKNOWN: the limit of open files is " + strconv.Itoa(n) + " (ulimit -n); the check needs at least 16\n"
		if cmd.ProcessState.ExitCode() != 3 || string(stdout) != want || len(stderr) != 0 {
			t.Errorf("ulimit -n %d: %v, stdout %q, stderr %q; want exit 3 and %q", n, err, stdout, stderr, want)
		}
	}
	// At the least it accepts, the most demanding check still counts: every
	// namespace, on a thread per CPU, each with its sock_diag socket.
	if os.Geteuid() == 0 {
		out, err := exec.Command(prlimit, "--nofile=16", "--", binary, "--netns", "all", "--group-by", "netns", "--top", "3").Output()
		if err != nil || strings.HasPrefix(string(out), "UNKNOWN") {
			t.Errorf("ulimit -n 16, --netns all --top 3: %v: %s", err, out)
		}
	}
}
