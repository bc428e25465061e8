package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The original's long options, from its argparse parser. Python's argparse
// takes any unambiguous start of a long option; a start that the original
// resolves stays resolved the same way here, even where an option it lacks
// makes it ambiguous (--n is --no-perfdata, --v is --version).
var originalOptions = []string{"always-ok", "conn-status", "conn-type", "critical", "help", "no-perfdata", "version", "warning"}

// token is one option of the command line as scanned: the option, and its
// value when it takes one (or was given one with =).
type token struct {
	opt      *option
	value    string
	hasValue bool
}

// scan reads the command line as pflag will, resolving abbreviated long
// options. It returns the options it understood and the first error; it
// reads on past an error, so that --format is found wherever it stands.
func scan(args []string) ([]token, error) {
	var toks []token
	var first error
	fail := func(err error) {
		if first == nil {
			first = err
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) {
				fail(fmt.Errorf("unexpected argument %q: this plugin takes options only", args[i+1]))
			}
			return toks, first
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			o, err := lookupLong(name)
			if err != nil {
				fail(err)
				continue
			}
			t := token{opt: o, value: value, hasValue: hasValue}
			if o.takesValue() && !hasValue {
				if i+1 == len(args) {
					fail(fmt.Errorf("--%s needs a value: %s", o.long, o.arg))
					continue
				}
				i++
				t.value, t.hasValue = args[i], true
			}
			toks = append(toks, t)
		case strings.HasPrefix(a, "-") && a != "-":
			// A cluster of short options (-vv, -w5, -w=5): one that takes
			// a value takes the rest of the cluster or the next argument.
			for j := 1; j < len(a); j++ {
				o := lookupShort(a[j])
				if o == nil {
					in := ""
					if len(a) > 2 {
						in = " in " + a
					}
					fail(fmt.Errorf("unknown option -%s%s (see --help)", string(a[j]), in))
					break
				}
				if !o.takesValue() {
					toks = append(toks, token{opt: o})
					continue
				}
				t := token{opt: o, value: strings.TrimPrefix(a[j+1:], "="), hasValue: true}
				if j+1 == len(a) {
					if i+1 == len(args) {
						fail(fmt.Errorf("-%s needs a value: %s", o.short, o.arg))
						break
					}
					i++
					t.value = args[i]
				}
				toks = append(toks, t)
				break
			}
		default:
			fail(fmt.Errorf("unexpected argument %q: this plugin takes options only", a))
		}
	}
	return toks, first
}

// expand gives the command line with every long option spelled out, for
// pflag, which knows no abbreviations. Switches given a value must be given
// one pflag reads: no pflag or strconv text reaches the user.
func expand(toks []token) ([]string, error) {
	var out []string
	for _, t := range toks {
		o := t.opt
		switch {
		case o.kind == switchOpt && t.hasValue:
			if _, err := strconv.ParseBool(t.value); err != nil {
				return nil, fmt.Errorf("--%s=%q: a switch takes no value (or true or false)", o.long, t.value)
			}
		case o.kind == countOpt && t.hasValue:
			if n, err := strconv.Atoi(t.value); err != nil || n < 0 {
				return nil, fmt.Errorf("--%s=%q: give it once or twice (-v, -vv), or a count", o.long, t.value)
			}
		}
		if t.hasValue {
			out = append(out, "--"+o.long+"="+t.value)
		} else {
			out = append(out, "--"+o.long)
		}
	}
	return out, nil
}

// lookupLong finds a long option by its name or an unambiguous start of it.
func lookupLong(name string) (*option, error) {
	var found []*option
	for i := range options {
		o := &options[i]
		if o.long == name {
			return o, nil
		}
		if name != "" && strings.HasPrefix(o.long, name) {
			found = append(found, o)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	if len(found) == 0 {
		hint := "see --help"
		if c := closest(name); c != "" {
			hint = "did you mean --" + c + "? See --help"
		}
		return nil, fmt.Errorf("unknown option --%s (%s)", name, hint)
	}
	var orig []string
	for _, n := range originalOptions {
		if strings.HasPrefix(n, name) {
			orig = append(orig, n)
		}
	}
	if len(orig) == 1 {
		return lookupLong(orig[0])
	}
	names := make([]string, len(found))
	for i, o := range found {
		names[i] = "--" + o.long
	}
	return nil, fmt.Errorf("ambiguous option --%s: it could be %s (see --help)", name, strings.Join(names, ", "))
}

func lookupShort(c byte) *option {
	for i := range options {
		if o := &options[i]; o.short != "" && o.short[0] == c {
			return o
		}
	}
	return nil
}

// closest is the option a mistyped name most likely meant, or "" when none
// is near: at most a third of its letters (and at least 2) edited.
func closest(name string) string {
	best, bestDist := "", max(2, len(name)/3)+1
	for _, o := range options {
		if d := editDistance(name, o.long); d < bestDist {
			best, bestDist = o.long, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes; a name
// longer than any option is far from all of them anyway.
func editDistance(a, b string) int {
	if len(a) > 64 {
		return len(a)
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// wantsJSON looks for --format json before parsing, so that even a parse
// error comes out as JSON. The last --format wins, as for the parser.
func wantsJSON(args []string) bool {
	toks, _ := scan(args)
	json := false
	for _, t := range toks {
		if t.opt.long == "format" {
			json = strings.EqualFold(t.value, "json")
		}
	}
	return json
}

// longNames is every long option's name, for tests and help.
func longNames() []string {
	var names []string
	for _, o := range options {
		names = append(names, o.long)
	}
	return slices.Clip(names)
}
