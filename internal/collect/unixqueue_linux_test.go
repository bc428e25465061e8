package collect

import (
	"encoding/binary"
	"testing"
)

// unixQueue reads UNIX_DIAG_RQLEN and UNIX_DIAG_NAME, abstract names with
// "@", and stops at a cut attribute.
func TestUnixQueue(t *testing.T) {
	ne := binary.NativeEndian
	attr := func(typ uint16, data []byte) []byte {
		b := ne.AppendUint16(nil, uint16(4+len(data)))
		b = ne.AppendUint16(b, typ)
		b = append(b, data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	rq := ne.AppendUint32(ne.AppendUint32(nil, 9), 8)
	tests := []struct {
		attrs       []byte
		path        string
		queued, bkl uint32
		known       bool
	}{
		{append(attr(unixDiagName, []byte("/run/php.sock")), attr(unixDiagRqlen, rq)...), "/run/php.sock", 9, 8, true},
		{append(attr(unixDiagRqlen, rq), attr(unixDiagName, []byte("\x00abstract"))...), "@abstract", 9, 8, true},
		{attr(unixDiagName, []byte("/a\x00")), "/a", 0, 0, false},
		{append(attr(unixDiagName, []byte("/b")), 0xff, 0x00, 4, 0), "/b", 0, 0, false},
		{attr(unixDiagRqlen, rq)[:8], "", 0, 0, false},
	}
	for i, tt := range tests {
		var s Socket
		unixQueue(tt.attrs, &s)
		if s.Path != tt.path || s.Queued != tt.queued || s.Backlog != tt.bkl || s.Queues != tt.known {
			t.Errorf("%d: got %q %d/%d %v", i, s.Path, s.Queued, s.Backlog, s.Queues)
		}
	}
}
