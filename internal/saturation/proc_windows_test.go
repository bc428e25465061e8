package saturation

import "testing"

// netsh's words are translated; the two numbers are what is read.
func TestParseDynamicPort(t *testing.T) {
	tests := []struct {
		text      string
		low, high int
		err       bool
	}{
		{"\r\nProtocol tcp Dynamic Port Range\r\n---------------------------------\r\nStart Port      : 49152\r\nNumber of Ports : 16384\r\n", 49152, 65535, false},
		{"Protokoll tcp Dynamischer Portbereich\nStartport       : 10000\nAnzahl der Ports: 1000\n", 10000, 10999, false},
		{"The following command was not found: interface ipv4 show dynamicport tcp.", 0, 0, true},
		{"Start Port : 60000\nNumber of Ports : 16384\n", 0, 0, true},
	}
	for _, tt := range tests {
		p := parseDynamicPort(tt.text)
		if (p.Err != "") != tt.err || !tt.err && (p.Low != tt.low || p.High != tt.high) {
			t.Errorf("%q: got %+v", tt.text, p)
		}
	}
}
