package collect

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// seeds adds every file of a testdata directory as a seed.
func seeds(f *testing.F, dir string, add func([]byte)) {
	files, _ := filepath.Glob(filepath.Join("../../testdata", dir, "*"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			add(b)
		}
	}
}

// FuzzCountDump: any bytes from the kernel are counted or refused, never a
// panic, and the list agrees with the counts.
func FuzzCountDump(f *testing.F) {
	seeds(f, "sockdiag", func(b []byte) { f.Add(b, uint8(TCP)); f.Add(b, uint8(Unix)) })
	f.Fuzz(func(t *testing.T, b []byte, typ uint8) {
		tp := Type(typ % uint8(NumTypes))
		var l listSink
		out := newRows(&l)
		countDump(b, 1, tp, All, out)
		if c := CountSockets(l.list); c[tp] != out.row {
			t.Fatalf("list %v, row %v", c[tp], out.row)
		}
	})
}

// FuzzCountProcNet: any /proc/net text is counted or refused, never a panic.
func FuzzCountProcNet(f *testing.F) {
	seeds(f, "procnet", func(b []byte) { f.Add(b, uint8(TCP)); f.Add(b, uint8(UDP)); f.Add(b, uint8(Unix)) })
	f.Fuzz(func(t *testing.T, b []byte, typ uint8) {
		tp := Type(typ % uint8(NumTypes))
		var l listSink
		out := newRows(&l)
		countProcNet(bytes.NewReader(b), &scratch{buf: make([]byte, 512)}, tp, Filter{Types: All.Types | 1<<Unix, Statuses: All.Statuses, Local: Endpoint{Ports: []PortRange{{0, 40000}}}}, out)
		if c := CountSockets(l.list); c[tp] != out.row {
			t.Fatalf("list %v, row %v", c[tp], out.row)
		}
	})
}
