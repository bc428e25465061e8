package collect

import (
	"encoding/binary"
	"strings"
)

// What a unix_diag request asks for beyond the message (linux/unix_diag.h):
// udiag_show, and the attributes it brings.
const (
	unixReqShow     = nlmsgHdrLen + 12 // struct unix_diag_req: udiag_show
	udiagShowName   = 0x01             // UDIAG_SHOW_NAME
	udiagShowRqlen  = 0x10             // UDIAG_SHOW_RQLEN
	unixDiagName    = 0                // UNIX_DIAG_NAME: the sun_path bound
	unixDiagRqlen   = 4                // UNIX_DIAG_RQLEN: struct unix_diag_rqlen
	rtattrHeaderLen = 4
)

// unixQueue reads a unix listener's attributes (after its unix_diag_msg):
// UNIX_DIAG_RQLEN holds, for a listener, the connections waiting for
// accept() and the backlog; UNIX_DIAG_NAME its name, "@" first for an
// abstract one. A cut attribute ends the walk: what it held stays unknown.
func unixQueue(attrs []byte, s *Socket) {
	ne := binary.NativeEndian
	for len(attrs) >= rtattrHeaderLen {
		n := int(ne.Uint16(attrs))
		if n < rtattrHeaderLen || n > len(attrs) {
			return
		}
		data := attrs[rtattrHeaderLen:n]
		switch ne.Uint16(attrs[2:]) {
		case unixDiagRqlen:
			if len(data) >= 8 {
				s.Queued, s.Backlog, s.Queues = ne.Uint32(data), ne.Uint32(data[4:]), true
			}
		case unixDiagName:
			if len(data) > 0 && data[0] == 0 {
				s.Path = "@" + string(data[1:])
			} else {
				s.Path = strings.TrimRight(string(data), "\x00")
			}
		}
		next := (n + 3) &^ 3
		if next >= len(attrs) {
			return
		}
		attrs = attrs[next:]
	}
}
