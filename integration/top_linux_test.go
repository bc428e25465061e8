package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// jsonSchema is testdata/json/output.schema.json, compiled once for the
// whole run (see validateOutput).
func jsonSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	return shipped(t)
}

// checkJSON validates a --format json document and returns it.
func checkJSON(t *testing.T, schema *jsonschema.Schema, stdout string) map[string]any {
	t.Helper()
	var doc any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("not one JSON document on one line: %v\n%s", err, stdout)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("the document does not match the schema: %v\n%s", err, stdout)
	}
	return doc.(map[string]any)
}

func TestTop(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	a, _ := holder(t, "holder-a", 5) // 10 tcp ESTABLISHED, 1 tcp LISTEN
	b, _ := holder(t, "holder-b", 2) // 4 tcp ESTABLISHED, 1 tcp LISTEN
	// A TIME_WAIT socket, which no process holds.
	l, _ := net.Listen("tcp4", "127.0.0.1:0")
	c, _ := net.Dial("tcp4", l.Addr().String())
	s, _ := l.Accept()
	c.Close()
	s.Read(make([]byte, 1))
	s.Close()
	l.Close()
	waitForSS(t, map[string]int{"tcp_ESTABLISHED": 14, "tcp_LISTEN": 2, "tcp_TIME_WAIT": 1})

	status := "tcp ESTABLISHED: 14, tcp LISTEN: 2, tcp TIME WAIT: 1|'tcp_ESTABLISHED'=14;;;0 'tcp_LISTEN'=2;;;0 'tcp_TIME_WAIT'=1;;;0\n"
	runCases(t, []string{"netlink", "procfs", "gopsutil"}, []outputCase{
		{[]string{"--top", "5"}, status +
			"Top processes by sockets in all groups (tcp ESTABLISHED, tcp LISTEN, tcp TIME WAIT):\n" +
			fmt.Sprintf("pid %d (holder-a): 10 tcp ESTABLISHED, 1 tcp LISTEN\n", a) +
			fmt.Sprintf("pid %d (holder-b): 4 tcp ESTABLISHED, 1 tcp LISTEN\n", b) +
			"no process: 1 tcp TIME WAIT (TIME_WAIT sockets and connections not yet accepted belong to the kernel)\n", 0},
		{[]string{"--top", "1", "-w", "established=12", "-c", "time_wait=0"},
			"tcp ESTABLISHED: 14 [WARNING], tcp LISTEN: 2, tcp TIME WAIT: 1 [CRITICAL]|'tcp_ESTABLISHED'=14;12;;0 'tcp_LISTEN'=2;;;0 'tcp_TIME_WAIT'=1;;0;0\n" +
				"Top processes by sockets in the groups that alert (tcp ESTABLISHED, tcp TIME WAIT):\n" +
				fmt.Sprintf("pid %d (holder-a): 10 tcp ESTABLISHED\n", a) +
				"no process: 1 tcp TIME WAIT (TIME_WAIT sockets and connections not yet accepted belong to the kernel)\n", 2},
		{[]string{"--top", "5", "--group-by", "none", "--conn-status", "listen"},
			"total: 2|'total'=2;;;0\nTop processes by sockets in all groups (total):\n" +
				fmt.Sprintf("pid %d (holder-a): 1 total\npid %d (holder-b): 1 total\n", a, b), 0},
	})

	// The default run pays nothing for --top: no line, no walk.
	if stdout, _, _ := runBinary(t); stdout != status {
		t.Errorf("without --top: %q", stdout)
	}

	// As nobody, the holders' descriptors cannot be read: the line says why,
	// and the state is the same.
	cmd := asNobody(t, "--top", "5", "-w", "10")
	out, _ := cmd.Output()
	want := "tcp ESTABLISHED: 14 [WARNING], tcp LISTEN: 2, tcp TIME WAIT: 1|'tcp_ESTABLISHED'=14;10;;0 'tcp_LISTEN'=2;10;;0 'tcp_TIME_WAIT'=1;10;;0\n" +
		"Top processes by sockets in the groups that alert (tcp ESTABLISHED):\n" +
		"owner not found: 14 tcp ESTABLISHED (held by processes we may not read ("
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.HasPrefix(string(out), want) ||
		!strings.HasSuffix(string(out), "of them): root, or CAP_SYS_PTRACE with CAP_DAC_READ_SEARCH, names them)\n") {
		t.Errorf("as nobody: exit %d\n%s\nwant exit 1 and\n%s...", code, out, want)
	}

	// With just the two capabilities the README names, nobody names them.
	cmd = asNobodyWith(t, "+dac_read_search,+sys_ptrace", "--top", "5", "-w", "10")
	out, err := cmd.Output()
	if want := fmt.Sprintf("pid %d (holder-a): 10 tcp ESTABLISHED\n", a); err == nil || !strings.Contains(string(out), want) {
		t.Errorf("as nobody with CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE: %v\n%s\nwant a line %q", err, out, want)
	}

	// -v and -vv add their lines.
	stdout, _, _ := runBinary(t, "-v")
	if lines := strings.Split(strings.TrimSpace(stdout), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "backend netlink, 17 sockets counted in ") {
		t.Errorf("-v: %q", stdout)
	}
	stdout, _, _ = runBinary(t, "-vv", "-w", "10", "-w", "listen=1", "--local-port", "1-65535")
	if lines := strings.Split(strings.TrimSpace(stdout), "\n"); len(lines) != 4 ||
		lines[2] != "options: --conn-type all --conn-status all --group-by type,status --local-port 1-65535 --timeout 10s" ||
		lines[3] != "thresholds: warning 10, listen=1; critical none" {
		t.Errorf("-vv: %q", stdout)
	}

	// JSON: valid against the schema, the same numbers as the nagios output.
	schema := jsonSchema(t)
	for _, args := range [][]string{{"--top", "5"}, {"-w", "established=12", "--group-by", "status"}, {"--conn-type", "udp"}, {"-w", "bogus"}, {"--bogus"}} {
		nagios, _, nagiosCode := runBinary(t, args...)
		stdout, stderr, code := runBinary(t, append(args, "--format", "json")...)
		doc := checkJSON(t, schema, stdout)
		if code != nagiosCode || stderr != "" || int(doc["exit_code"].(float64)) != code {
			t.Errorf("%q: exit %d (nagios %d), document says %v", args, code, nagiosCode, doc["exit_code"])
		}
		if code == 3 {
			if !strings.HasSuffix(strings.TrimSpace(nagios), doc["error"].(string)) {
				t.Errorf("%q: error %q, nagios said %q", args, doc["error"], nagios)
			}
			continue
		}
		perf := perfCounts(t, strings.SplitN(nagios, "\n", 2)[0])
		json := map[string]int{}
		for _, g := range doc["groups"].([]any) {
			g := g.(map[string]any)
			json[g["perf_label"].(string)] = int(g["count"].(float64))
		}
		if formatCounts(json) != formatCounts(perf) || doc["message"] != strings.SplitN(strings.SplitN(nagios, "\n", 2)[0], "|", 2)[0] {
			t.Errorf("%q: json %s %q, nagios %s %q", args, formatCounts(json), doc["message"], formatCounts(perf), nagios)
		}
		if args[0] == "--top" {
			procs := doc["top"].(map[string]any)["processes"].([]any)
			if len(procs) != 2 || int(procs[0].(map[string]any)["pid"].(float64)) != a || procs[0].(map[string]any)["name"] != "holder-a" {
				t.Errorf("top processes: %v", procs)
			}
		}
	}
}
