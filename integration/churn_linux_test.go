package integration

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestChurn runs the check 250 times while connections open and close by the
// thousand each second: never an UNKNOWN, and every count between the least
// and the most that could have been true while it ran. Neither sock_diag nor
// /proc/net is a snapshot: a dump walks the tables while sockets come and go,
// so what could have been true is any socket alive at some moment of the run.
func TestChurn(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	widePorts(t)
	const stablePairs, workers = 100, 8
	stable, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stable.Close()
	for range stablePairs {
		c, err := net.Dial("tcp4", stable.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s, _ := stable.Accept()
		defer s.Close()
	}
	churn, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer churn.Close()

	var churned atomic.Int64 // connections closed by both sides: one TIME_WAIT each
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var accepts sync.Mutex // one accept per dial, in this worker's order
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				accepts.Lock()
				c, err := net.Dial("tcp4", churn.Addr().String())
				if err != nil {
					accepts.Unlock()
					continue // a port still in TIME_WAIT: try the next
				}
				s, err := churn.Accept()
				accepts.Unlock()
				if err != nil {
					c.Close()
					return
				}
				c.Close()
				s.Read(make([]byte, 1))
				s.Close()
				churned.Add(1)
			}
		}()
	}
	defer func() { close(stop); churn.Close(); wg.Wait() }()

	time.Sleep(200 * time.Millisecond) // under way
	start, first := time.Now(), churned.Load()
	worst := map[string]int{} // most churned sockets seen in one run, by backend
	for i := range 250 {
		args := []string{"--conn-type", "tcp"}
		if i%5 == 4 {
			args = append(args, "--backend", "procfs")
		}
		before := churned.Load()
		stdout, stderr, code := runBinary(t, args...)
		after := churned.Load()
		if code != 0 || stderr != "" || strings.HasPrefix(stdout, "UNKNOWN") {
			t.Fatalf("run %d %q: exit %d %q %q", i, args, code, stdout, stderr)
		}
		c := perfCounts(t, stdout)
		inFlight := 0 // sockets of churned connections not yet in TIME_WAIT
		for label, n := range c {
			switch label {
			case "tcp_LISTEN", "tcp_ESTABLISHED", "tcp_TIME_WAIT":
			default:
				inFlight += n
			}
		}
		est := c["tcp_ESTABLISHED"]
		// Churned connections alive at some moment of the run: those closed
		// meanwhile and one open per worker. Each has two sockets.
		alive := int(after-before) + workers
		churnSockets := est - 2*stablePairs + inFlight
		if c["tcp_LISTEN"] != 2 || est < 2*stablePairs || churnSockets > 2*alive ||
			int64(c["tcp_TIME_WAIT"]) > after+workers {
			t.Fatalf("run %d %q: impossible counts %s (%d connections alive during the run, %d churned by its end)", i, args, formatCounts(c), alive, after)
		}
		worst[args[len(args)-1]] = max(worst[args[len(args)-1]], churnSockets)
	}
	elapsed := time.Since(start)
	rate := float64(churned.Load()-first) / elapsed.Seconds()
	t.Logf("250 checks in %s while %.0f connections a second opened and closed; most churned sockets seen in one run: netlink %d, procfs %d",
		elapsed.Round(time.Millisecond), rate, worst["tcp"], worst["procfs"])
}
