//go:build linux

// floor is the benchmark's lower bound: the least a program can do to count
// sockets by state with sock_diag. No options, no output format, no checks
// beyond what keeps it correct.
//
//	floor              tcp and tcp6 in one dump (TCPDIAG_GETSOCK), udp, udp6
//	floor filtered     IPv4 TCP in ESTABLISHED only, the kernel filtering
//	floor netns        the same as floor in this namespace and each under
//	                   /run/netns: setns, then the dumps
//	floor procnet PID.. cAdvisor's way: /proc/PID/net/{tcp,tcp6,udp,udp6}
//	                   read and counted by state, for each pid
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

type dump struct {
	typ           uint16 // 18: TCPDIAG_GETSOCK, both families; 20: SOCK_DIAG_BY_FAMILY
	family, proto uint8
	states        uint32
}

var (
	all      = []dump{{18, 0, unix.IPPROTO_TCP, 0xfff}, {20, unix.AF_INET, unix.IPPROTO_UDP, 0xfff}, {20, unix.AF_INET6, unix.IPPROTO_UDP, 0xfff}}
	filtered = []dump{{20, unix.AF_INET, unix.IPPROTO_TCP, 1 << 1}}
	buf      = make([]byte, 64<<10)
	counts   [16]int
)

func main() {
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "filtered":
		count(filtered)
	case "netns":
		runtime.LockOSThread()
		count(all)
		paths, _ := filepath.Glob("/run/netns/*")
		for _, p := range paths {
			fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			check(err)
			check(unix.Setns(fd, unix.CLONE_NEWNET))
			unix.Close(fd)
			count(all)
		}
	case "procnet":
		for _, pid := range os.Args[2:] {
			for _, f := range []string{"tcp", "tcp6", "udp", "udp6"} {
				b, err := os.ReadFile(filepath.Join("/proc", pid, "net", f))
				check(err)
				lines := bytes.Split(b, []byte("\n"))
				for _, l := range lines[1:] {
					// "  sl  local_address rem_address   st": the state, hex, is the 4th field
					if f := bytes.Fields(l); len(f) > 3 && len(f[3]) == 2 {
						counts[unhex(f[3][0])<<4|unhex(f[3][1])&15]++
					}
				}
			}
		}
	default:
		count(all)
	}
	fmt.Println(counts)
}

func unhex(c byte) int {
	if c >= 'A' {
		return int(c-'A') + 10
	}
	return int(c - '0')
}

func check(err error) {
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
}

// count opens a sock_diag socket in the thread's namespace and runs the dumps.
func count(dumps []dump) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	check(err)
	defer unix.Close(fd)
	ne := binary.NativeEndian
	for _, d := range dumps {
		req := make([]byte, 16+56)
		ne.PutUint32(req[16+4:], d.states) // inet_diag_req_v2's states
		if d.typ == 18 {
			req = make([]byte, 16+60)
			ne.PutUint32(req[16+52:], d.states) // inet_diag_req's
		}
		ne.PutUint32(req[0:], uint32(len(req)))
		ne.PutUint16(req[4:], d.typ)
		ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
		req[16], req[17] = d.family, d.proto
		if d.typ == 18 {
			req[17] = 0 // idiag_src_len
		}
		check(unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}))
	read:
		for {
			n, err := unix.Read(fd, buf)
			check(err)
			for b := buf[:n]; len(b) >= 16; {
				l := int(ne.Uint32(b))
				switch ne.Uint16(b[4:]) {
				case unix.NLMSG_DONE, unix.NLMSG_ERROR:
					break read
				}
				counts[b[17]&15]++
				b = b[min((l+3)&^3, len(b)):]
			}
		}
	}
}
