package collect

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/network-connections/network-connections/internal/netnstest"
)

// refusing is a sock_diag that the kernel refuses, as in a locked-down
// container.
func refusing() (dumper, error) { return nil, &DumpError{Op: "socket", Err: unix.EPERM} }

// TestFallbackLive: with sock_diag refused, the fallback counts what sock_diag
// counts, in a private network namespace (re-run under unshare -n, as root).
func TestFallbackLive(t *testing.T) {
	if !netnstest.Enter(t) {
		return
	}
	for network, addr := range map[string]string{"tcp4": "127.0.0.1:0", "tcp6": "[::1]:0"} {
		l, err := net.Listen(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		for range 3 {
			c, err := net.Dial(network, l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			s, _ := l.Accept()
			defer s.Close()
		}
	}
	u, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	defer u.Close()
	ul, _ := net.Listen("unix", t.TempDir()+"/s")
	defer ul.Close()

	f := All
	f.Types |= 1 << Unix
	ctx := context.Background()
	want, err := Count(ctx, SockDiag{}, f)
	if err != nil {
		t.Fatal(err)
	}
	if want[TCP][Established] != 6 || want[TCP6][Listen] != 1 || want[UDP][None] != 1 || want[Unix][Listen] != 1 {
		t.Fatalf("sock_diag: %v", want)
	}
	a := Auto{sockDiag: refusing}
	got, err := a.Collect(ctx, f, nil)
	if err != nil || got.Counts != want || got.Backend != "procfs (sock_diag socket: operation not permitted)" {
		t.Errorf("refused: %v %v (%s), want %v", got.Counts, err, got.Backend, want)
	}

	// /proc/net unreadable as well: an error naming what failed.
	a = Auto{sockDiag: refusing, procfs: Procfs{Dir: "/nonexistent/net"}}
	if _, err := Count(ctx, a, f); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "/nonexistent/net/tcp") {
		t.Errorf("both refused: %v, want an error naming /nonexistent/net/tcp", err)
	}
}
