package top

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// procRoot is where the processes are.
const procRoot = "/proc"

// walk walks proc/*/fd once and calls holds for each process holding a
// wanted socket inode. It returns how many processes it may not read.
func walk(proc string, wanted func(uint32) bool, holds func(Process, uint32)) (unreadable int, err error) {
	pids, err := readNames(proc)
	if err != nil {
		return 0, err
	}
	link := make([]byte, 64)
	for _, p := range pids {
		pid, err := strconv.ParseInt(p, 10, 32)
		if err != nil {
			continue // not a process
		}
		dir := proc + "/" + p + "/fd"
		fds, err := readNames(dir)
		if errors.Is(err, fs.ErrPermission) {
			unreadable++
			continue
		}
		if err != nil {
			continue // the process ended meanwhile
		}
		dirfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		var name string
		for _, fd := range fds {
			n, err := unix.Readlinkat(dirfd, fd, link)
			if err != nil || !bytes.HasPrefix(link[:n], []byte("socket:[")) {
				continue
			}
			inode, err := strconv.ParseUint(string(link[8:n-1]), 10, 32)
			if err != nil || !wanted(uint32(inode)) {
				continue
			}
			if name == "" {
				name = nameAt(proc, p)
			}
			holds(Process{Pid: int32(pid), Name: name}, uint32(inode))
		}
		unix.Close(dirfd)
	}
	return unreadable, nil
}

func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// nameOf is a process's command name, from /proc/PID/comm.
func nameOf(proc string, pid int32) string { return nameAt(proc, strconv.Itoa(int(pid))) }

func nameAt(proc, pid string) string {
	b, err := os.ReadFile(proc + "/" + pid + "/comm")
	if err != nil {
		return "?"
	}
	return strings.TrimSuffix(string(b), "\n") // exact: the report cleans what it shows
}
