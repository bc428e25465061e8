// Command ctrholder is the process of the test containers: it holds a known
// set of loopback sockets (a TCP listener, N connected pairs, one UDP
// socket) until it is killed. Built static, it runs in an image of
// busybox-static and itself, with no registry.
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	pairs := 1
	if len(os.Args) > 1 {
		pairs, _ = strconv.Atoi(os.Args[1])
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "ctrholder:", err)
		os.Exit(1)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	var keep []net.Conn
	for range pairs {
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			fail(err)
		}
		s, err := l.Accept()
		if err != nil {
			fail(err)
		}
		keep = append(keep, c, s)
	}
	u, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	held = []any{keep, u, l}
	fmt.Println("ready")
	for { // until killed; a bare select{} is a deadlock to Go's runtime
		time.Sleep(time.Hour)
	}
}

// held keeps the sockets referenced: one no longer referenced is closed by
// its finalizer.
var held []any
