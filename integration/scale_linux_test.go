package integration

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// TestScale: at half a million sockets, held by 28 processes (one may hold
// no more files than its limit), the check still counts each one, in a
// peak RSS under 20 MiB.
func TestScale(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 500k sockets: not in -short")
	}
	if !inPrivateNetns(t) {
		return
	}
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		t.Fatal("needs GNU time for the peak RSS (make deps installs it)")
	}
	widePorts(t)
	const holders = 28
	var wg sync.WaitGroup
	for range holders {
		wg.Add(1)
		go func() { defer wg.Done(); holder(t, "", holdPairs) }()
	}
	wg.Wait()
	est, listen := holders*holdPairs*2, holders

	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, fmt.Sprintf("tcp ESTABLISHED: %d, tcp LISTEN: %d|'tcp_ESTABLISHED'=%d;;;0 'tcp_LISTEN'=%d;;;0\n", est, listen, est, listen)},
		{[]string{"--conn-type", "tcp", "--conn-status", "established", "-w", "500000"},
			fmt.Sprintf("tcp ESTABLISHED: %d [WARNING]|'tcp_ESTABLISHED'=%d;500000;;0\n", est, est)},
		{[]string{"--backend", "procfs"}, fmt.Sprintf("tcp ESTABLISHED: %d, tcp LISTEN: %d|'tcp_ESTABLISHED'=%d;;;0 'tcp_LISTEN'=%d;;;0\n", est, listen, est, listen)},
	} {
		out, kib := peakRSS(t, append([]string{binary}, tt.args...))
		if string(out) != tt.want {
			t.Errorf("%q: %q, want %q", tt.args, out, tt.want)
		}
		t.Logf("%q: peak RSS %.1f MiB", tt.args, float64(kib)/1024)
		if kib == 0 || kib >= 20*1024 {
			t.Errorf("%q: peak RSS %d KiB, want under 20 MiB", tt.args, kib)
		}
	}
}
