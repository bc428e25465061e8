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
	if out, err := check.CombinedOutput(); err != nil || strings.Count(string(out), ": OK") != 3 {
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
		"etc/nagios-plugins/config/network-connections.cfg", "usr/share/doc/network-connections/README.rst", "usr/share/doc/network-connections/copyright"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("installed: %v", err)
		}
	}
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
}
