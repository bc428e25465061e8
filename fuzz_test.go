package main

import (
	"strings"
	"testing"
)

// FuzzCommandLine: any argv gives exit 0-3 and an answer on stdout; an error
// is one line; nothing panics (a recovered panic says "internal error").
func FuzzCommandLine(f *testing.F) {
	for _, seed := range []string{
		"", "-h", "-V", "--conn-type tcp,tcp6 --conn-status established -w 200",
		"-w 30:40 -c @10:20 --always-ok", "--conn-type=all --conn-status=all --no-perfdata",
		"-w time_wait=500 -w established=5000 -c tcp6_established=8000",
		"--local-port 8000-8100 --remote-address 10.0.0.0/8 --group-by status",
		"--conn-type unix --report-missing -c 1:", "--top 3 -vv --format json",
		"--backend procfs --group-by none -w total=0", "-t 0", "-w 1:2:3", "--bogus", "x",
		"--format json --critical abc", "--crit 5 --warn=1e3 --no-perf", "--n --v", "--co tcp", "--netns /nonexistent", "-c ~:-95.99 -w @0:657.8210567",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		toks, _ := scan(args)
		for _, tok := range toks {
			if tok.opt.long == "netns" || tok.opt.long == "timeout" {
				return // could enter a namespace or wait on a path (tested on their own)
			}
		}
		var out strings.Builder
		code := run(args, &out)
		s := out.String()
		if code < 0 || code > 3 {
			t.Fatalf("%q: exit %d", args, code)
		}
		if s == "" || !strings.HasSuffix(s, "\n") || strings.Contains(s, "internal error") {
			t.Fatalf("%q: exit %d, stdout %q", args, code, s)
		}
		if strings.HasPrefix(s, "UNKNOWN: ") && (strings.Count(s, "\n") != 1 || strings.Contains(s, "|")) {
			t.Fatalf("%q: an error in more than one line, or with a '|': %q", args, s)
		}
		if first, _, _ := strings.Cut(s, "\n"); strings.Count(first, "|") > 1 {
			t.Fatalf("%q: more than one '|' in the status line: %q", args, first)
		}
	})
}
