package main

import (
	_ "embed"
	"regexp"
	"runtime/debug"
	"strings"
)

// version is stamped by make (-X main.version=...); empty in a plain go build.
var version string

// versionFile is VERSION: the base version, then the commit, which git
// archive writes there (export-subst) for a tarball.
//
//go:embed VERSION
var versionFile string

// versionText is what --version prints: make's stamp, or else the base
// version with the commit that this build knows of, saying where it came
// from, since only make stamps a version.
func versionText() string {
	if version != "" {
		return version
	}
	base, commit, _ := strings.Cut(strings.TrimSpace(versionFile), "\n")
	if info, ok := debug.ReadBuildInfo(); ok {
		// A tagged module version; Go stamps a pseudo-version
		// (v0.0.0-20261125145238-de4ea4191f8d) on any checkout, which says
		// less than the commit below.
		if v := info.Main.Version; v != "" && v != "(devel)" && !regexp.MustCompile(`\d{14}-[0-9a-f]{12}`).MatchString(v) {
			return strings.TrimPrefix(v, "v") + " (not built by make: the module version go install was given)"
		}
		var rev, date, dirty string
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && len(s.Value) >= 12:
				rev = s.Value[:12]
			case s.Key == "vcs.time" && len(s.Value) >= 10:
				date = strings.ReplaceAll(s.Value[:10], "-", "")
			case s.Key == "vcs.modified" && s.Value == "true":
				dirty = ".dirty"
			}
		}
		if rev != "" {
			return base + "~git" + date + "." + rev + dirty + " (not built by make: the commit from go build's VCS stamp)"
		}
	}
	// git archive wrote "<commit> <YYYY-MM-DD>" there (export-subst).
	if hash, date, ok := strings.Cut(commit, " "); ok && len(hash) >= 12 && !strings.HasPrefix(commit, "$") {
		return base + "~git" + strings.ReplaceAll(date, "-", "") + "." + hash[:12] + " (not built by make: the commit git archive wrote in VERSION)"
	}
	return base + "~unknown (not built by make, and no commit known: build with make)"
}
