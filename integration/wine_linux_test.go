package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/network-connections/network-connections/internal/netnstest"
)

// wine is a Windows build of the plugin and a wine prefix to run it in,
// whose wineserver runs in the test's network namespace: wine's IP Helper
// answers from the tables of the namespace its wineserver started in.
type wine struct {
	exe, wine64, prefix string
	env                 []string
}

// startWine builds the Windows binary and a prefix for it. Call it inside a
// private network namespace.
func startWine(t *testing.T) *wine {
	t.Helper()
	w := &wine{prefix: filepath.Join(t.TempDir(), "prefix")}
	for _, p := range []string{"/usr/lib/wine/wine64", "wine64"} {
		if path, err := exec.LookPath(p); err == nil {
			w.wine64 = path
			break
		}
	}
	w.env = append(os.Environ(), "WINEPREFIX="+w.prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=", "DISPLAY=")
	// Output to a file, not a pipe: wine's servers outlive the command and
	// would hold a pipe open.
	log := filepath.Join(t.TempDir(), "wine.log")
	run := func(name string, args ...string) {
		t.Helper()
		f, err := os.Create(log)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd := exec.Command(name, args...)
		cmd.Env, cmd.Stdout, cmd.Stderr = w.env, f, f
		if err := cmd.Run(); err != nil {
			out, _ := os.ReadFile(log)
			t.Fatalf("%s %q: %v\n%s", name, args, err, out)
		}
	}
	w.exe = filepath.Join(t.TempDir(), "network-connections.exe")
	build := exec.Command("go", "build", "-o", w.exe, ".")
	build.Dir = repo
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=windows go build: %v\n%s", err, out)
	}
	// The server first, persistent, so that every wine process of this
	// prefix talks to one that sees this namespace.
	if err := os.MkdirAll(w.prefix, 0o755); err != nil {
		t.Fatal(err)
	}
	run("wineserver", "-p")
	t.Cleanup(func() {
		cmd := exec.Command("wineserver", "-k")
		cmd.Env = w.env
		cmd.Run()
	})
	run(w.wine64, "wineboot", "-i")
	dll := filepath.Join(w.prefix, "drive_c/windows/system32/bcryptprimitives.dll")
	run("x86_64-w64-mingw32-gcc", "-shared", "-O2", "-s", "-nostartfiles", "-e", "DllMain", "-o", dll,
		filepath.Join(repo, "testdata/wine/bcryptprimitives.c"), filepath.Join(repo, "testdata/wine/bcryptprimitives.def"), "-ladvapi32")
	return w
}

// run runs the Windows build with args; wine's own noise on stderr (lines
// it prefixes with "wine") is dropped, anything else is returned.
func (w *wine) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(w.wine64, append([]string{w.exe}, args...)...)
	cmd.Env = w.env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second // a wine child holding stderr open
	cmd.Run()
	var ours []string
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if l != "" && !strings.HasPrefix(l, "wine") {
			ours = append(ours, l)
		}
	}
	return strings.ReplaceAll(stdout.String(), "\r\n", "\n"), strings.Join(ours, "\n"), cmd.ProcessState.ExitCode()
}

// needWine skips a test that needs wine and mingw-w64 where they are missing.
func needWine(t *testing.T) {
	t.Helper()
	if netnstest.Inside() {
		return
	}
	for _, tool := range []string{"wineserver", "x86_64-w64-mingw32-gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: apt-get install wine wine64 gcc-mingw-w64-x86-64 (make deps does)", tool)
		}
	}
	if _, err := exec.LookPath("/usr/lib/wine/wine64"); err != nil {
		if _, err := exec.LookPath("wine64"); err != nil {
			t.Skip("needs wine64: apt-get install wine64 (make deps does)")
		}
	}
}

// The Windows build, run under wine in a namespace holding every TCP state,
// says what the Linux build says.
func TestWindowsBuildUnderWine(t *testing.T) {
	needWine(t)
	if !inPrivateNetns(t) {
		return
	}
	m := socketMix(t)
	w := startWine(t)
	p := strconv.Itoa
	cases := [][]string{
		nil,
		{"--conn-type", "tcp", "--conn-status", "established", "-w", "8"},
		{"--conn-status", "time_wait,syn_sent,syn_recv,fin_wait2,close_wait", "-w", "1", "-c", "2"},
		{"--conn-type", "tcp6"},
		{"--conn-type", "udp,udp6", "--group-by", "type"},
		{"--conn-type", "tcp", "--conn-status", "listen,closing", "--report-missing", "-c", "1:"},
		{"--group-by", "status", "-w", "established=5"},
		{"--group-by", "none", "-c", "20"},
		{"--local-port", p(m.port)},
		{"--remote-port", p(m.port), "--conn-status", "established,close_wait"},
		{"--local-port", p(m.udpPort)},
		{"--conn-type", "udp,udp6", "--remote-address", "0.0.0.0/0,::/0"},
		{"--local-address", "::1"},
		{"--local-address", "::ffff:127.0.0.1"},
		{"--local-address", "::/0"},
		{"--local-address", "127.0.0.0/8", "--conn-type", "tcp,tcp6"},
		{"-c", "tcp6_listen=1", "-w", "established=5"},
		{"--conn-status", "last_ack"},
		{"--conn-type", "sctp"},
		{"--always-ok", "-c", "1"},
		{"--top", "4", "--top-by", "local-port", "--conn-type", "tcp,tcp6"},
		{"--top", "5", "--top-by", "remote-address", "--conn-status", "established", "--top-critical", "8"},
		{"--top", "1", "--top-by", "remote-port", "--top-warning", "@1:2", "--conn-type", "tcp,tcp6"},
		{"--top-by", "remote-network", "--top-warning", "2", "--conn-type", "tcp,tcp6"},
		{"--no-perfdata", "-w", "2"},
		{"--group-by", "netns,status", "-c", "established=5"},
		{"--group-by", "netns", "--report-missing", "--conn-type", "tcp6"},
		{"--group-by", "netns,netns"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			want, _, wantCode := runBinary(t, args...)
			got, stderr, code := w.run(t, args...)
			if got != want || code != wantCode || stderr != "" {
				t.Errorf("windows build: exit %d, stdout:\n%s\nlinux build: exit %d, stdout:\n%s\nstderr: %q", code, got, wantCode, want, stderr)
			}
		})
	}

	// --netns all, a Linux thing: one UNKNOWN saying so, in both formats.
	for _, args := range [][]string{{"--netns", "all"}, {"--netns", "all", "--group-by", "netns", "--format", "json"}} {
		got, stderr, code := w.run(t, args...)
		if code != 3 || stderr != "" || strings.Count(got, "\n") != 1 || !strings.Contains(got, "--netns all: network namespaces exist only on Linux") {
			t.Errorf("windows build %q: exit %d, stdout %q, stderr %q", args, code, got, stderr)
		}
	}

	// The measures: listen queues and conntrack are Linux's, one UNKNOWN
	// saying so; ephemeral ports from the IP Helper tables and netsh's
	// dynamic port range, or, where netsh has none (wine's may not), the
	// range unknown, said in the long output.
	for _, args := range [][]string{{"--listen-queue-warning", "50"}, {"--conntrack-critical", "90", "--format", "json"}} {
		got, stderr, code := w.run(t, args...)
		if code != 3 || stderr != "" || strings.Count(got, "\n") != 1 || !strings.Contains(got, "exist on Linux only") {
			t.Errorf("windows build %q: exit %d, stdout %q, stderr %q", args, code, got, stderr)
		}
	}
	ports, stderr, code := w.run(t, "--port-usage-warning", "50")
	if stderr != "" || !strings.Contains(ports, "'port_usage_max_pct'=") ||
		!strings.Contains(ports, "ephemeral ports: ") && !strings.Contains(ports, "ephemeral port range host: unknown: netsh") {
		t.Errorf("windows build --port-usage-warning 50: exit %d, stdout %q, stderr %q", code, ports, stderr)
	}

	// The unit tests, built for Windows.
	for _, pkg := range []string{"collect", "report", "threshold", "saturation"} {
		t.Run("unit tests of internal/"+pkg, func(t *testing.T) {
			exe := filepath.Join(t.TempDir(), pkg+".test.exe")
			build := exec.Command("go", "test", "-c", "-o", exe, "./internal/"+pkg)
			build.Dir = repo
			build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("GOOS=windows go test -c: %v\n%s", err, out)
			}
			cmd := exec.Command(w.wine64, exe, "-test.count=1")
			cmd.Env, cmd.Dir = w.env, filepath.Join(repo, "internal", pkg)
			var out strings.Builder
			cmd.Stdout, cmd.Stderr, cmd.WaitDelay = &out, &out, 5*time.Second
			if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "PASS") {
				t.Errorf("internal/%s under wine: %v\n%s", pkg, err, out.String())
			}
		})
	}

	// JSON: the same document but for how it was counted.
	for _, args := range [][]string{{"--format", "json"}, {"--format", "json", "--conn-type", "tcp", "-c", "5"}} {
		want, _, wantCode := runBinary(t, args...)
		got, _, code := w.run(t, args...)
		if a, b := jsonWithout(t, got), jsonWithout(t, want); a != b || code != wantCode {
			t.Errorf("windows build %q: exit %d\n%s\nlinux build: exit %d\n%s", args, code, a, wantCode, b)
		}
	}

	// --top: wine gives every socket owner pid 0, so the holders cannot be
	// named here; the sockets must still all be accounted for.
	got, _, code := w.run(t, "--conn-type", "tcp", "--conn-status", "established,time_wait", "--top", "3")
	wantTop := "tcp ESTABLISHED: 10, tcp TIME WAIT: 1|'tcp_ESTABLISHED'=10;;;0 'tcp_TIME_WAIT'=1;;;0\n" +
		"Top processes by sockets in all groups (tcp ESTABLISHED, tcp TIME WAIT):\n" +
		"no process: 1 tcp TIME WAIT (TIME_WAIT sockets and connections not yet accepted belong to the kernel)\n" +
		"owner not found: 10 tcp ESTABLISHED (their processes ended meanwhile or live in another PID namespace)\n"
	if got != wantTop || code != 0 {
		t.Errorf("--top under wine: exit %d\n%s\nwant:\n%s", code, got, wantTop)
	}
}

// jsonWithout is a JSON document without the fields that tell how it was
// counted (backend, time taken).
func jsonWithout(t *testing.T, doc string) string {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	delete(d, "backend")
	delete(d, "duration_ms")
	b, _ := json.Marshal(d)
	return string(b)
}
