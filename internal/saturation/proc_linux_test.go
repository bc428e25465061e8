package saturation

import "testing"

func TestParseNetstat(t *testing.T) {
	text := "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPHPHits\nTcpExt: 0 17 19 4\nIpExt: InNoRoutes\nIpExt: 0\n"
	n := parseNetstat(text)
	if n.Err != "" || n.ListenOverflows != 17 || n.ListenDrops != 19 {
		t.Errorf("got %+v", n)
	}
	if n := parseNetstat("TcpExt: A\nTcpExt: 1\n"); n.Err == "" {
		t.Errorf("no counters: got %+v", n)
	}
}
