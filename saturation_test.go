package main

import (
	"runtime"
	"strings"
	"testing"
)

// The measures' options refuse what would judge nothing, in one UNKNOWN line.
func TestSaturationBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--listen-queue-warning", "abc"}, `"abc"`},
		{[]string{"--port-usage-critical", "10:5"}, `"10:5"`},
		{[]string{"--conntrack-warning", "x"}, `"x"`},
		{[]string{"--listen-queue-warning", "80", "--conn-type", "udp"}, "--conn-type"},
		{[]string{"--listen-queue-critical", "80", "--conn-status", "established"}, "leaves out listen"},
		{[]string{"--listen-queue-critical", "80", "--backend", "procfs"}, "backlog"},
		{[]string{"--port-usage-warning", "80", "--conn-type", "udp,unix"}, "--conn-type"},
		{[]string{"--port-usage-warning", "80", "--conn-status", "established"}, "leaves out syn_sent"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, code := runCheck(tt.args...)
			if code != 3 || !strings.HasPrefix(stdout, "UNKNOWN: ") || strings.Count(stdout, "\n") != 1 || !strings.Contains(stdout, tt.want) {
				t.Errorf("exit %d, stdout %q, want one UNKNOWN line naming %s", code, stdout, tt.want)
			}
		})
	}
}

// Without the measures' options nothing of them is said; with one, its
// perfdata series is there.
func TestSaturationOff(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("conntrack is Linux only")
	}
	stdout, _ := runCheck("--conntrack-warning", "101")
	if !strings.Contains(stdout, "conntrack") {
		t.Errorf("--conntrack-warning: %q", stdout)
	}
	stdout, _ = runCheck()
	for _, w := range []string{"listen_queue", "port_usage", "conntrack"} {
		if strings.Contains(stdout, w) {
			t.Errorf("no option, and %s in %q", w, stdout)
		}
	}
}
