package integration

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDistAndPackages builds what a release ships (make packages, which runs
// make dist), checks every binary and checksum, and installs the .deb with
// dpkg into a scratch root, where the installed plugin must run.
func TestDistAndPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every platform: not in -short")
	}
	for _, tool := range [][2]string{{"make", "make"}, {"dpkg", "dpkg"}, {"dpkg-deb", "dpkg"}, {"rpm", "rpm"}, {"sha256sum", "coreutils"}, {"unshare", "util-linux"}} {
		need(t, tool[0], tool[1])
	}
	// The release tools (nfpm) come as Go modules: without the network or a
	// module cache holding them, say so rather than fail.
	tools := exec.Command("go", "mod", "download", "-modfile=tools/go.mod")
	tools.Dir = repo
	if out, err := tools.CombinedOutput(); err != nil {
		t.Skipf("needs the release tools' Go modules (go mod download -modfile=tools/go.mod): %v\n%s", err, out)
	}
	dist := t.TempDir()
	mk := exec.Command("make", "packages", "DISTDIR="+dist)
	mk.Dir = repo
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make packages: %v\n%s", err, out)
	}
	v := exec.Command("make", "-s", "version")
	v.Dir = repo
	out, err := v.Output()
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(out))

	for _, name := range []string{"linux-amd64", "linux-arm64", "windows-amd64.exe"} {
		if st, err := os.Stat(filepath.Join(dist, "network-connections-"+name)); err != nil || st.Size() < 1<<20 {
			t.Errorf("network-connections-%s: %v", name, err)
		}
	}
	check := exec.Command("sha256sum", "--check", "--strict", "SHA256SUMS")
	check.Dir = dist
	if out, err := check.CombinedOutput(); err != nil || strings.Count(string(out), ": OK") != 7 {
		t.Errorf("sha256sum --check: %v\n%s", err, out)
	}
	for _, gone := range []string{"darwin-amd64", "darwin-arm64", "freebsd-amd64"} {
		if _, err := os.Stat(filepath.Join(dist, "network-connections-"+gone)); err == nil {
			t.Errorf("network-connections-%s is built, but no test runs it", gone)
		}
	}
	stdout, _, code := runBinaryAt(t, filepath.Join(dist, "network-connections-linux-amd64"), "--version")
	if stdout != "network-connections "+version+"\n" || code != 3 {
		t.Errorf("--version: %q exit %d, want the stamped version %q", stdout, code, version)
	}

	debs, _ := filepath.Glob(filepath.Join(dist, "*_amd64.deb"))
	rpms, _ := filepath.Glob(filepath.Join(dist, "*.x86_64.rpm"))
	arm, _ := filepath.Glob(filepath.Join(dist, "*arm64.deb"))
	armRPM, _ := filepath.Glob(filepath.Join(dist, "*.aarch64.rpm"))
	if len(debs) != 1 || len(rpms) != 1 || len(arm) != 1 || len(armRPM) != 1 {
		t.Fatalf("packages: deb %q rpm %q arm64 deb %q rpm %q", debs, rpms, arm, armRPM)
	}
	rpmFiles, err := exec.Command("rpm", "-qpl", rpms[0]).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"/usr/lib64/nagios/plugins/network-connections", "/usr/share/icinga2/include/plugins-contrib.d/network-connections.conf", "/usr/share/doc/network-connections/README.rst"} {
		if !strings.Contains(string(rpmFiles), f+"\n") {
			t.Errorf("the rpm lacks %s:\n%s", f, rpmFiles)
		}
	}

	// dpkg installs into a root of its own: this machine's packages stay as they are.
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644)
	if out, err := exec.Command("dpkg", "--root="+root, "--force-script-chrootless", "--force-not-root", "-i", debs[0]).CombinedOutput(); err != nil {
		t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
	for _, f := range []string{"usr/lib/nagios/plugins/network-connections", "usr/share/icinga2/include/plugins-contrib.d/network-connections.conf",
		"etc/nagios-plugins/config/network-connections.cfg", "usr/share/doc/network-connections/README.rst", "usr/share/doc/network-connections/copyright",
		"usr/share/doc/network-connections/nrpe/network-connections.cfg", "usr/share/lintian/overrides/network-connections",
		"usr/share/doc/network-connections/director/network-connections.json", "usr/share/doc/network-connections/graphite/network-connections.ini",
		"usr/share/doc/network-connections/grafana/network-connections-influxdb.json", "usr/share/doc/network-connections/grafana/network-connections-graphite.json",
		"usr/share/doc/network-connections/output.schema.json"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("installed: %v", err)
		}
	}
	// The packages are reproducible: built again from the same commit, byte
	// for byte the same (SOURCE_DATE_EPOCH is the commit's time).
	again := t.TempDir()
	mk2 := exec.Command("make", "packages", "DISTDIR="+again)
	mk2.Dir = repo
	if out, err := mk2.CombinedOutput(); err != nil {
		t.Fatalf("make packages again: %v\n%s", err, out)
	}
	a, _ := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	b, _ := os.ReadFile(filepath.Join(again, "SHA256SUMS"))
	if string(a) != string(b) || len(a) == 0 {
		t.Errorf("two builds differ:\n%s\n%s", a, b)
	}

	lintPackages(t, dist, debs[0], rpms[0])
	checkMaintainer(t, debs[0], rpms[0])

	installed := filepath.Join(root, "usr/lib/nagios/plugins/network-connections")
	if os.Geteuid() == 0 {
		// In an empty network namespace the answer is known exactly.
		out, err := exec.Command("unshare", "-n", installed).Output()
		if want := `No connections of type "all" in status "all" found.` + "\n"; err != nil || string(out) != want {
			t.Errorf("installed plugin: %q, %v; want %q", out, err, want)
		}
	}
	if stdout, _, code := runBinaryAt(t, installed, "--version"); stdout != "network-connections "+version+"\n" || code != 3 {
		t.Errorf("installed --version: %q exit %d", stdout, code)
	}

	testRemoval(t, root, debs[0], installed)
}

// testRemoval removes and purges the package installed in root, and
// installs it again.
func testRemoval(t *testing.T, root, deb, installed string) {
	// Removing the package keeps both cores' configurations valid: services
	// that use the commands then show the plugin missing, and the core
	// still starts. dpkg deletes the Icinga 2 CheckCommands on -r and the
	// Nagios commands (a conffile) on --purge; the maintainer scripts put
	// them back. The directories hold other packages' commands, as on a
	// host with the cores installed (so dpkg leaves them).
	for _, d := range []string{"usr/share/icinga2/include/plugins-contrib.d", "etc/nagios-plugins/config"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "usr/share/icinga2/include/plugins-contrib.d/other.conf"), []byte("object CheckCommand \"other\" { command = [ \"/bin/true\" ] }\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/nagios-plugins/config/other.cfg"), []byte("define command {\n    command_name other\n    command_line /bin/true\n}\n"), 0o644)
	dpkg := func(args ...string) {
		t.Helper()
		cmd := exec.Command("dpkg", append([]string{"--root=" + root, "--force-script-chrootless", "--force-not-root"}, args...)...)
		cmd.Stdin = nil // a conffile question would fail, not wait
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dpkg %q: %v\n%s", args, err, out)
		}
	}
	validateCores(t, root, "installed")
	dpkg("-r", "network-connections")
	if _, err := os.Stat(installed); err == nil {
		t.Error("dpkg -r left the binary")
	}
	validateCores(t, root, "after dpkg -r")
	dpkg("--purge", "network-connections")
	validateCores(t, root, "after dpkg --purge")
	// Installed again over what the removal left, without a question.
	dpkg("-i", deb)
	dpkg("--purge", "network-connections")
	validateCores(t, root, "after a second install and purge")

	// Capabilities the admin opted into survive an upgrade: postinst sets
	// them again (an install, as every upgrade, ships a binary without).
	if os.Geteuid() == 0 && lookPath("setcap") && lookPath("getcap") {
		os.MkdirAll(filepath.Join(root, "etc/network-connections"), 0o755)
		os.WriteFile(filepath.Join(root, "etc/network-connections/capabilities"), []byte("# for --top as nagios\ncap_dac_read_search,cap_sys_ptrace+ep\n"), 0o644)
		for _, step := range []string{"install", "upgrade"} {
			dpkg("-i", deb)
			out, err := exec.Command("getcap", installed).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "cap_dac_read_search,cap_sys_ptrace=ep") {
				t.Errorf("after the %s, getcap: %q, %v; want the capabilities of /etc/network-connections/capabilities", step, out, err)
			}
		}
		os.Remove(filepath.Join(root, "etc/network-connections/capabilities"))
		dpkg("-i", deb)
		if out, _ := exec.Command("getcap", installed).CombinedOutput(); len(strings.TrimSpace(string(out))) != 0 {
			t.Errorf("without the opt-in file, getcap: %q; want none", out)
		}
	}
}

// checkMaintainer: the packages name the project as maintainer, in the
// control file, the rpm header and both changelogs; make packages
// MAINTAINER=... puts another in all those places.
func checkMaintainer(t *testing.T, deb, rpm string) {
	const want = "network-connections developers <network-connections@users.noreply.github.com>"
	if out, err := exec.Command("dpkg-deb", "-f", deb, "Maintainer").Output(); err != nil || strings.TrimSpace(string(out)) != want {
		t.Errorf("the .deb's Maintainer: %q, %v; want %q", out, err, want)
	}
	changelog, err := exec.Command("sh", "-c", "dpkg-deb --fsys-tarfile \"$1\" | tar -xO ./usr/share/doc/network-connections/changelog.Debian.gz | zcat", "sh", deb).Output()
	if err != nil || !strings.Contains(string(changelog), " -- "+want+"  ") {
		t.Errorf("the .deb's changelog: %v\n%s", err, changelog)
	}
	if out, err := exec.Command("rpm", "-qp", "--qf", "%{PACKAGER}\n", rpm).Output(); err != nil || strings.TrimSpace(string(out)) != want {
		t.Errorf("the rpm's Packager: %q, %v; want %q", out, err, want)
	}
	if out, err := exec.Command("rpm", "-qp", "--changelog", rpm).Output(); err != nil || !strings.Contains(string(out), want) {
		t.Errorf("the rpm's changelog: %v\n%s", err, out)
	}
	other := "Jane Admin <jane@example.net>"
	mk := exec.Command("make", "-n", "packages", "MAINTAINER="+other)
	mk.Dir = repo
	out, err := mk.Output()
	if err != nil || strings.Count(string(out), other) < 2 || strings.Contains(string(out), want) {
		t.Errorf("make -n packages MAINTAINER=%q: %v; want it for nfpm and the changelog:\n%s", other, err, out)
	}
}

func lookPath(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// validateCores checks that an Icinga 2 and a Nagios 4 configuration whose
// services use the plugin's commands validate, reading the commands from
// the directories in root where the package puts them (the cores' own
// include directories on a real host).
func validateCores(t *testing.T, root, when string) {
	t.Helper()
	if icinga2, err := exec.LookPath("icinga2"); err == nil {
		dir := t.TempDir()
		for _, d := range []string{"data", "log", "cache", "spool", "run"} {
			os.MkdirAll(filepath.Join(dir, d), 0o755)
		}
		conf := fmt.Sprintf(`include <itl>
const PluginDir = "/usr/lib/nagios/plugins"
include_recursive %q
object Host "test" {
  check_command = "dummy"
}
object Service "sockets" {
  host_name = "test"
  check_command = "network-connections"
  vars.network_connections_conn_type = [ "tcp" ]
  vars.network_connections_warning = "200"
}
object Service "windows-sockets" {
  host_name = "test"
  check_command = "network-connections-windows"
}
`, filepath.Join(root, "usr/share/icinga2/include/plugins-contrib.d"))
		os.WriteFile(filepath.Join(dir, "icinga2.conf"), []byte(conf), 0o644)
		user := cmp.Or(os.Getenv("USER"), "root")
		args := append([]string{"daemon", "-C", "-c", filepath.Join(dir, "icinga2.conf")}, icingaDirs(dir, user)...)
		if out, err := exec.Command(icinga2, args...).CombinedOutput(); err != nil {
			t.Errorf("%s: the Icinga 2 configuration does not validate: %v\n%s", when, err, out)
		}
	} else {
		t.Logf("%s: no icinga2 (icinga2-bin) to validate with", when)
	}
	if nagios4, err := exec.LookPath("nagios4"); err == nil {
		dir := t.TempDir()
		p := func(name string) string { return filepath.Join(dir, name) }
		user := cmp.Or(os.Getenv("USER"), "root")
		mainCfg := fmt.Sprintf("cfg_dir=%s\ncfg_file=%s\nresource_file=%s\nnagios_user=%s\nnagios_group=%s\ncheck_result_path=%s\nlock_file=%s\ntemp_file=%s\n"+
			"object_cache_file=%s\nprecached_object_file=%s\nstatus_file=%s\nlog_file=%s\nuse_syslog=0\n",
			filepath.Join(root, "etc/nagios-plugins/config"), p("objects.cfg"), p("resource.cfg"), user, user, dir,
			p("nagios.lock"), p("nagios.tmp"), p("objects.cache"), p("objects.precache"), p("status.dat"), p("nagios.log"))
		objects := `define timeperiod {
    timeperiod_name 24x7
    alias           always
    monday          00:00-24:00
}
define contact {
    contact_name                  nobody
    host_notifications_enabled    0
    service_notifications_enabled 0
    host_notification_period      24x7
    service_notification_period   24x7
    host_notification_options     n
    service_notification_options  n
    host_notification_commands    other
    service_notification_commands other
}
define host {
    host_name             test
    address               127.0.0.1
    max_check_attempts    1
    check_period          24x7
    contacts              nobody
}
define service {
    host_name             test
    service_description   sockets
    check_command         check_network_connections!200!!--conn-type tcp
    max_check_attempts    1
    check_interval        1
    retry_interval        1
    check_period          24x7
    notification_period   24x7
    contacts              nobody
}
define service {
    host_name             test
    service_description   sockets by hand
    check_command         check_network_connections_args!--conn-status listen -c 1:
    max_check_attempts    1
    check_interval        1
    retry_interval        1
    check_period          24x7
    notification_period   24x7
    contacts              nobody
}
`
		os.WriteFile(p("nagios.cfg"), []byte(mainCfg), 0o644)
		os.WriteFile(p("objects.cfg"), []byte(objects), 0o644)
		os.WriteFile(p("resource.cfg"), []byte("$USER1$=/usr/lib/nagios/plugins\n"), 0o644)
		if out, err := exec.Command(nagios4, "-v", p("nagios.cfg")).CombinedOutput(); err != nil {
			t.Errorf("%s: the Nagios 4 configuration does not validate: %v\n%s", when, err, out)
		}
	} else {
		t.Logf("%s: no nagios4 (nagios4-core) to validate with", when)
	}
}

// lintPackages runs lintian and rpmlint as nobody (rpmlint as root unpacks
// an rpm with absolute paths into /; as nobody it cannot write there):
// no lintian error or warning, no rpmlint error but the signature, which
// only a release has.
func lintPackages(t *testing.T, dist, deb, rpm string) {
	t.Helper()
	lintian := need(t, "lintian", "lintian")
	rpmlint := need(t, "rpmlint", "rpmlint")
	home := t.TempDir()
	for _, d := range []string{dist, home, filepath.Dir(dist), filepath.Dir(home)} {
		os.Chmod(d, 0o777) // test scratch dirs, for nobody
	}
	runAsNobody := func(argv ...string) string {
		cmd := nobody(t, "", append([]string{"env", "HOME=" + home}, argv...)...)
		cmd.Dir = home
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	for _, l := range strings.Split(runAsNobody(lintian, "-EvIL", "+pedantic", deb), "\n") {
		if strings.HasPrefix(l, "E: ") || strings.HasPrefix(l, "W: ") {
			t.Errorf("lintian: %s", l)
		}
	}
	out := runAsNobody(rpmlint, rpm)
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, ": E: ") && !strings.Contains(l, ": E: no-signature") {
			t.Errorf("rpmlint: %s", l)
		}
	}
	if !strings.Contains(out, "1 packages and 0 specfiles checked") {
		t.Errorf("rpmlint did not run:\n%s", out)
	}
}
