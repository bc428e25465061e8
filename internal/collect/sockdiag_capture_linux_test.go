package collect

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestCaptureSockDiag writes raw dump answers to $NC_CAPTURE_SOCKDIAG: how
// testdata/sockdiag was made (see its README). It does nothing otherwise.
func TestCaptureSockDiag(t *testing.T) {
	dir := os.Getenv("NC_CAPTURE_SOCKDIAG")
	if dir == "" {
		t.Skip("set NC_CAPTURE_SOCKDIAG=dir to capture sock_diag answers")
	}
	capture := func(name string, req []byte) {
		d, err := openSockDiag()
		if err != nil {
			t.Fatal(err)
		}
		defer d.close()
		if err := d.c.send(req); err != nil {
			t.Fatal(err)
		}
		for i := 1; ; i++ {
			n, err := d.c.recv(d.buf)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, fmt.Sprintf("%s-read%d.bin", name, i))
			if err := os.WriteFile(file, d.buf[:n], 0o644); err != nil {
				t.Fatal(err)
			}
			if done, err := countDump(d.buf[:n], 1, TCP, All, newRows(nil)); done || err != nil || i > 20 {
				return
			}
		}
	}
	capture("tcp", dumpRequest(TCP, All, 1, false))
	capture("udp6", dumpRequest(UDP6, All, 1, false))
	bad := dumpRequest(TCP, All, 1, false)
	bad[17] = 255 // no inet_diag handler for protocol 255: ENOENT
	capture("error-enoent", bad)
	short := dumpRequest(TCP, All, 1, false)[:nlmsgHdrLen+8]
	short[0] = byte(len(short)) // a request too short for inet_diag_req_v2: EINVAL
	capture("error-einval", short)
}
