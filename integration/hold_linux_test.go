package integration

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// holdSockets opens pairs connected loopback TCP sockets, says "ready" and its
// listener's port, and holds them until stdin closes (see holder).
func holdSockets(arg string) {
	pairs, err := strconv.Atoi(arg)
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "socket holder:", err)
		os.Exit(1)
	}
	if err != nil {
		fail(err)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	conns := make([]net.Conn, 0, 2*pairs)
	for range pairs {
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			fail(err)
		}
		s, err := l.Accept()
		if err != nil {
			fail(err)
		}
		conns = append(conns, c, s)
	}
	fmt.Printf("ready %5d\n", l.Addr().(*net.TCPAddr).Port)
	io.Copy(io.Discard, os.Stdin)
}

// holder starts a socket holder with pairs connected loopback sockets and a
// listener, and returns its pid and the listener's port. With a name, it runs
// as a process of that name (the test binary under another name), for --top.
func holder(t *testing.T, name string, pairs int) (pid, port int) {
	t.Helper()
	path := os.Args[0]
	if name != "" {
		dir := t.TempDir()
		os.Chmod(dir, 0o755)
		path = filepath.Join(dir, name)
		if err := os.Symlink(os.Args[0], path); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), fmt.Sprintf("NC_HOLD_PAIRS=%d", pairs))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	ready := make([]byte, 12)
	if _, err := io.ReadFull(stdout, ready); err != nil || !strings.HasPrefix(string(ready), "ready ") {
		t.Fatalf("socket holder: %q, %v", ready, err)
	}
	fmt.Sscan(string(ready[6:]), &port)
	return cmd.Process.Pid, port
}
