package main

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// startsOf is every start of a long option name that argparse would try:
// from one letter to the whole name.
func startsOf(name string) []string {
	var out []string
	for i := 1; i <= len(name); i++ {
		out = append(out, name[:i])
	}
	return out
}

// resolve is argparse's rule over a list of long options: the option a
// start names, "" when none does, or the candidates when it is ambiguous.
func resolve(start string, names []string) (string, []string) {
	var found []string
	for _, n := range names {
		if n == start {
			return n, nil
		}
		if strings.HasPrefix(n, start) {
			found = append(found, n)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	return "", found
}

// How each of the original's options shows in the parsed configuration.
var originalEffect = map[string]struct {
	value string // "" for a switch
	ok    func(config) bool
}{
	"always-ok":   {"", func(c config) bool { return c.report.AlwaysOK }},
	"no-perfdata": {"", func(c config) bool { return c.report.NoPerfdata }},
	"help":        {"", func(c config) bool { return c.help }},
	"version":     {"", func(c config) bool { return c.version }},
	"conn-status": {"LISTEN", func(c config) bool { return c.report.StatusText == "listen" }},
	"conn-type":   {"tcp6", func(c config) bool { return c.report.TypeText == "tcp6" }},
	"warning":     {"7", func(c config) bool { return c.report.Warning.Plain.String() == "7" }},
	"critical":    {"9", func(c config) bool { return c.report.Critical.Plain.String() == "9" }},
}

// Every start of the original's options that its argparse resolves does the
// same here, with the value apart or after =, even where an option the
// original lacks makes it ambiguous among ours (--n, --v, --ver).
func TestOriginalAbbreviations(t *testing.T) {
	if len(originalEffect) != len(originalOptions) {
		t.Fatalf("the test knows %d of the original's %d options", len(originalEffect), len(originalOptions))
	}
	tried := 0
	for _, o := range originalOptions {
		for _, start := range startsOf(o) {
			got, _ := resolve(start, originalOptions)
			if got != o {
				continue // ambiguous in the original, or another option's
			}
			e := originalEffect[o]
			forms := [][]string{{"--" + start}}
			if e.value != "" {
				forms = [][]string{{"--" + start, e.value}, {"--" + start + "=" + e.value}}
			}
			for _, args := range forms {
				tried++
				cfg, err := parseArgs(args)
				if err != nil || !e.ok(cfg) {
					t.Errorf("%q: %v, want it taken as --%s", args, err, o)
				}
			}
		}
	}
	if tried < 60 {
		t.Errorf("only %d command lines tried", tried)
	}
}

// Every start of our own options that is unambiguous among them names that
// option; every other one that the original does not resolve either is one
// UNKNOWN naming all the candidates.
func TestAbbreviations(t *testing.T) {
	names := longNames()
	for _, o := range names {
		for _, start := range startsOf(o) {
			want, candidates := resolve(start, names)
			if want == "" {
				if orig, _ := resolve(start, originalOptions); orig != "" {
					want = orig
				}
			}
			got, err := lookupLong(start)
			if want != "" {
				if err != nil || got.long != want {
					t.Errorf("--%s: %v, %v; want --%s", start, got, err, want)
				}
				continue
			}
			stdout, code := runCheck("--" + start)
			if code != 3 || !strings.HasPrefix(stdout, "UNKNOWN: ambiguous option --"+start+":") || strings.Count(stdout, "\n") != 1 {
				t.Errorf("--%s: exit %d, %q; want one UNKNOWN line", start, code, stdout)
			}
			for _, c := range candidates {
				if !strings.Contains(stdout, "--"+c) {
					t.Errorf("--%s: %q does not name --%s", start, stdout, c)
				}
			}
		}
	}
}

// The original's own parser, where python3 is at hand, agrees with the rule
// the tests above apply (argparse of the Python that runs the original).
func TestArgparseAgrees(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 to run argparse")
	}
	var starts []string
	for _, o := range longNames() {
		starts = append(starts, startsOf(o)...)
	}
	slices.Sort(starts)
	starts = slices.Compact(starts)
	script := `
import argparse, sys
class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ValueError(message)
p = Parser(add_help=False)
for o in sys.argv[1].split(","):
    p.add_argument("--" + o, action="store_true" if o in ("always-ok", "no-perfdata", "help") else "store")
for s in sys.argv[2:]:
    try:
        found = p._parse_optional("--" + s)
    except ValueError as e:
        print("ambiguous" if "ambiguous option" in str(e) else "error")
        continue
    if isinstance(found, list):  # Python 3.12 and later
        found = found[0] if len(found) == 1 else None
    print("unknown" if found is None or found[0] is None else found[0].option_strings[0][2:])
`
	out, err := exec.Command(python, append([]string{"-c", script, strings.Join(originalOptions, ",")}, starts...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("argparse: %v: %s", err, out)
	}
	answers := strings.Fields(string(out))
	if len(answers) != len(starts) {
		t.Fatalf("argparse answered %d of %d: %s", len(answers), len(starts), out)
	}
	for i, s := range starts {
		want, candidates := resolve(s, originalOptions)
		switch {
		case want == "" && len(candidates) > 1:
			want = "ambiguous"
		case want == "":
			want = "unknown"
		}
		if answers[i] != want {
			t.Errorf("--%s: argparse says %s, the tests' rule %s", s, answers[i], want)
		}
	}
}

// The command lines a user of the original types, end to end.
func TestOriginalCommandLines(t *testing.T) {
	for _, args := range [][]string{
		{"--crit", "100000"}, {"--warn", "100000"}, {"--conn-stat", "established"}, {"--no-perf"},
		{"--always"}, {"--conn-t=tcp", "--conn-s=listen", "--w=1e6", "--cr= 1000000"},
		{"-w", " 100000"}, {"-w", "100000 "}, {"-w", "1e5"}, {"-c", "1_000_000"}, {"-w", "0:inf"},
	} {
		stdout, code := runCheck(args...)
		if code != 0 || strings.HasPrefix(stdout, "UNKNOWN") {
			t.Errorf("%q: exit %d, %q", args, code, stdout)
		}
	}
}

// --help: every option with its value and default, descriptions in one
// column, no line wider than 79, and where to read more.
func TestHelpLayout(t *testing.T) {
	help := usage()
	lines := strings.Split(help, "\n")
	for _, l := range lines {
		if len(l) > helpWidth {
			t.Errorf("%d columns: %q", len(l), l)
		}
	}
	for _, o := range options {
		head := fmt.Sprintf("      --%s", o.long)
		if o.short != "" {
			head = fmt.Sprintf("  -%s, --%s", o.short, o.long)
		}
		if o.arg != "" {
			head += " " + o.arg
		}
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, head+" ") || l == head })
		if i < 0 {
			t.Errorf("--%s: no line begins %q", o.long, head)
			continue
		}
		// Its description: from the column on, up to the next option.
		var desc []string
		for j, l := range lines[i:] {
			if j > 0 && (len(l) < helpColumn || strings.TrimSpace(l[:helpColumn]) != "") {
				break
			}
			if j == 0 && l == head && len(head)+2 > helpColumn {
				continue // too long a name: its text begins on the next line
			}
			if len(l) <= helpColumn || l[helpColumn-1] != ' ' || l[helpColumn-2] != ' ' || l[helpColumn] == ' ' {
				t.Errorf("--%s: %q does not start its text in column %d", o.long, l, helpColumn+1)
				continue
			}
			desc = append(desc, l[helpColumn:])
		}
		text := strings.Join(desc, " ")
		if d := o.shown; d == "" && o.def != "" {
			if !strings.Contains(text, "(default "+o.def+")") {
				t.Errorf("--%s: %q does not give its default %q", o.long, text, o.def)
			}
		} else if o.kind != switchOpt && !strings.Contains(text, "(default ") {
			t.Errorf("--%s: %q gives no default", o.long, text)
		}
	}
	for _, want := range []string{"https://github.com/network-connections/network-connections", "README"} {
		if !strings.Contains(lines[len(lines)-3]+lines[len(lines)-2], want) {
			t.Errorf("the help does not end pointing to %s", want)
		}
	}
}
