package owners

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Find walks /proc/*/fd once and notes which processes hold the wanted
// socket inodes. A process we may not read is counted in Unreadable.
func Find(wanted map[uint64]bool) (Table, error) {
	return find("/proc", wanted)
}

func find(proc string, wanted map[uint64]bool) (Table, error) {
	t := Table{Holders: map[uint64][]Process{}}
	pids, err := readNames(proc)
	if err != nil {
		return t, err
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
			t.Unreadable++
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
			inode, err := strconv.ParseUint(string(link[8:n-1]), 10, 64)
			if err != nil || !wanted[inode] {
				continue
			}
			if name == "" {
				name = nameAt(proc, p)
			}
			t.Holders[inode] = append(t.Holders[inode], Process{Pid: int32(pid), Name: name})
		}
		unix.Close(dirfd)
	}
	return t, nil
}

func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// Name is a process's command name, from /proc/PID/comm.
func Name(pid int32) string { return nameAt("/proc", strconv.Itoa(int(pid))) }

func nameAt(proc, pid string) string {
	b, err := os.ReadFile(proc + "/" + pid + "/comm")
	if err != nil {
		return "?"
	}
	return clean(string(b))
}
