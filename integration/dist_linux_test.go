package integration

import (
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
		"usr/share/doc/network-connections/grafana/network-connections-influxdb.json", "usr/share/doc/network-connections/grafana/network-connections-graphite.json"} {
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

	// dpkg -r keeps the Nagios command (a conffile, as every package's in
	// /etc/nagios-plugins/config): Nagios keeps starting, and services that
	// use it show the plugin missing instead of a config error that stops
	// the core. --purge removes it.
	cfg := filepath.Join(root, "etc/nagios-plugins/config/network-connections.cfg")
	dpkg := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("dpkg", append([]string{"--root=" + root, "--force-script-chrootless", "--force-not-root"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("dpkg %q: %v\n%s", args, err, out)
		}
	}
	dpkg("-r", "network-connections")
	if _, err := os.Stat(installed); err == nil {
		t.Error("dpkg -r left the binary")
	}
	if _, err := os.Stat(cfg); err != nil {
		t.Errorf("dpkg -r removed the conffile: %v", err)
	}
	dpkg("--purge", "network-connections")
	if _, err := os.Stat(cfg); err == nil {
		t.Error("dpkg --purge left the conffile")
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
