package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// minFiles is the fewest file descriptors a check needs: stdin, stdout and
// stderr, Go's poller (an epoll and an eventfd), a netlink socket, a /proc
// file and a directory for --top, one for --netns, and a few to spare.
// Measured: it works from ulimit -n 8, answers UNKNOWN at 7 and below 7 Go's
// runtime aborts with a stack trace; 16 leaves room.
const minFiles = 16

// enoughFiles reports a file-descriptor limit too low to run the check.
// Go raises the soft limit to the hard one at start; what is left is final.
func enoughFiles() error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur >= minFiles {
		return nil
	}
	return fmt.Errorf("the limit of open files is %d (ulimit -n); the check needs at least %d", lim.Cur, minFiles)
}
