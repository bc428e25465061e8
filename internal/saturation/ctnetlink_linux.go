package saturation

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// readSources dumps the conntrack table of the thread's network namespace
// (the socket is made on the thread inside it) and tallies it.
func readSources(deadline time.Time) Sources {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return Sources{Err: os.NewSyscallError("socket", err).Error()}
	}
	defer unix.Close(fd)
	return sourcesOver(netlinkSocket(fd), deadline)
}

// netlinkSocket is a NETLINK_NETFILTER socket as the dump's wire.
type netlinkSocket int

func (s netlinkSocket) send(b []byte) error {
	return os.NewSyscallError("sendto", unix.Sendto(int(s), b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}))
}

// receive waits at most until deadline: SO_RCVTIMEO is set to what is
// left of it before each read.
func (s netlinkSocket) receive(b []byte, deadline time.Time) (int, error) {
	for {
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return 0, errDeadline
			}
			tv := unix.NsecToTimeval(max(left, time.Microsecond).Nanoseconds())
			if err := unix.SetsockoptTimeval(int(s), unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
				return 0, os.NewSyscallError("setsockopt SO_RCVTIMEO", err)
			}
		}
		n, _, flags, from, err := unix.Recvmsg(int(s), b, nil, 0)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err == nil && !fromKernel(from):
			// Another socket of the namespace (a container's root may
			// send to our port id): not the dump's.
			continue
		case errors.Is(err, unix.EAGAIN):
			return 0, errDeadline
		case err != nil:
			return 0, os.NewSyscallError("recvmsg", err)
		case flags&unix.MSG_TRUNC != 0:
			return 0, errors.New("recvmsg: a datagram larger than the buffer")
		}
		return n, nil
	}
}

// fromKernel reports whether a datagram came from the kernel: port id 0,
// which no user socket has.
func fromKernel(from unix.Sockaddr) bool {
	sa, ok := from.(*unix.SockaddrNetlink)
	return ok && sa.Pid == 0
}
