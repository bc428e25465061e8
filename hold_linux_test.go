package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
)

// holdSockets opens pairs connected loopback TCP sockets, says "ready", and
// holds them until stdin closes: the benchmark's socket holder.
func holdSockets(arg string) {
	pairs, err := strconv.Atoi(arg)
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "socket holder:", err)
		os.Exit(1)
	}
	if err != nil {
		fail(err)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	conns := make([]net.Conn, 0, 2*pairs)
	for range pairs {
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			fail(err)
		}
		s, err := l.Accept()
		if err != nil {
			fail(err)
		}
		conns = append(conns, c, s)
	}
	fmt.Printf("ready %5d\n", l.Addr().(*net.TCPAddr).Port)
	io.Copy(io.Discard, os.Stdin)
}
