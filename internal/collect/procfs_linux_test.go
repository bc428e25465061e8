package collect

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"testing/iotest"
)

func TestProcfsTestdata(t *testing.T) {
	c, err := Count(context.Background(), Procfs{Dir: "../../testdata/procnet"}, All)
	if err != nil {
		t.Fatal(err)
	}
	var want Counts
	want[TCP][Listen], want[TCP][Established], want[TCP][CloseWait], want[TCP][FinWait2], want[TCP][TimeWait] = 1, 81, 3, 3, 1
	want[TCP6][Listen], want[TCP6][Established] = 1, 1
	want[UDP][None] = 2
	if c != want {
		t.Errorf("got %v\nwant %v", c, want)
	}

	c, err = Count(context.Background(), Procfs{Dir: "../../testdata/procnet"}, Filter{Types: 1<<TCP | 1<<UDP, Statuses: 1<<Established | 1<<FinWait2})
	if err != nil {
		t.Fatal(err)
	}
	if c[TCP][Established] != 81 || c[TCP][FinWait2] != 3 || c[TCP][Listen] != 0 || c[TCP6][Established] != 0 || c[UDP][None] != 0 {
		t.Errorf("filtered: got %v", c)
	}
}

func TestCountProcNet(t *testing.T) {
	const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	const line = "   0: 0100007F:8986 0100007F:9F2E %s 00000000:00000000 00:00000000 00000000     0        0 %d 1\n"
	inode := 100
	l := func(st string) string { inode++; return fmt.Sprintf(line, st, inode) }
	same := l("01") // one socket, shown twice by a read that lost its place
	tests := []struct {
		name  string
		input string
		typ   Type
		want  [NumStatuses]int
		err   bool
	}{
		{"header only", header, TCP, [NumStatuses]int{}, false},
		{"empty file", "", TCP, [NumStatuses]int{}, false},
		{"states in hex", header + l("0A") + l("01") + l("0b") + l("06"), TCP, [NumStatuses]int{Listen: 1, Established: 1, Closing: 1, TimeWait: 1}, false},
		{"udp is NONE", header + l("07") + l("01"), UDP, [NumStatuses]int{None: 2}, false},
		{"state 0 and 13 skipped", header + l("00") + l("0D"), TCP, [NumStatuses]int{}, false},
		{"bad state", header + l("ZZ"), TCP, [NumStatuses]int{}, true},
		{"short state", header + l("1"), TCP, [NumStatuses]int{}, true},
		{"no state column", header + "   0: 0100007F:8986\n", TCP, [NumStatuses]int{}, true},
		{"no inode column", header + "   0: 0100007F:8986 0100007F:9F2E 01 00000000:00000000\n", TCP, [NumStatuses]int{}, true},
		{"a socket shown twice counts once", header + same + l("01") + same, TCP, [NumStatuses]int{Established: 2}, false},
		{"listeners sharing a port (SO_REUSEPORT) count each", header + l("0A") + l("0A"), TCP, [NumStatuses]int{Listen: 2}, false},
		{"TIME_WAIT: no inode, told apart by addresses", header +
			"   0: 0100007F:8986 0100007F:9F2E 06 00000000:00000000 00:00000000 00000000     0        0 0 1\n" +
			"   1: 0100007F:8987 0100007F:9F2E 06 00000000:00000000 00:00000000 00000000     0        0 0 1\n" +
			"   1: 0100007F:8987 0100007F:9F2E 06 00000000:00000000 00:00000000 00000000     0        0 0 1\n", TCP, [NumStatuses]int{TimeWait: 2}, false},
		{"truncated last line", header + strings.TrimSuffix(l("01"), "\n"), TCP, [NumStatuses]int{Established: 0}, true},
		{"unix: listener, connected pair, unconnected; 3 not yet accepted (St 02, inode 0) are no sockets",
			"Num       RefCount Protocol Flags    Type St Inode Path\n" +
				"0000000000000001: 00000002 00000000 00010000 0001 01 500 /run/s\n" +
				"0000000000000002: 00000003 00000000 00000000 0001 03 501\n" +
				"0000000000000003: 00000003 00000000 00000000 0001 03 502 /run/s\n" +
				"0000000000000004: 00000002 00000000 00000000 0002 01 503\n" +
				"0000000000000005: 00000002 00000000 00000000 0001 02 0 /run/s\n" +
				"0000000000000006: 00000002 00000000 00000000 0001 02 0 /run/s\n" +
				"0000000000000007: 00000002 00000000 00000000 0001 02 0 /run/s\n", Unix, [NumStatuses]int{Listen: 1, Established: 2, None: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte a read: every line is split across reads.
			for _, r := range []interface{ Read([]byte) (int, error) }{strings.NewReader(tt.input), iotest.OneByteReader(strings.NewReader(tt.input))} {
				out := newRows(nil)
				err := countProcNet(r, &scratch{buf: make([]byte, 4096)}, tt.typ, All, out)
				if (err != nil) != tt.err {
					t.Fatalf("err = %v, want error %v", err, tt.err)
				}
				if got := out.row; !tt.err && got != tt.want {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestProcfsList(t *testing.T) {
	list, _, err := List(context.Background(), Procfs{Dir: "../../testdata/procnet"}, Filter{Types: 1 << TCP6, Statuses: All.Statuses})
	if err != nil {
		t.Fatal(err)
	}
	// tcp6: a listener (inode 23739) and an IPv4-mapped connection (23741).
	ap := netip.MustParseAddrPort
	want := []Socket{{Type: TCP6, Status: Listen, Inode: 23739, Local: ap("[::]:48935"), Remote: ap("[::]:0")},
		{Type: TCP6, Status: Established, Inode: 23741, Local: ap("[::ffff:127.0.0.1]:48935"), Remote: ap("[::ffff:127.0.0.1]:39668")}}
	if len(list) != 2 || list[0] != want[0] || list[1] != want[1] {
		t.Errorf("got %+v, want %+v", list, want)
	}
}
