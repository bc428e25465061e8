package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The README lists the packages make deps installs: the same set, whatever
// the Makefile adds to DEB_DEPS (make expands it).
func TestReadmeListsDeps(t *testing.T) {
	makeBin := need(t, "make", "make")
	out, err := exec.Command(makeBin, "-s", "--no-print-directory", "-C", repo, "deps-list").Output()
	if err != nil {
		t.Fatalf("make deps-list: %v", err)
	}
	makefile := strings.Fields(string(out))
	readme, err := readmeDeps(filepath.Join(repo, "README.rst"))
	if err != nil {
		t.Fatal(err)
	}
	missing, extra := difference(makefile, readme), difference(readme, makefile)
	if len(makefile) == 0 || len(missing) > 0 || len(extra) > 0 {
		t.Errorf("README.rst's list of packages differs from make deps-list:\n not in the README: %v\n not in the Makefile: %v", missing, extra)
	}
}

// readmeDeps reads the literal block after the paragraph that names
// make deps-list.
func readmeDeps(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(b), "\n")
	at := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "``make deps-list``") })
	for at >= 0 && at < len(lines) && !strings.HasSuffix(lines[at], "::") {
		at++
	}
	if at < 0 || at >= len(lines) {
		return nil, os.ErrNotExist
	}
	var pkgs []string
	for _, l := range lines[at+1:] {
		switch {
		case strings.TrimSpace(l) == "":
			if len(pkgs) > 0 {
				return pkgs, nil
			}
		case !strings.HasPrefix(l, " "):
			return pkgs, nil
		default:
			pkgs = append(pkgs, strings.Fields(l)...)
		}
	}
	return pkgs, nil
}

// difference is what a holds that b does not.
func difference(a, b []string) []string {
	var d []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			d = append(d, s)
		}
	}
	return d
}
