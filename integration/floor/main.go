//go:build linux

// floor is the benchmark's lower bound: the least a program can do to count
// sockets by state with sock_diag. No options, no output format, no checks
// beyond what keeps it correct. `floor` dumps tcp, tcp6, udp and udp6;
// `floor filtered` dumps only IPv4 TCP in ESTABLISHED, the kernel filtering.
package main

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	buf := make([]byte, 64<<10)
	var counts [16]int
	type dump struct {
		family, proto uint8
		states        uint32
	}
	dumps := []dump{{unix.AF_INET, unix.IPPROTO_TCP, 0xfff}, {unix.AF_INET6, unix.IPPROTO_TCP, 0xfff}, {unix.AF_INET, unix.IPPROTO_UDP, 0xfff}, {unix.AF_INET6, unix.IPPROTO_UDP, 0xfff}}
	if len(os.Args) > 1 && os.Args[1] == "filtered" {
		dumps = []dump{{unix.AF_INET, unix.IPPROTO_TCP, 1 << 1}}
	}
	ne := binary.NativeEndian
	for _, d := range dumps {
		req := make([]byte, 16+56)
		ne.PutUint32(req[0:], uint32(len(req)))
		ne.PutUint16(req[4:], 20) // SOCK_DIAG_BY_FAMILY
		ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
		req[16], req[17] = d.family, d.proto
		ne.PutUint32(req[20:], d.states)
		if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			fmt.Println(err)
			os.Exit(3)
		}
	read:
		for {
			n, err := unix.Read(fd, buf)
			if err != nil {
				fmt.Println(err)
				os.Exit(3)
			}
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
	fmt.Println(counts)
}
