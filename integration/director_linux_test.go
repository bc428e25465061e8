package integration

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The shipped Director basket, restored into Debian's Icinga Director (a
// real MariaDB, icingacli), used as a site would: a host and services from
// its template, rendered, validated and run by Icinga 2, which records the
// plugin's state, output and perfdata.
func TestDirectorBasket(t *testing.T) {
	for _, tool := range [][2]string{{"mariadbd", "mariadb-server"}, {"mariadb-install-db", "mariadb-server"}, {"icingacli", "icingacli icingaweb2-module-director php-mysql"}, {"icinga2", "icinga2-bin"}} {
		need(t, tool[0], tool[1])
	}
	if _, err := os.Stat("/usr/share/icingaweb2/modules/director"); err != nil {
		t.Skip("needs icingaweb2-module-director")
	}
	if !inPrivateNetns(t) {
		return
	}
	socketMix(t)
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }

	// MariaDB on this namespace's loopback, stopped by the pid started.
	if out, err := exec.Command("mariadb-install-db", "--datadir="+p("db"), "--user=root", "--auth-root-authentication-method=normal").CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	db := exec.Command("mariadbd", "--datadir="+p("db"), "--socket="+p("mysql.sock"), "--bind-address=127.0.0.1", "--port=3306", "--user=root", "--pid-file="+p("mysql.pid"))
	dbLog, _ := os.Create(p("mariadb.log"))
	db.Stdout, db.Stderr = dbLog, dbLog
	if err := db.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopCore(t, db); dbLog.Close() })
	sql := func(query string) string {
		t.Helper()
		out, err := exec.Command("mariadb", "--socket="+p("mysql.sock"), "-uroot", "-N", "-r", "-e", query).CombinedOutput()
		if err != nil {
			t.Fatalf("mariadb %q: %v\n%s", query, err, out)
		}
		return string(out)
	}
	waitFor(t, "MariaDB", p("mariadb.log"), func() bool {
		_, err := os.Stat(p("mysql.sock"))
		return err == nil
	})
	sql("CREATE DATABASE director CHARACTER SET 'utf8'; CREATE USER director@'127.0.0.1' IDENTIFIED BY 'director'; GRANT ALL ON director.* TO director@'127.0.0.1';")

	// Icinga Web 2's config: the database resource and the Director module.
	web := p("icingaweb2")
	os.MkdirAll(filepath.Join(web, "modules/director"), 0o755)
	os.MkdirAll(filepath.Join(web, "enabledModules"), 0o755)
	os.WriteFile(filepath.Join(web, "resources.ini"), []byte("[director_db]\ntype = \"db\"\ndb = \"mysql\"\nhost = \"127.0.0.1\"\nport = \"3306\"\ndbname = \"director\"\nusername = \"director\"\npassword = \"director\"\ncharset = \"utf8\"\n"), 0o644)
	os.WriteFile(filepath.Join(web, "modules/director/config.ini"), []byte("[db]\nresource = \"director_db\"\n"), 0o644)
	for _, m := range []string{"director", "incubator", "reactbundle"} {
		os.Symlink("/usr/share/icingaweb2/modules/"+m, filepath.Join(web, "enabledModules", m))
	}
	icingacli := func(stdin []byte, args ...string) string {
		t.Helper()
		cmd := exec.Command("icingacli", append([]string{"director"}, args...)...)
		cmd.Env = append(os.Environ(), "ICINGAWEB_CONFIGDIR="+web)
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil || bytes.Contains(out, []byte("ERROR")) {
			t.Fatalf("icingacli director %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	icingacli(nil, "migration", "run")

	// What a site already has: the original's generic service template, and
	// a host check command.
	icingacli(nil, "service", "create", "tpl-service-generic", "--json", `{"object_type": "template", "max_check_attempts": "3"}`)
	icingacli(nil, "command", "create", "nc-test-true", "--json", `{"object_type": "object", "methods_execute": "PluginCheck", "command": "/bin/true"}`)
	basket, err := os.ReadFile(filepath.Join(repo, "contrib/icingaweb2-module-director/network-connections.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(basket, []byte(`"uuid"`)) {
		t.Fatal(`the basket carries "uuid" keys, which Director 1.10 refuses`)
	}
	icingacli(basket, "basket", "restore")
	icingacli(basket, "basket", "restore") // again, over itself: an upgrade in place

	// A host and services from the template: plain, with thresholds, with the
	// list fields.
	icingacli(nil, "host", "create", "test", "--json", `{"object_type": "object", "address": "127.0.0.1", "check_command": "nc-test-true", "enable_active_checks": false}`)
	services := map[string]string{
		"plain":      `{}`,
		"thresholds": `{"network_connections_conn_status": ["established"], "network_connections_warning": ["2"], "network_connections_critical": ["5"]}`,
		"lists":      `{"network_connections_conn_type": ["udp", "udp6"], "network_connections_conn_status": ["none"]}`,
		"saturation": `{"network_connections_listen_queue_critical": "100"}`,
	}
	for name, vars := range services {
		if name != "lists" {
			vars = strings.Replace(vars, "{", `{"network_connections_conn_type": ["tcp6"], `, 1)
			vars = strings.Replace(vars, ", }", "}", 1)
		}
		icingacli(nil, "service", "create", name, "--json", fmt.Sprintf(`{"object_type": "object", "host": "test", "imports": ["tpl-service-network-connections"], "check_interval": "1", "retry_interval": "1", "vars": %s}`, vars))
	}
	rendered := icingacli(nil, "config", "render")
	checksum := regexp.MustCompile(`[0-9a-f]{40}`).FindString(rendered)
	if checksum == "" {
		t.Fatalf("no config checksum in %q", rendered)
	}

	// The rendered files, as Director would deploy them.
	conf := p("icinga2")
	files := sql(fmt.Sprintf("USE director; SELECT f.file_path, REPLACE(TO_BASE64(g.content), '\\n', '') FROM director_generated_config_file f JOIN director_generated_file g ON f.file_checksum = g.checksum WHERE f.config_checksum = UNHEX('%s');", checksum))
	for _, line := range strings.Split(strings.TrimSpace(files), "\n") {
		path, content, _ := strings.Cut(line, "\t")
		b, err := base64.StdEncoding.DecodeString(content)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(conf, path)), 0o755)
		os.WriteFile(filepath.Join(conf, path), b, 0o644)
	}
	commands, _ := os.ReadFile(filepath.Join(conf, "zones.d/director-global/commands.conf"))
	if !bytes.Contains(commands, []byte(`object CheckCommand "cmd-check-network-connections"`)) || !bytes.Contains(commands, []byte(`object CheckCommand "cmd-check-network-connections-windows"`)) {
		t.Fatalf("rendered commands:\n%s", commands)
	}

	plugins := pluginsDir(t)
	os.WriteFile(filepath.Join(conf, "icinga2.conf"), []byte(fmt.Sprintf(`const PluginDir = %q
include <itl>
// Director's tree, without the zones a cluster would need: one node runs it.
include_recursive %q
include_recursive %q
object CheckerComponent "checker" {}
object PerfdataWriter "perfdata" {
  service_perfdata_path = %q
  host_perfdata_path = %q
  service_format_template = "$service.name$ $service.perfdata$"
  rotation_interval = 1s
}
`, plugins, filepath.Join(conf, "zones.d/director-global"), filepath.Join(conf, "zones.d/master"), filepath.Join(conf, "perf/service"), filepath.Join(conf, "perf/host"))), 0o644)
	core := startIcinga2(t, conf, append([]string{"icinga2", "daemon", "-c", filepath.Join(conf, "icinga2.conf")}, icingaDirs(conf, "root")...)...)
	waitFor(t, "every service's result", filepath.Join(conf, "daemon.log"), func() bool {
		seen := servicePerfdata(conf)
		for name := range services {
			if !bytes.Contains(seen, []byte(name+" ")) {
				return false
			}
		}
		return true
	})
	stopCore(t, core)
	results := readIcingaState(t, filepath.Join(conf, "data", "icinga2.state"))
	want := map[string]coreResult{
		"test!plain":      {state: 0, output: "tcp6 ESTABLISHED: 3, tcp6 LISTEN: 2", perf: "tcp6_ESTABLISHED=3;;;0 tcp6_LISTEN=2;;;0"},
		"test!thresholds": {state: 1, output: "tcp6 ESTABLISHED: 3 [WARNING]", perf: "tcp6_ESTABLISHED=3;2;5;0"},
		"test!lists":      {state: 0, output: "udp NONE: 2, udp6 NONE: 1", perf: "udp_NONE=2;;;0 udp6_NONE=1;;;0"},
		"test!saturation": {state: 0, output: "tcp6 ESTABLISHED: 3, tcp6 LISTEN: 2", perf: "tcp6_ESTABLISHED=3;;;0 tcp6_LISTEN=2;;;0 listen_queue_max_pct=0%;;100;0"},
	}
	for name, w := range want {
		got := results[name]
		if name == "test!saturation" { // its long output names a listener on a port of the kernel's choice
			first, rest, _ := strings.Cut(got.output, "\n")
			if !strings.HasPrefix(rest, "listen queues: 2 listeners, the fullest ") {
				t.Errorf("%s: Icinga 2 recorded the long output %q, want the listen queues' line", name, rest)
			}
			got.output = first
		}
		if got != w {
			t.Errorf("%s: Icinga 2 recorded %+v, want %+v", name, got, w)
		}
	}
}
