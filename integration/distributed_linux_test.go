package integration

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A distributed Icinga 2: a master and an agent in two network namespaces
// joined by a veth pair, certificates from icinga2 pki, the CheckCommand in a
// global zone synced to the agent. The master's services run the plugin on
// the agent (command_endpoint); the agent's namespace holds sockets the
// master's does not, so the recorded counts tell where the check ran.
func TestDistributedIcinga2(t *testing.T) {
	icinga2 := need(t, "icinga2", "icinga2-bin")
	need(t, "ip", "iproute2")
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces with ip netns")
	}
	suffix := strconv.Itoa(os.Getpid())
	master, agent := "nc-master-"+suffix, "nc-agent-"+suffix
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %q: %v\n%s", args, err, out)
		}
	}
	for _, ns := range []string{master, agent} {
		ip("netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		ip("-n", ns, "link", "set", "lo", "up")
	}
	// The pair: the only link between the two, addresses of this test's own.
	ip("link", "add", "ncm"+suffix, "netns", master, "type", "veth", "peer", "name", "nca"+suffix, "netns", agent)
	ip("-n", master, "addr", "add", "10.211.0.1/30", "dev", "ncm"+suffix)
	ip("-n", agent, "addr", "add", "10.211.0.2/30", "dev", "nca"+suffix)
	ip("-n", master, "link", "set", "ncm"+suffix, "up")
	ip("-n", agent, "link", "set", "nca"+suffix, "up")

	// Sockets on the agent only: a holder with a listener and 5 connections.
	hold := exec.Command("ip", "netns", "exec", agent, os.Args[0])
	hold.Env = append(os.Environ(), "NC_HOLD_PAIRS=5")
	stdin, _ := hold.StdinPipe()
	stdout, _ := hold.StdoutPipe()
	if err := hold.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); hold.Wait() })
	ready := make([]byte, 12)
	if _, err := io.ReadFull(stdout, ready); err != nil || !strings.HasPrefix(string(ready), "ready ") {
		t.Fatalf("the agent's socket holder: %q %v", ready, err)
	}
	holderPort := strings.TrimSpace(string(ready[6:]))

	// Certificates: a CA, and a signed certificate for each node.
	base := t.TempDir()
	pki := filepath.Join(base, "pki")
	os.MkdirAll(pki, 0o755)
	run := func(argv ...string) {
		t.Helper()
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = pki
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%q: %v\n%s", argv, err, out)
		}
	}
	run(append([]string{icinga2, "pki", "new-ca"}, icingaDirs(pki, "root")...)...)
	for _, n := range []string{"master", "agent"} {
		run(append([]string{icinga2, "pki", "new-cert", "--cn", n, "--key", n + ".key", "--csr", n + ".csr"}, icingaDirs(pki, "root")...)...)
		run(append([]string{icinga2, "pki", "sign-csr", "--csr", n + ".csr", "--cert", n + ".crt"}, icingaDirs(pki, "root")...)...)
	}

	plugins := t.TempDir()
	data, _ := os.ReadFile(binary)
	os.WriteFile(filepath.Join(plugins, "network-connections"), data, 0o755)

	zones := `object Endpoint "master" { host = "10.211.0.1" }
object Endpoint "agent" { host = "10.211.0.2" }
object Zone "master" { endpoints = [ "master" ] }
object Zone "agent" { endpoints = [ "agent" ]; parent = "master" }
object Zone "global-templates" { global = true }
`
	addr := map[string]string{"master": "10.211.0.1", "agent": "10.211.0.2"}
	netns := map[string]string{"master": master, "agent": agent}
	// node writes a node's config; it runs in the node's namespace.
	node := func(name, objects string) (dir string, argv []string) {
		dir = filepath.Join(base, name)
		// No zones.d/global-templates on the agent: a node with one is the
		// authority for that zone and ignores the master's.
		os.MkdirAll(filepath.Join(dir, "zones.d"), 0o755)
		conf := fmt.Sprintf(`const PluginDir = %q
const NodeName = %q
const ZoneName = %q
include <itl>
%s
object ApiListener "api" {
  cert_path = %q
  key_path = %q
  ca_path = %q
  bind_host = %q
  accept_config = true
  accept_commands = true
}
object CheckerComponent "checker" {}
%s`, plugins, name, name, zones, filepath.Join(pki, name+".crt"), filepath.Join(pki, name+".key"),
			filepath.Join(pki, "data/ca/ca.crt"), addr[name], strings.ReplaceAll(objects, "DIR", dir))
		os.WriteFile(filepath.Join(dir, "icinga2.conf"), []byte(conf), 0o644)
		argv = append([]string{"ip", "netns", "exec", netns[name], icinga2, "daemon", "-c", filepath.Join(dir, "icinga2.conf"),
			"-DZonesDir=" + filepath.Join(dir, "zones.d")}, icingaDirs(dir, "root")...)
		return dir, argv
	}
	// The master: the agent as a host, two services run there, results as
	// perfdata files; the CheckCommand in the global zone, synced to the agent.
	masterDir, masterArgv := node("master", `object PerfdataWriter "perfdata" {
  service_perfdata_path = "DIR/perf/service"
  host_perfdata_path = "DIR/perf/host"
  service_format_template = "$service.name$ $service.perfdata$"
  rotation_interval = 1s
}
`)
	// A checkable run by an endpoint must be in a zone: the master's.
	os.MkdirAll(filepath.Join(masterDir, "zones.d/master"), 0o755)
	os.WriteFile(filepath.Join(masterDir, "zones.d/master/agent.conf"), []byte(fmt.Sprintf(`object Host "agent" {
  check_command = "dummy"
  enable_active_checks = false
}
template Service "on-agent" {
  host_name = "agent"
  check_command = "network-connections"
  command_endpoint = "agent"
  check_interval = 1s
  retry_interval = 1s
  vars.network_connections_conn_type = [ "tcp" ]
  vars.network_connections_local_port = [ %q ]
}
object Service "agent-ok" { import "on-agent"; vars.network_connections_warning = "10" }
object Service "agent-critical" { import "on-agent"; vars.network_connections_conn_status = [ "established" ]; vars.network_connections_critical = "3" }
`, holderPort)), 0o644)
	contrib, _ := os.ReadFile(filepath.Join(repo, "contrib/icinga2/network-connections.conf"))
	os.MkdirAll(filepath.Join(masterDir, "zones.d/global-templates"), 0o755)
	os.WriteFile(filepath.Join(masterDir, "zones.d/global-templates/network-connections.conf"), contrib, 0o644)
	agentDir, agentArgv := node("agent", "")

	agentCmd := startIcinga2(t, agentDir, agentArgv...)
	masterCmd := startIcinga2(t, masterDir, masterArgv...)
	want := map[string]coreResult{
		"agent!agent-ok":       {state: 0, output: "tcp ESTABLISHED: 5, tcp LISTEN: 1", perf: "tcp_ESTABLISHED=5;10;;0 tcp_LISTEN=1;10;;0"},
		"agent!agent-critical": {state: 2, output: "tcp ESTABLISHED: 5 [CRITICAL]", perf: "tcp_ESTABLISHED=5;;3;0"},
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(agentDir, "daemon.log"))
			t.Logf("agent log:\n%s", b)
			t.Logf("master perfdata:\n%.4000s", servicePerfdata(masterDir))
		}
	})
	waitFor(t, "the agent's results on the master", filepath.Join(masterDir, "daemon.log"), func() bool {
		seen := servicePerfdata(masterDir)
		// Results from before the agent had the synced command say it does
		// not exist: wait for the plugin's own.
		ok, critical := false, false
		for _, l := range strings.Split(string(seen), "\n") {
			ok = ok || strings.Contains(l, "agent-ok") && strings.Contains(l, "tcp_ESTABLISHED=5")
			critical = critical || strings.Contains(l, "agent-critical") && strings.Contains(l, "tcp_ESTABLISHED=5")
		}
		return ok && critical
	})
	stopCore(t, masterCmd) // the master writes its state file on the way out
	stopCore(t, agentCmd)
	results := readIcingaState(t, filepath.Join(masterDir, "data", "icinga2.state"))
	for name, w := range want {
		if got := results[name]; got != w {
			agentLog, _ := os.ReadFile(filepath.Join(agentDir, "daemon.log"))
			t.Errorf("%s: the master recorded %+v, want %+v\nagent log:\n%.3000s", name, got, w, agentLog)
		}
	}
	// On the master itself the same check finds nothing: the counts came
	// from the agent's namespace.
	out, _ := exec.Command("ip", "netns", "exec", master, binary, "--conn-type", "tcp", "--local-port", holderPort).Output()
	if !strings.HasPrefix(string(out), "No connections") {
		t.Errorf("the master's namespace: %q, want no connections", out)
	}
}
