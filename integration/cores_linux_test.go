package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// coreResult is what a monitoring core recorded of a service's last check.
type coreResult struct {
	state  int
	output string
	perf   string // as the core parsed and stored it
	long   string // Nagios' long output (Icinga 2 keeps it in output)
}

// coreService is a service that a core runs, and what it must record.
type coreService struct {
	name              string
	types, statuses   []string
	warning, critical string
	icinga2, nagios4  coreResult
	icingaVars        string // more variables, as Icinga 2 config
	nagiosOptions     string // the same as options
	// check, when set, judges what a core recorded instead of icinga2 and nagios4.
	check func(t *testing.T, core string, got coreResult)
}

// coreServices are the services both cores run on the namespace's socket
// mix (see socketMix), and what each core must record for them.
var coreServices = []coreService{
	{
		name: "ok", types: []string{"tcp"}, statuses: []string{"listen"}, warning: "10",
		icinga2: coreResult{state: 0, output: "tcp LISTEN: 3", perf: "tcp_LISTEN=3;10;;0"},
		nagios4: coreResult{state: 0, output: "tcp LISTEN: 3", perf: "'tcp_LISTEN'=3;10;;0"},
	},
	{
		name: "warning", types: []string{"tcp", "tcp6"}, statuses: []string{"established"}, warning: "5", critical: "20",
		icinga2: coreResult{state: 1, output: "tcp ESTABLISHED: 10 [WARNING], tcp6 ESTABLISHED: 3", perf: "tcp_ESTABLISHED=10;5;20;0 tcp6_ESTABLISHED=3;5;20;0"},
		nagios4: coreResult{state: 1, output: "tcp ESTABLISHED: 10 [WARNING], tcp6 ESTABLISHED: 3", perf: "'tcp_ESTABLISHED'=10;5;20;0 'tcp6_ESTABLISHED'=3;5;20;0"},
	},
	{
		name: "critical", statuses: []string{"close_wait", "fin_wait2"}, warning: "30:40", critical: "@1:5",
		icinga2: coreResult{state: 2, output: "tcp CLOSE WAIT: 3 [CRITICAL], tcp FIN WAIT2: 3 [CRITICAL]", perf: "tcp_CLOSE_WAIT=3;30:40;@1:5;0 tcp_FIN_WAIT2=3;30:40;@1:5;0"},
		nagios4: coreResult{state: 2, output: "tcp CLOSE WAIT: 3 [CRITICAL], tcp FIN WAIT2: 3 [CRITICAL]", perf: "'tcp_CLOSE_WAIT'=3;30:40;@1:5;0 'tcp_FIN_WAIT2'=3;30:40;@1:5;0"},
	},
	{
		name: "unknown", warning: "abc",
		icinga2: coreResult{state: 3, output: `UNKNOWN: --warning: range "abc": end "abc" is not a number`},
		nagios4: coreResult{state: 3, output: `UNKNOWN: --warning: range "abc": end "abc" is not a number`},
	},
	{
		name: "selectors", types: []string{"tcp"}, statuses: []string{"established", "listen"},
		icinga2:       coreResult{state: 1, output: "ESTABLISHED: 10, LISTEN: 3 [WARNING]", perf: "ESTABLISHED=10;20;;0 LISTEN=3;2;;0"},
		nagios4:       coreResult{state: 1, output: "ESTABLISHED: 10, LISTEN: 3 [WARNING]", perf: "'ESTABLISHED'=10;20;;0 'LISTEN'=3;2;;0"},
		icingaVars:    "vars.network_connections_warning = [ \"listen=2\", \"20\" ]\n  vars.network_connections_group_by = \"status\"\n",
		nagiosOptions: "-w listen=2 -w 20 --group-by status",
	},
}

// startCore starts a daemon in its own directory and stops it, by the pid
// started, when the test ends.
func startCore(t *testing.T, dir string, argv ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	log, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopCore(t, cmd); log.Close() })
	return cmd
}

// stopCore sends SIGTERM to the daemon started and waits for it to exit.
func stopCore(t *testing.T, cmd *exec.Cmd) {
	if cmd.ProcessState != nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Errorf("%s did not stop on SIGTERM", cmd.Path)
	}
}

// icingaDirs are the -D options that keep an Icinga 2 run (or pki command)
// in dir, as user: nothing of the machine's own Icinga 2 is touched.
func icingaDirs(dir, user string) []string {
	return []string{"-DRunAsUser=" + user, "-DRunAsGroup=" + user,
		"-DDataDir=" + filepath.Join(dir, "data"), "-DLogDir=" + filepath.Join(dir, "log"),
		"-DCacheDir=" + filepath.Join(dir, "cache"), "-DSpoolDir=" + filepath.Join(dir, "spool"),
		"-DInitRunDir=" + filepath.Join(dir, "run")}
}

// startIcinga2 starts an Icinga 2 daemon (argv: icinga2 daemon -c CONF
// and icingaDirs(dir, ...), maybe behind a wrapper) in dir, where it makes
// the directories icingaDirs names and perf for a PerfdataWriter, once its
// config validates (-C); it stops when the test ends.
func startIcinga2(t *testing.T, dir string, argv ...string) *exec.Cmd {
	t.Helper()
	for _, d := range []string{"data", "log", "cache", "spool/tmp", "run", "perf"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(argv[0], append(argv[1:], "-C")...).CombinedOutput(); err != nil {
		t.Fatalf("%s -C: %v\n%s", strings.Join(argv[:min(3, len(argv))], " "), err, out)
	}
	return startCore(t, dir, argv...)
}

// coreUser is the user the cores run as: this process's.
func coreUser() string {
	if user := os.Getenv("USER"); user != "" {
		return user
	}
	return "root"
}

// servicePerfdata is what a PerfdataWriter wrote so far under dir/perf.
func servicePerfdata(dir string) []byte {
	var seen []byte
	files, _ := filepath.Glob(filepath.Join(dir, "perf", "service*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		seen = append(seen, b...)
	}
	return seen
}

// waitFor polls until ok or fails after the deadline, showing the log.
func waitFor(t *testing.T, what, log string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log)
			t.Fatalf("no %s within 60s; daemon log:\n%s", what, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestMonitoringCores(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	socketMix(t)
	plugins := pluginsDir(t)
	t.Run("icinga2", func(t *testing.T) { testIcinga2(t, repo, plugins, coreServices, true) })
	t.Run("nagios4", func(t *testing.T) { testNagios4(t, repo, plugins, coreServices) })
}

// pluginsDir is a directory with the plugin under its names.
func pluginsDir(t *testing.T) string {
	plugins := t.TempDir()
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	// network-connections.exe stands in for the Windows build under the
	// Windows command, whose arguments are what is tested here; that build
	// prints what this one prints (TestWindowsBuildUnderWine).
	for _, name := range []string{"network-connections", "network-connections.exe"} {
		if err := os.WriteFile(filepath.Join(plugins, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return plugins
}

// judge compares what a core recorded with what the service wants.
func (s coreService) judge(t *testing.T, core string, got coreResult, ok bool) {
	t.Helper()
	want := s.icinga2
	if core == "nagios4" {
		want = s.nagios4
	}
	switch {
	case !ok:
		t.Errorf("service %s: %s recorded no result", s.name, core)
	case s.check != nil:
		s.check(t, core, got)
	case got != want:
		t.Errorf("service %s: %s recorded %+v, want %+v", s.name, core, got, want)
	}
}

func testIcinga2(t *testing.T, repo, plugins string, services []coreService, windows bool) {
	icinga2 := need(t, "icinga2", "icinga2-bin")
	dir := t.TempDir()
	var conf strings.Builder
	fmt.Fprintf(&conf, "include <itl>\nconst PluginDir = %q\ninclude %q\n", plugins, filepath.Join(repo, "contrib/icinga2/network-connections.conf"))
	fmt.Fprintf(&conf, "object CheckerComponent \"checker\" {}\n")
	// The perfdata writer only tells when results came; the state file has them.
	fmt.Fprintf(&conf, "object PerfdataWriter \"perfdata\" {\n  service_perfdata_path = %q\n  host_perfdata_path = %q\n  service_format_template = \"$service.name$\"\n  rotation_interval = 1s\n}\n",
		filepath.Join(dir, "perf/service"), filepath.Join(dir, "perf/host"))
	fmt.Fprintf(&conf, "object Host \"test\" {\n  check_command = \"dummy\"\n  enable_active_checks = false\n}\n")
	icingaArray := func(values []string) string {
		q := make([]string, len(values))
		for i, v := range values {
			q[i] = strconv.Quote(v)
		}
		return "[ " + strings.Join(q, ", ") + " ]"
	}
	for _, s := range services {
		fmt.Fprintf(&conf, "object Service %q {\n  host_name = \"test\"\n  check_command = \"network-connections\"\n  check_interval = 1s\n  retry_interval = 1s\n", s.name)
		if s.types != nil {
			fmt.Fprintf(&conf, "  vars.network_connections_conn_type = %s\n", icingaArray(s.types))
		}
		if s.statuses != nil {
			fmt.Fprintf(&conf, "  vars.network_connections_conn_status = %s\n", icingaArray(s.statuses))
		}
		if s.warning != "" {
			fmt.Fprintf(&conf, "  vars.network_connections_warning = %q\n", s.warning)
		}
		conf.WriteString("  " + s.icingaVars)
		if s.critical != "" {
			fmt.Fprintf(&conf, "  vars.network_connections_critical = %q\n", s.critical)
		}
		fmt.Fprintf(&conf, "}\n")
	}
	var names []string
	if windows {
		// The Windows command, with the "ok" service's variables.
		fmt.Fprintf(&conf, "object Service \"windows-command\" {\n  host_name = \"test\"\n  check_command = \"network-connections-windows\"\n  check_interval = 1s\n  retry_interval = 1s\n"+
			"  vars.network_connections_conn_type = [ \"tcp\" ]\n  vars.network_connections_conn_status = [ \"listen\" ]\n  vars.network_connections_warning = \"10\"\n}\n")
		names = append(names, "windows-command")
	}
	for _, s := range services {
		names = append(names, s.name)
	}
	confFile := filepath.Join(dir, "icinga2.conf")
	if err := os.WriteFile(confFile, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// The shipped conf must validate.
	cmd := startIcinga2(t, dir, append([]string{icinga2, "daemon", "-c", confFile}, icingaDirs(dir, coreUser())...)...)
	waitFor(t, "check result for every service", filepath.Join(dir, "daemon.log"), func() bool {
		seen := servicePerfdata(dir)
		for _, name := range names {
			if !bytes.Contains(seen, []byte(name+"\n")) {
				return false
			}
		}
		return true
	})
	stopCore(t, cmd) // Icinga 2 writes its state file on the way out.

	results := readIcingaState(t, filepath.Join(dir, "data", "icinga2.state"))
	for _, s := range services {
		got, ok := results["test!"+s.name]
		s.judge(t, "icinga2", got, ok)
	}
	if got, want := results["test!windows-command"], coreServices[0].icinga2; windows && got != want {
		t.Errorf("service windows-command: icinga2 recorded %+v, want %+v", got, want)
	}
}

// readIcingaState reads the last check results from Icinga 2's state file,
// a sequence of netstrings each holding one object as JSON.
func readIcingaState(t *testing.T, path string) map[string]coreResult {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]coreResult{}
	for len(b) > 0 {
		n, rest, ok := bytes.Cut(b, []byte(":"))
		size, err := strconv.Atoi(string(n))
		if !ok || err != nil || size+1 > len(rest) {
			t.Fatalf("bad netstring at %q", b[:min(40, len(b))])
		}
		var obj struct {
			Name   string
			Type   string
			Update struct {
				LastCheckResult *struct {
					State           float64  `json:"state"`
					Output          string   `json:"output"`
					PerformanceData []string `json:"performance_data"`
				} `json:"last_check_result"`
			}
		}
		if err := json.Unmarshal(rest[:size], &obj); err != nil {
			t.Fatal(err)
		}
		if cr := obj.Update.LastCheckResult; obj.Type == "Service" && cr != nil {
			results[obj.Name] = coreResult{state: int(cr.State), output: cr.Output, perf: strings.Join(cr.PerformanceData, " ")}
		}
		b = rest[size+1:]
	}
	return results
}

func testNagios4(t *testing.T, repo, plugins string, services []coreService) {
	nagios4 := need(t, "nagios4", "nagios4-core")
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "checkresults"), 0o755)
	user := coreUser()
	p := func(name string) string { return filepath.Join(dir, name) }
	mainCfg := fmt.Sprintf(`log_file=%s
cfg_file=%s
cfg_file=%s
resource_file=%s
status_file=%s
status_update_interval=1
nagios_user=%s
nagios_group=%s
check_result_path=%s
check_result_reaper_frequency=1
lock_file=%s
temp_file=%s
temp_path=%s
object_cache_file=%s
precached_object_file=%s
command_file=%s
check_external_commands=0
query_socket=%s
interval_length=1
max_service_check_spread=1
max_host_check_spread=1
service_inter_check_delay_method=n
use_syslog=0
retain_state_information=0
state_retention_file=%s
enable_notifications=0
enable_flap_detection=0
illegal_macro_output_chars=`+"`"+`~$&|'"<>
`, p("nagios.log"), p("objects.cfg"), filepath.Join(repo, "contrib/nagios/network-connections.cfg"), p("resource.cfg"),
		p("status.dat"), user, user, p("checkresults"), p("nagios.lock"), p("nagios.tmp"), dir,
		p("objects.cache"), p("objects.precache"), p("nagios.cmd"), p("nagios.qh"), p("retention.dat"))
	objects := `define timeperiod {
    timeperiod_name 24x7
    alias           always
    sunday          00:00-24:00
    monday          00:00-24:00
    tuesday         00:00-24:00
    wednesday       00:00-24:00
    thursday        00:00-24:00
    friday          00:00-24:00
    saturday        00:00-24:00
}
define contact {
    contact_name                  nobody
    host_notifications_enabled    0
    service_notifications_enabled 0
    host_notification_period      24x7
    service_notification_period   24x7
    host_notification_options     n
    service_notification_options  n
    host_notification_commands    check_network_connections_args
    service_notification_commands check_network_connections_args
}
define host {
    host_name             test
    address               127.0.0.1
    max_check_attempts    1
    check_period          24x7
    active_checks_enabled 0
    contacts              nobody
}
`
	for _, s := range services {
		var opts []string
		for _, v := range s.types {
			opts = append(opts, "--conn-type "+v)
		}
		for _, v := range s.statuses {
			opts = append(opts, "--conn-status "+v)
		}
		if s.nagiosOptions != "" {
			opts = append(opts, s.nagiosOptions)
		}
		objects += fmt.Sprintf(`define service {
    host_name             test
    service_description   %s
    check_command         check_network_connections!%s!%s!%s
    max_check_attempts    1
    check_interval        1
    retry_interval        1
    check_period          24x7
    notification_period   24x7
    contacts              nobody
}
`, s.name, s.warning, s.critical, strings.Join(opts, " "))
	}
	for name, content := range map[string]string{
		"nagios.cfg": mainCfg, "objects.cfg": objects, "resource.cfg": "$USER1$=" + plugins + "\n",
	} {
		if err := os.WriteFile(p(name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(nagios4, "-v", p("nagios.cfg")).CombinedOutput(); err != nil {
		t.Fatalf("nagios4 -v: %v\n%s", err, out)
	}

	cmd := startCore(t, dir, nagios4, p("nagios.cfg"))
	var results map[string]coreResult
	waitFor(t, "check result for every service", p("daemon.log"), func() bool {
		results = readNagiosStatus(p("status.dat"))
		for _, s := range services {
			if _, ok := results[s.name]; !ok {
				return false
			}
		}
		return true
	})
	stopCore(t, cmd)
	for _, s := range services {
		got, ok := results[s.name]
		s.judge(t, "nagios4", got, ok)
	}
}

// readNagiosStatus reads the checked services from Nagios' status.dat.
func readNagiosStatus(path string) map[string]coreResult {
	b, _ := os.ReadFile(path)
	results := map[string]coreResult{}
	for _, block := range strings.Split(string(b), "servicestatus {")[1:] {
		block, _, _ = strings.Cut(block, "}")
		fields := map[string]string{}
		for _, line := range strings.Split(block, "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
				fields[k] = v
			}
		}
		if fields["has_been_checked"] != "1" {
			continue
		}
		state, _ := strconv.Atoi(fields["current_state"])
		results[fields["service_description"]] = coreResult{state: state, output: fields["plugin_output"], perf: fields["performance_data"], long: fields["long_plugin_output"]}
	}
	return results
}
