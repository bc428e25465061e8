package integration

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The shipped NRPE snippet, served by Debian's NRPE daemon and asked by
// check_nrpe inside a private namespace: each variant's line, perfdata and
// exit code arrive as the plugin gives them.
func TestNRPE(t *testing.T) {
	nrpe := need(t, "/usr/sbin/nrpe", "nagios-nrpe-server")
	checkNRPE := need(t, "/usr/lib/nagios/plugins/check_nrpe", "nagios-nrpe-plugin")
	if !inPrivateNetns(t) {
		return
	}
	socketMix(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o777) // NRPE drops to nobody and writes its pid there

	// The snippet as shipped, with the plugin where this test built it.
	snippet, err := os.ReadFile(filepath.Join(repo, "contrib/nrpe/network-connections.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	var commands []string // name, then the command line
	sc := bufio.NewScanner(strings.NewReader(string(snippet)))
	for sc.Scan() {
		if name, line, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "command["), "]="); ok && strings.HasPrefix(sc.Text(), "command[") {
			commands = append(commands, name, strings.Replace(line, "/usr/lib/nagios/plugins/network-connections", binary, 1))
		}
	}
	if len(commands) != 8 {
		t.Fatalf("the snippet defines %d commands, want 4:\n%s", len(commands)/2, snippet)
	}
	included := filepath.Join(dir, "network-connections.cfg")
	os.WriteFile(included, []byte(strings.ReplaceAll(string(snippet), "/usr/lib/nagios/plugins/network-connections", binary)), 0o644)
	conf := filepath.Join(dir, "nrpe.cfg")
	os.WriteFile(conf, []byte(fmt.Sprintf(`log_file=%s/nrpe.log
debug=1
pid_file=%s/nrpe.pid
server_address=127.0.0.1
server_port=5666
nrpe_user=nobody
nrpe_group=nogroup
allowed_hosts=127.0.0.1
dont_blame_nrpe=0
command_timeout=60
include=%s
`, dir, dir, included)), 0o644)
	os.WriteFile(filepath.Join(dir, "nrpe.log"), nil, 0o666)

	daemon := exec.Command(nrpe, "-c", conf, "-f")
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { daemon.Process.Kill(); daemon.Wait() }) // the pid started
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if out, _ := exec.Command("ss", "-Htln", "sport = :5666").Output(); len(out) > 0 {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "nrpe.log"))
			t.Fatalf("nrpe is not listening after 10 s; its log:\n%s", log)
		}
	}

	// Known answers for the namespace's sockets (see socketMix), and for the
	// default check NRPE's listener and the connection check_nrpe holds (first:
	// each connection of check_nrpe leaves a TIME_WAIT socket behind).
	for _, k := range []struct{ name, want string }{
		{"check_network_connections", "tcp ESTABLISHED: 12, tcp LISTEN: 4, tcp CLOSE WAIT: 3, tcp FIN WAIT2: 3, tcp6 ESTABLISHED: 3, tcp6 LISTEN: 2, udp NONE: 2, tcp SYN RECV: 1, tcp SYN SENT: 1, tcp TIME WAIT: 1, udp6 NONE: 1" +
			"|'tcp_ESTABLISHED'=12;;;0 'tcp_LISTEN'=4;;;0 'tcp_CLOSE_WAIT'=3;;;0 'tcp_FIN_WAIT2'=3;;;0 'tcp6_ESTABLISHED'=3;;;0 'tcp6_LISTEN'=2;;;0 'udp_NONE'=2;;;0 'tcp_SYN_RECV'=1;;;0 'tcp_SYN_SENT'=1;;;0 'tcp_TIME_WAIT'=1;;;0 'udp6_NONE'=1;;;0\n"},
		{"check_network_connections_close_wait", "tcp CLOSE WAIT: 3|'tcp_CLOSE_WAIT'=3;50;200;0\n"},
		{"check_network_connections_listen_ssh", "total: 0 [CRITICAL]|'total'=0;;1:;0\n"},
	} {
		if got, _ := exec.Command(checkNRPE, "-H", "127.0.0.1", "-c", k.name).Output(); string(got) != k.want {
			t.Errorf("%s: %q, want %q", k.name, got, k.want)
		}
	}

	for i := 0; i < len(commands); i += 2 {
		name, line := commands[i], commands[i+1]
		if name == "check_network_connections" {
			continue // counts check_nrpe's own connection: checked below
		}
		t.Run(name, func(t *testing.T) {
			// What the plugin itself says, as nobody (NRPE runs it so).
			argv := strings.Fields(line)
			direct := asNobody(t, argv[1:]...)
			want, _ := direct.Output()
			wantCode := direct.ProcessState.ExitCode()
			cmd := exec.Command(checkNRPE, "-H", "127.0.0.1", "-c", name)
			got, _ := cmd.Output()
			if string(got) != string(want) || cmd.ProcessState.ExitCode() != wantCode {
				t.Errorf("through NRPE: exit %d %q\nthe plugin: exit %d %q", cmd.ProcessState.ExitCode(), got, wantCode, want)
			}
		})
	}
}
