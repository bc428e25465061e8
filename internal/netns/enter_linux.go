package netns

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// ErrGone: every way into the namespace had vanished (its container
// stopped while the check ran).
var ErrGone = errors.New("the namespace is gone")

// ErrPrivilege: entering a network namespace needs CAP_SYS_ADMIN over it,
// which root of a user namespace does not have over the host's. The one
// message for EPERM from setns, wherever the check enters a namespace.
var ErrPrivilege = errors.New("entering network namespaces needs CAP_SYS_ADMIN (and reading other users' /proc/PID/ns/net CAP_SYS_PTRACE) in the host's user namespace: grant them to the binary with setcap or a sudo rule (see the README's Privileges)")

// Enter moves the calling thread, which the caller has locked and never
// unlocks, into the namespace: through a name that holds it, else through a
// process inside, checking that the file is still this namespace (a pid can
// be reused).
func (ns Namespace) Enter(proc string) error {
	var last error = ErrGone
	try := func(path string, pid int) bool {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			// A process that is exiting refuses even root its links
			// (EACCES): it is gone, not a namespace we may not see.
			gone := errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) || pid > 0 && exiting(proc, pid)
			if !gone {
				last = fmt.Errorf("%s: %w", path, err)
			}
			return false
		}
		defer unix.Close(fd)
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil || st.Ino != ns.Inode {
			return false
		}
		if err := setns(fd, unix.CLONE_NEWNET); err != nil {
			last = err
			if !errors.Is(err, ErrPrivilege) {
				last = fmt.Errorf("%s: %w", path, err)
			}
			return false
		}
		return true
	}
	for _, p := range ns.Named {
		if try(p, 0) {
			return nil
		}
	}
	for _, pid := range ns.Pids {
		if try(filepath.Join(proc, strconv.Itoa(pid), "ns/net"), pid) {
			return nil
		}
		if last == ErrPrivilege {
			break
		}
	}
	return last
}

// exiting tells a process that is gone or going: no stat, or a zombie (Z)
// or dead (X) one, whose namespace links the kernel no longer gives out.
func exiting(proc string, pid int) bool {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	// The state follows the command name, which ends at the last ')'.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z' || b[i+2] == 'X'
}

// HasCapability reports whether this process holds the capability (such
// as unix.CAP_SYS_PTRACE) in its effective set.
func HasCapability(c int) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}

// OnThread runs fn on an OS thread of its own that ends with it: fn may
// move the thread into other namespaces, and no other goroutine ever runs
// there. A panic in fn is an error, as everywhere in the check.
func OnThread(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("internal error: %v", p)
			}
		}()
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		done <- fn()
	}()
	return <-done
}

// CanEnter tells whether this process may enter network namespaces: it
// enters its own, on a thread that then ends.
func CanEnter(proc string) error {
	return In(filepath.Join(proc, "thread-self/ns/net"), unix.CLONE_NEWNET, func() error { return nil })
}

// ErrPtrace: opening another user's process's namespace file needs
// CAP_SYS_PTRACE.
var ErrPtrace = errors.New("opening another user's process's namespace needs CAP_SYS_PTRACE (and entering it CAP_SYS_ADMIN; see the README's Privileges)")

// In runs fn on a thread of its own (OnThread) that entered the namespace
// at path, of type nstype (unix.CLONE_NEWNET, CLONE_NEWUTS): what fn opens
// is that namespace's, and the thread ends with fn, so no other goroutine
// ever runs there. The one way the check, and its tests, enter a namespace
// by path.
func In(path string, nstype int, fn func() error) error {
	return OnThread(func() error {
		if err := EnterPath(path, nstype); err != nil {
			return err
		}
		return fn()
	})
}

// EnterPath moves the calling thread, locked by OnThread, into the
// namespace at path: EACCES opening it is ErrPtrace, EPERM entering it
// ErrPrivilege, EINVAL a file of another kind.
func EnterPath(path string, nstype int) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w: %w", ErrPtrace, err)
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return setns(fd, nstype)
}

// setns is the one call of setns(2).
func setns(fd, nstype int) error {
	err := unix.Setns(fd, nstype)
	switch {
	case errors.Is(err, unix.EPERM):
		return ErrPrivilege
	case errors.Is(err, unix.EINVAL):
		kind := "network"
		if nstype == unix.CLONE_NEWUTS {
			kind = "UTS"
		}
		return fmt.Errorf("not a %s namespace: %w", kind, err)
	}
	return err
}

// podNames names the pods whose name no runtime's state told by their UTS
// hostname, which Kubernetes sets to the pod's name (without its
// namespace): read on a thread that enters each UTS namespace and then ends.
func podNames(proc string, list []Namespace, pods []int) {
	if len(pods) == 0 {
		return
	}
	OnThread(func() error {
		for _, i := range pods {
			for _, pid := range list[i].Pids {
				if h := hostname(filepath.Join(proc, strconv.Itoa(pid), "ns/uts")); h != "" {
					ns := &list[i]
					ns.Name, ns.Perf = "pod "+h, Label("podhost", h)
					ns.ID.Source = fmt.Sprintf("the UTS hostname of pid %d (no pod name was readable)", pid)
					break
				}
			}
		}
		return nil
	})
}

// hostname is the UTS namespace's at path, read on the calling thread,
// which it leaves there (podNames' thread ends after).
func hostname(path string) string {
	var u unix.Utsname
	if EnterPath(path, unix.CLONE_NEWUTS) != nil || unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Nodename[:])
}
