package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/network-connections/network-connections/internal/netns"
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
	// No keepalive: 500k sockets probing every 15 s overflow loopback's
	// backlog, the probes are dropped, and after nine the kernel resets the
	// connections (seen: 28k of 500k gone after three minutes).
	lc := net.ListenConfig{KeepAlive: -1}
	l, err := lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	// NC_HOLD_PEERS=N: the clients come from N loopback addresses
	// (127.1.0.1 on), as from N peers.
	peers, _ := strconv.Atoi(os.Getenv("NC_HOLD_PEERS"))
	conns := make([]net.Conn, 0, 2*pairs)
	for i := range pairs {
		d := net.Dialer{KeepAlive: -1}
		if peers > 0 {
			k := i % peers
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 1, byte(k/250), byte(k%250+1))}
		}
		c, err := d.Dial("tcp4", l.Addr().String())
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
	// Unreachable sockets are closed by their finalizers at the next GC, which
	// Go forces every two minutes: without this, a holder lost its sockets in
	// long benchmark runs.
	runtime.KeepAlive(conns)
	runtime.KeepAlive(l)
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
	return startHolder(t, exec.Command(path), pairs)
}

// holderIn starts a socket holder under a wrapper: wrap's command runs
// "$@", the holder, as its last step (exec), so the pid is the holder's.
func holderIn(t *testing.T, wrap string, pairs int) (pid, port int) {
	t.Helper()
	return startHolder(t, exec.Command("sh", "-c", wrap+` "$@"`, "sh", os.Args[0]), pairs)
}

func startHolder(t *testing.T, cmd *exec.Cmd, pairs int) (pid, port int) {
	t.Helper()
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

// holdIn opens sockets inside the namespace that `ip netns add name` made,
// held by this process until the test ends: listeners TCP listeners on
// 127.0.0.1 (ports 7000 on), pairs connections to the first, and a UDP
// socket (port 6999).
func holdIn(t *testing.T, name string, listeners, pairs int) {
	t.Helper()
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip -n %s link set lo up: %v: %s", name, err, out)
	}
	var fds []int
	t.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
	open := func(typ int) (int, error) {
		fd, err := unix.Socket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, 0)
		if err == nil {
			fds = append(fds, fd)
		}
		return fd, err
	}
	lo := func(port int) *unix.SockaddrInet4 {
		return &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}
	}
	err := inNamedNetns(name, func() error {
		var first int
		for i := range listeners {
			l, err := open(unix.SOCK_STREAM)
			if err != nil {
				return err
			}
			if err := unix.Bind(l, lo(7000+i)); err != nil {
				return err
			}
			if err := unix.Listen(l, pairs+1); err != nil {
				return err
			}
			if i == 0 {
				first = l
			}
		}
		for range pairs {
			c, err := open(unix.SOCK_STREAM)
			if err != nil {
				return err
			}
			if err := unix.Connect(c, lo(7000)); err != nil {
				return err
			}
			s, _, err := unix.Accept4(first, unix.SOCK_CLOEXEC)
			if err != nil {
				return err
			}
			fds = append(fds, s)
		}
		u, err := open(unix.SOCK_DGRAM)
		if err != nil {
			return err
		}
		return unix.Bind(u, lo(6999))
	})
	if err != nil {
		t.Fatalf("sockets in %s: %v", name, err)
	}
}

// inNamedNetns runs fn on a thread of its own inside the namespace that
// `ip netns add name` made: the sockets fn opens are that namespace's.
func inNamedNetns(name string, fn func() error) error {
	return netns.In("/run/netns/"+name, unix.CLONE_NEWNET, fn)
}
