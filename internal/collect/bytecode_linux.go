package collect

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// inet_diag bytecode (linux/inet_diag.h): the kernel runs it on each socket
// and builds a message only for those it accepts, the expensive part of a
// dump. A program accepts when it runs exactly to its end; a jump 4 bytes
// past the end rejects. Every op's "yes" is the next op, as the kernel's
// audit of the program requires; "no" jumps.
const (
	bcJmp   = 1 // INET_DIAG_BC_JMP
	bcSGE   = 2 // INET_DIAG_BC_S_GE
	bcSLE   = 3 // INET_DIAG_BC_S_LE
	bcDGE   = 4 // INET_DIAG_BC_D_GE
	bcDLE   = 5 // INET_DIAG_BC_D_LE
	bcSCond = 7 // INET_DIAG_BC_S_COND
	bcDCond = 8 // INET_DIAG_BC_D_COND

	inetDiagReqBytecode = 1 // INET_DIAG_REQ_BYTECODE
)

// maxBytecode is the longest program a request can carry: its attribute's
// length is 16 bits and counts its own 4-byte header. Every jump in a program
// that fits fits in its 16 bits too.
const maxBytecode = 1<<16 - 1 - 4

// kernelFilter is f as a dump asks for it: the endpoints merged and compiled,
// or, where the program would not fit, marked to be matched here, on the
// addresses each message carries.
func kernelFilter(f Filter) Filter {
	f.Local, f.Remote = f.Local.merged(), f.Remote.merged()
	f.prog, f.inProcess = bytecode(f), false
	if len(f.prog) > maxBytecode {
		f.prog, f.inProcess = nil, true
	}
	return f
}

// bytecode compiles the filter's endpoints, or returns nil when it has none.
// Its size is linear in the number of values (16 to 32 bytes each).
func bytecode(f Filter) []byte {
	var prog []byte
	for _, side := range []struct {
		e          Endpoint
		ge, le, hc uint8
	}{{f.Local, bcSGE, bcSLE, bcSCond}, {f.Remote, bcDGE, bcDLE, bcDCond}} {
		if len(side.e.Ports) > 0 {
			ports := make([][]byte, len(side.e.Ports))
			for i, r := range side.e.Ports {
				ports[i] = bcAnd(bcPort(side.ge, r.First), bcPort(side.le, r.Last))
			}
			prog = bcAnd(prog, bcAny(ports))
		}
		if len(side.e.Prefixes) > 0 {
			addrs := make([][]byte, len(side.e.Prefixes))
			for i, p := range side.e.Prefixes {
				addrs[i] = bcHost(side.hc, p)
			}
			prog = bcAnd(prog, bcAny(addrs))
		}
	}
	return prog
}

// bcOp appends one inet_diag_bc_op {code, yes, no}.
func bcOp(b []byte, code, yes uint8, no uint16) []byte {
	b = append(b, code, yes, 0, 0)
	binary.NativeEndian.PutUint16(b[len(b)-2:], no)
	return b
}

// bcPort compares the port with p: an op, then an op whose "no" holds p.
func bcPort(code uint8, p uint16) []byte {
	return bcOp(bcOp(nil, code, 8, 12), 0, 0, p)
}

// bcHost matches an address prefix (struct inet_diag_hostcond, any port).
// The kernel matches an IPv4 prefix against IPv4-mapped IPv6 addresses too.
func bcHost(code uint8, p netip.Prefix) []byte {
	family, addr := uint8(unix.AF_INET6), p.Addr().AsSlice()
	if p.Addr().Is4() {
		family = unix.AF_INET
	}
	size := 4 + 8 + len(addr)
	b := bcOp(nil, code, uint8(size), uint16(size+4))
	b = append(b, family, uint8(p.Bits()), 0, 0, 0, 0, 0, 0)
	binary.NativeEndian.PutUint32(b[8:], ^uint32(0)) // port -1: any
	return append(b, addr...)
}

// bcAnd runs a, then b: a's rejections are moved to reject past b.
func bcAnd(a, b []byte) []byte {
	if a == nil || b == nil {
		return append(a, b...)
	}
	out := append(append([]byte(nil), a...), b...)
	for at := 0; at < len(a); at += int(out[at+1]) {
		no := binary.NativeEndian.Uint16(out[at+2:])
		if out[at] != 0 && at+int(no) == len(a)+4 {
			binary.NativeEndian.PutUint16(out[at+2:], no+uint16(len(b)))
		}
	}
	return out
}

// bcAny accepts where any of progs accepts. Each runs in turn: where one
// rejects (a jump 4 past its end) the next runs; where one accepts, a jump
// skips the rest. Written in one pass: chaining pairs would copy the program
// once for each value.
func bcAny(progs [][]byte) []byte {
	size := 4 * (len(progs) - 1)
	for _, p := range progs {
		size += len(p)
	}
	out := make([]byte, 0, size)
	for i, p := range progs {
		out = append(out, p...)
		if i < len(progs)-1 {
			// From this jump to the end of the whole: itself and the rest.
			out = bcOp(out, bcJmp, 4, uint16(size-len(out)))
		}
	}
	return out
}
