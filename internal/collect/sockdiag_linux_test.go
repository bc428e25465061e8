package collect

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func readSockDiag(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/sockdiag", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCountDump(t *testing.T) {
	tcp := [NumStatuses]int{}
	tcp[Listen], tcp[Established], tcp[TimeWait] = 1, 240, 1
	estab := [NumStatuses]int{}
	estab[Established] = 240
	udp := [NumStatuses]int{}
	udp[None] = 2
	tests := []struct {
		name  string
		reads []string
		typ   Type
		f     Filter
		seq   uint32
		want  [NumStatuses]int
		done  bool
		err   error // errors.Is target; nil: no error
	}{
		{"tcp, three reads", []string{"tcp-read1.bin", "tcp-read2.bin", "tcp-read3.bin"}, TCP, All, 1, tcp, true, nil},
		{"tcp, established only", []string{"tcp-read1.bin", "tcp-read2.bin", "tcp-read3.bin"}, TCP, Filter{Types: 1, Statuses: 1 << Established}, 1, estab, true, nil},
		{"tcp, not done before the last read", []string{"tcp-read1.bin"}, TCP, All, 1, [NumStatuses]int{Listen: 1, Established: 29}, false, nil},
		{"another request's answer is skipped", []string{"tcp-read1.bin", "tcp-read2.bin", "tcp-read3.bin"}, TCP, All, 2, [NumStatuses]int{}, false, nil},
		{"udp6: connected or not, NONE", []string{"udp6-read1.bin", "udp6-read2.bin"}, UDP6, All, 1, udp, true, nil},
		{"NLMSG_DONE with an errno", []string{"error-enoent-read1.bin"}, TCP, All, 1, [NumStatuses]int{}, false, unix.ENOENT},
		{"NLMSG_ERROR", []string{"error-einval-read1.bin"}, TCP, All, 1, [NumStatuses]int{}, false, unix.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l listSink
			out := newRows(&l)
			var done bool
			var err error
			for _, r := range tt.reads {
				if done, err = countDump(readSockDiag(t, r), tt.seq, tt.typ, tt.f, out); err != nil {
					break
				}
			}
			row := out.row
			if c := CountSockets(l.list); c[tt.typ] != row {
				t.Errorf("the list counts %v, the row %v", c[tt.typ], row)
			}
			for _, s := range l.list {
				if s.Inode == 0 && s.Status != TimeWait {
					t.Errorf("no inode for %v", s)
				}
			}
			if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if row != tt.want || done != tt.done {
				t.Errorf("got %v done %v, want %v done %v", row, done, tt.want, tt.done)
			}
		})
	}
}

func TestCountDumpTruncated(t *testing.T) {
	b := readSockDiag(t, "tcp-read1.bin")
	for _, cut := range []int{1, 15, 16, 17, 16 + 71, 124 + 10, len(b) - 1} {
		if _, err := countDump(b[:cut], 1, TCP, All, newRows(nil)); err == nil {
			t.Errorf("cut at %d bytes: no error", cut)
		}
	}
	// A length field smaller than a header.
	bad := append([]byte(nil), b...)
	bad[0], bad[1], bad[2], bad[3] = 8, 0, 0, 0
	if _, err := countDump(bad, 1, TCP, All, newRows(nil)); err == nil {
		t.Error("message length 8: no error")
	}
}

func TestKernelStates(t *testing.T) {
	tests := []struct {
		typ  Type
		f    Filter
		want uint32
	}{
		{TCP, Filter{Statuses: 1 << Established}, 1 << 1},
		{TCP, Filter{Statuses: 1 << SynRecv}, 1<<3 | 1<<12},
		{TCP, Filter{Statuses: 1 << FinWait2}, 1<<5 | 1<<6},
		{TCP6, All, 0xffe | 1<<12},
		{TCP, Filter{Statuses: 1 << None}, 0},
		{UDP, Filter{Statuses: 1 << None}, ^uint32(0)},
	}
	for _, tt := range tests {
		if got := kernelStates(tt.typ, tt.f); got != tt.want {
			t.Errorf("kernelStates(%s, %b) = %b, want %b", tt.typ, tt.f.Statuses, got, tt.want)
		}
	}
}

func TestRefused(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&DumpError{Op: "socket", Err: unix.EPERM}, true},
		{&DumpError{Op: "socket", Err: unix.EPROTONOSUPPORT}, true},
		{&DumpError{Op: "dump udp", Err: unix.ENOENT}, true},
		{&DumpError{Op: "dump tcp", Err: unix.ENOBUFS}, false},
		{errors.New("truncated"), false},
		{nil, false},
	} {
		if got := refused(tt.err); got != tt.want {
			t.Errorf("refused(%v) = %v", tt.err, got)
		}
	}
	if got := (&DumpError{Op: "dump udp", Err: unix.ENOENT}).Error(); got != "sock_diag dump udp: no such file or directory" {
		t.Errorf("Error() = %q", got)
	}
}

// The kernel's error for a request it refuses echoes the request; a long one
// does not fit the read. The errno is what the check must report.
func TestCountDumpErrorCutShort(t *testing.T) {
	msg := make([]byte, 65536)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], 65632) // longer than what was read
	ne.PutUint16(msg[4:], unix.NLMSG_ERROR)
	ne.PutUint32(msg[8:], 7)
	errno := -int32(unix.EINVAL)
	ne.PutUint32(msg[16:], uint32(errno))
	if _, err := countDump(msg, 7, TCP, All, newRows(nil)); !errors.Is(err, unix.EINVAL) {
		t.Errorf("got %v, want EINVAL", err)
	}
	if _, err := countDump(msg, 8, TCP, All, newRows(nil)); err == nil || errors.Is(err, unix.EINVAL) {
		t.Errorf("an earlier request's error: got %v, want the cut message reported", err)
	}
}

// A link-local peer carries its link (idiag_if) for the sink, so fe80::2 on
// two links is two peers; other addresses, and sockets on no link, none.
func TestZoned(t *testing.T) {
	msg := func(family byte, ifindex uint32) []byte {
		b := make([]byte, inetDiagMsgLen)
		b[diagFamily] = family
		binary.NativeEndian.PutUint32(b[diagIf:], ifindex)
		return b
	}
	ap := netip.MustParseAddrPort
	tests := []struct {
		msg  []byte
		in   string
		want string
	}{
		{msg(unix.AF_INET6, 3), "[fe80::2]:22", "[fe80::2%3]:22"},
		{msg(unix.AF_INET6, 7), "[fe80::2]:22", "[fe80::2%7]:22"},
		{msg(unix.AF_INET6, 0), "[fe80::2]:22", "[fe80::2]:22"},
		{msg(unix.AF_INET6, 3), "[2001:db8::2]:22", "[2001:db8::2]:22"},
		{msg(unix.AF_INET, 3), "169.254.0.2:22", "169.254.0.2:22"},
	}
	for _, tt := range tests {
		if got := zoned(tt.msg, ap(tt.in)).String(); got != tt.want {
			t.Errorf("zoned(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
