package collect

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeDumper answers from fixed rows, or with an error for some types.
type fakeDumper struct {
	rows   Counts
	errs   [NumTypes]error
	closed bool
}

func (d *fakeDumper) count(t Type, f Filter, sink Sink) ([NumStatuses]int, error) {
	if sink != nil { // a dump that hands over its sockets, then maybe fails
		for s, n := range d.rows[t] {
			for range n {
				sink.Add(Socket{Type: t, Status: Status(s), Inode: 1})
			}
		}
		if d.errs[t] == nil {
			sink.Done()
		}
	}
	return d.rows[t], d.errs[t]
}
func (d *fakeDumper) close() { d.closed = true }

// countTCP fails as the kernels without TCPDIAG_GETSOCK would: each TCP type
// is then dumped on its own.
func (d *fakeDumper) countTCP(Filter, Sink) (tcp, tcp6 [NumStatuses]int, err error) {
	return tcp, tcp6, unix.EINVAL
}

func TestAutoFallback(t *testing.T) {
	procfs := Procfs{Dir: "../../testdata/procnet"} // tcp: 81 ESTABLISHED; udp: 2
	var rows Counts
	rows[TCP][Established] = 7
	rows[UDP][None] = 5
	refusal := &DumpError{Op: "dump", Err: unix.ENOENT}

	tests := []struct {
		name      string
		open      func() (dumper, error)
		wantTCP   int // ESTABLISHED
		wantUDP   int // NONE
		wantError bool
		used      string
	}{
		{"sock_diag answers", func() (dumper, error) { return &fakeDumper{rows: rows}, nil }, 7, 5, false, "netlink"},
		{"udp_diag missing: udp from /proc", func() (dumper, error) {
			d := &fakeDumper{rows: rows}
			d.errs[UDP] = refusal
			return d, nil
		}, 7, 2, false, "netlink, procfs for udp (sock_diag dump: no such file or directory)"},
		{"sock_diag refused (EPERM): all from /proc", func() (dumper, error) {
			return nil, &DumpError{Op: "socket", Err: unix.EPERM}
		}, 81, 2, false, "procfs (sock_diag socket: operation not permitted)"},
		{"a failure that is no refusal is an error", func() (dumper, error) {
			d := &fakeDumper{rows: rows}
			d.errs[TCP] = &DumpError{Op: "dump tcp", Err: unix.ENOBUFS}
			return d, nil
		}, 0, 0, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Auto{sockDiag: tt.open, procfs: procfs}
			var list listSink
			r, err := a.Collect(context.Background(), All, &list)
			c := r.Counts
			if err == nil && CountSockets(list.list) != c {
				t.Errorf("the list counts %v, the counts are %v", CountSockets(list.list), c)
			}
			if tt.wantError {
				if !errors.Is(err, unix.ENOBUFS) {
					t.Errorf("err = %v, want ENOBUFS", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(r.Backend, tt.used) {
				t.Errorf("Backend %q, want %q...", r.Backend, tt.used)
			}
			if c[TCP][Established] != tt.wantTCP || c[UDP][None] != tt.wantUDP {
				t.Errorf("tcp ESTABLISHED %d, udp NONE %d; want %d, %d", c[TCP][Established], c[UDP][None], tt.wantTCP, tt.wantUDP)
			}
		})
	}
}
