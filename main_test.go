package main

import (
	"strings"
	"testing"
	"time"

	"github.com/network-connections/network-connections/internal/collect"
)

// runCheck runs the whole check in-process, as main does, and returns its
// stdout and exit code.
func runCheck(args ...string) (string, int) {
	var out strings.Builder
	code := run(args, &out)
	return out.String(), code
}

// Every bad input: exit 3, one line on stdout naming the bad value, no stderr.
func TestBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string // the line must contain this
	}{
		{[]string{"--bogus"}, "--bogus"},
		{[]string{"-x"}, "unknown option -x (see --help)"},
		{[]string{"-vx"}, "unknown option -x in -vx"},
		{[]string{"--warnig", "5"}, "unknown option --warnig (did you mean --warning? See --help)"},
		{[]string{"--top", "abc"}, `--top "abc": want how many processes to name`},
		{[]string{"--top=-1"}, `--top "-1"`},
		{[]string{"--verbose=x"}, `--verbose="x"`},
		{[]string{"--co", "tcp"}, "ambiguous option --co: it could be --conn-type, --conn-status"},
		{[]string{"--conn-type", "sctp"}, `"sctp"`},
		{[]string{"--conn-type", "tcp,sctp"}, `"sctp"`},
		{[]string{"--conn-type", ""}, `""`},
		{[]string{"--conn-status", "estab"}, `"estab"`},
		{[]string{"--conn-status", "listen,,"}, `""`},
		{[]string{"-w", "abc"}, `"abc"`},
		{[]string{"--warning", "10:5"}, `"10:5"`},
		{[]string{"-c", "1:2:3"}, `"1:2:3"`},
		{[]string{"--critical=~10"}, `"~10"`},
		{[]string{"-w", "1,10"}, `"1,10"`},
		{[]string{"-w"}, "-w needs a value"},
		{[]string{"--critical"}, "--critical needs a value"},
		{[]string{"--crit"}, "--critical needs a value"},
		{[]string{"extra"}, `"extra"`},
		{[]string{"--", "extra"}, `"extra"`},
		{[]string{"-t", "0"}, `"0"`},
		{[]string{"--timeout", "-5"}, `"-5"`},
		{[]string{"--timeout", "ten"}, `"ten"`},
		{[]string{"--timeout=NaN"}, `"NaN"`},
		{[]string{"-t", "1e-12"}, `"1e-12": want a number of seconds from 0.001`},
		{[]string{"--always-ok=maybe"}, `"maybe"`},
		{[]string{"-w", "1|2"}, `"1¦2"`},
		{[]string{"x|y"}, `"x¦y"`},
		{[]string{"--local-port", "https"}, `"https"`},
		{[]string{"--local-port", "70000"}, `"70000"`},
		{[]string{"--remote-port", "8100-8000"}, `"8100-8000"`},
		{[]string{"--remote-port", "80,"}, `""`},
		{[]string{"--local-address", "localhost"}, `"localhost"`},
		{[]string{"--remote-address", "10.0.0.0/33"}, `"10.0.0.0/33"`},
		{[]string{"--remote-address", "fe80::1%eth0"}, `"fe80::1%eth0"`},
		{[]string{"--group-by", "host"}, `"host"`},
		{[]string{"-w", "foo=5"}, `"foo"`},
		{[]string{"-w", "tcp_none=5"}, `"tcp_none"`},
		{[]string{"-c", "listen=abc"}, `"abc"`},
		{[]string{"--conn-type", "unix", "--local-port", "22"}, "unix"},
		{[]string{"--netns", "x", "--backend", "gopsutil"}, "gopsutil"},
		{[]string{"--top", "3", "--top-by", "nothing"}, `"nothing"`},
		{[]string{"--top-by", "remote-port", "--top-warning", "10:5"}, `"10:5"`},
		{[]string{"--top-by", "remote-port", "--top-critical", "x"}, `"x"`},
		{[]string{"--top-by", "remote-port"}, "--top N"},
		{[]string{"--top", "3", "--top-by", "remote-network", "--network-prefix", "33,64"}, `"33,64"`},
		{[]string{"--top", "3", "--top-by", "remote-network", "--network-prefix", "24,"}, `"24,"`},
		{[]string{"--top", "3", "--network-prefix", "16,48"}, "remote-network"},
		{[]string{"--top", "3", "--top-warning", "5"}, "not processes"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, code := runCheck(tt.args...)
			if code != 3 {
				t.Errorf("exit %d, want 3", code)
			}
			if !strings.HasPrefix(stdout, "UNKNOWN: ") || strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") || strings.Contains(stdout, "|") {
				t.Errorf("stdout %q, want one line starting UNKNOWN: ", stdout)
			}
			if !strings.Contains(stdout, tt.want) {
				t.Errorf("stdout %q does not name %s", stdout, tt.want)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-V"}, {"--version"}, {"-w", "abc", "--help"}} {
		stdout, code := runCheck(args...)
		if code != 3 || !strings.HasPrefix(stdout, "network-connections") && !strings.HasPrefix(stdout, "Usage: network-connections") {
			t.Errorf("%q: exit %d, stdout %q", args, code, stdout)
		}
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args              []string
		types             uint8
		statuses          uint16
		typeText, stText  string
		warning, critical string
		timeout           time.Duration
	}{
		{nil, collect.All.Types, collect.All.Statuses, "all", "all", "", "", 10 * time.Second},
		{[]string{"--conn-type", "tcp", "--conn-type", "TCP6"}, 1<<collect.TCP | 1<<collect.TCP6, collect.All.Statuses, "tcp,tcp6", "all", "", "", 10 * time.Second},
		{[]string{"--conn-type=udp,all", "--conn-status", "Established,close_wait"}, collect.All.Types, 1<<collect.Established | 1<<collect.CloseWait, "all", "established,close_wait", "", "", 10 * time.Second},
		{[]string{"--conn-status", "time-wait", "--conn-status", "TIME_WAIT"}, collect.All.Types, 1 << collect.TimeWait, "all", "time_wait", "", "", 10 * time.Second},
		{[]string{"-w", "-5:10", "-c", "@20:30", "-t", "2.5"}, collect.All.Types, collect.All.Statuses, "all", "all", "-5:10", "@20:30", 2500 * time.Millisecond},
		{[]string{"--warning=200", "--warning", "300"}, collect.All.Types, collect.All.Statuses, "all", "all", "300", "", 10 * time.Second},
		{[]string{"-w", ""}, collect.All.Types, collect.All.Statuses, "all", "all", "", "", 10 * time.Second},
	}
	for _, tt := range tests {
		cfg, err := parseArgs(tt.args)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if cfg.filter.Types != tt.types || cfg.filter.Statuses != tt.statuses ||
			cfg.report.TypeText != tt.typeText || cfg.report.StatusText != tt.stText ||
			cfg.report.Warning.Plain.String() != tt.warning || cfg.report.Critical.Plain.String() != tt.critical ||
			cfg.timeout != tt.timeout {
			t.Errorf("%q: got %+v", tt.args, cfg)
		}
	}
}

// The last --format wins, as for every option, even for a parse error.
func TestLastFormatWins(t *testing.T) {
	tests := []struct {
		args []string
		json bool
	}{
		{[]string{"--format", "json", "--format", "nagios", "--bogus"}, false},
		{[]string{"--format=json", "--format=nagios", "--bogus"}, false},
		{[]string{"--format", "nagios", "--format=JSON", "--bogus"}, true},
		{[]string{"--format", "json", "--bogus"}, true},
		{[]string{"--bogus", "--", "--format", "json"}, false},
	}
	for _, tt := range tests {
		stdout, code := runCheck(tt.args...)
		if isJSON := strings.HasPrefix(stdout, "{"); isJSON != tt.json || code != 3 {
			t.Errorf("%q: exit %d, %q; want JSON %v", tt.args, code, stdout, tt.json)
		}
	}
}

// A huge bad value is cut to what a core shows, saying so.
func TestHugeValueCut(t *testing.T) {
	huge := strings.Repeat("x", 60_000) // two fit in one argument (128 KiB)
	for _, args := range [][]string{
		{"--conn-type", huge}, {"-w", huge}, {"-c", huge + "=5"}, {"--local-port", huge},
		{"--" + huge}, {"--top", huge}, {"--format", huge}, {"--conn-status", "\"" + huge + "\\" + huge},
	} {
		stdout, code := runCheck(args...)
		if code != 3 || len(stdout) > 1200 || !strings.HasPrefix(stdout, "UNKNOWN: ") ||
			!strings.Contains(stdout, "(cut: ") || strings.Count(stdout, "\n") != 1 {
			t.Errorf("%.40q: exit %d, %d bytes: %.400q", args, code, len(stdout), stdout)
		}
	}
}
