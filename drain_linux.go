package main

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Nagios 4's worker, once the plugin has exited, reads its pipe one more
// time, 4 KiB, and drops whatever is left (lib/worker.c, gather_output): a
// plugin that exits right after writing 47 KB loses most of it when the
// worker notices the exit first. So, with more than that still unread in a
// pipe, wait until the reader has taken the rest, for at most drainWait.
const (
	lastRead  = 4096
	drainWait = 2 * time.Second
)

func waitForReader(f *os.File) {
	fd := int(f.Fd())
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return
	}
	deadline := time.Now().Add(drainWait)
	for {
		unread, err := unix.IoctlGetInt(fd, unix.TIOCINQ) // FIONREAD; the write end answers too
		if err != nil || unread <= lastRead || time.Now().After(deadline) {
			return
		}
		// No reader left (| head -1 read its line and went): nothing to wait for.
		p := []unix.PollFd{{Fd: int32(fd)}}
		if n, _ := unix.Poll(p, 0); n > 0 && p[0].Revents&unix.POLLERR != 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
