// Command testsummary reads `go test -json` on stdin and prints what make
// test shows: each package's result line, a failed test's output in full,
// and at the end every test that skipped, by reason. It exits 1 when a
// test, a package or a build failed. Lines that are no JSON pass through.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string // build-output, build-fail
}

// skip is a test that skipped and the reason it gave.
type skip struct {
	test, reason string
}

// source is the file:line prefix that t.Skip puts before its reason.
var source = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)

func main() {
	failed := summarize(os.Stdin, os.Stdout)
	if failed {
		os.Exit(1)
	}
}

// summarize copies the stream's summary to w and reports whether anything failed.
func summarize(r io.Reader, w io.Writer) (failed bool) {
	output := map[string][]string{} // by package and test: the output so far
	var skips []skip
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(w, sc.Text())
			continue
		}
		key := e.Package + " " + e.Test
		switch {
		case e.Action == "build-output":
			fmt.Fprint(w, e.Output)
		case e.Action == "build-fail":
			failed = true
		case e.Test == "" && e.Action == "output":
			// The package's own lines: ok, FAIL, panics, TestMain's.
			if out := strings.TrimSpace(e.Output); out != "PASS" && out != "FAIL" && !strings.HasPrefix(out, "=== ") {
				fmt.Fprint(w, e.Output)
			}
		case e.Test == "" && e.Action == "fail":
			failed = true
		case e.Test == "":
			// The package's start, pass, or skip (no test files).
		case e.Action == "output":
			output[key] = append(output[key], e.Output)
		case e.Action == "fail":
			failed = true
			for _, line := range output[key] {
				if !strings.HasPrefix(strings.TrimSpace(line), "=== ") {
					fmt.Fprint(w, line)
				}
			}
			delete(output, key)
		case e.Action == "skip":
			skips = append(skips, skip{e.Package + " " + e.Test, reason(output[key])})
			delete(output, key)
		case e.Action == "pass":
			skips = append(skips, nested(e.Package, output[key])...)
			delete(output, key)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(w, "testsummary:", err)
		failed = true
	}
	report(w, skips)
	return failed
}

// reason is what a skipped test said: its last line other than go test's own.
func reason(lines []string) string {
	for _, line := range slices.Backward(lines) {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		return source.ReplaceAllString(t, "")
	}
	return "(no reason given)"
}

// nested finds the skips in the output of a test that re-ran itself in a
// child process (netnstest) and logged the child's go test -v output: there
// a test's lines follow its "=== RUN" line, and its "--- SKIP" line comes
// later, when its parent ends.
func nested(pkg string, lines []string) []skip {
	var skips []skip
	said := map[string][]string{} // by test: its lines
	current := ""
	for _, line := range lines {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "=== RUN") || strings.HasPrefix(t, "=== CONT") || strings.HasPrefix(t, "=== NAME"):
			current = strings.TrimSpace(t[len("=== NAME"):])
		case strings.HasPrefix(t, "--- SKIP: "):
			name, _, _ := strings.Cut(strings.TrimPrefix(t, "--- SKIP: "), " (")
			skips = append(skips, skip{pkg + " " + name, reason(said[name])})
		case strings.HasPrefix(t, "--- "):
		case current != "":
			said[current] = append(said[current], line)
		}
	}
	return skips
}

// report lists the skipped tests under each reason, the reasons by count.
func report(w io.Writer, skips []skip) {
	if len(skips) == 0 {
		fmt.Fprintln(w, "skipped: none")
		return
	}
	byReason := map[string][]string{}
	var reasons []string
	for _, s := range skips {
		if byReason[s.reason] == nil {
			reasons = append(reasons, s.reason)
		}
		byReason[s.reason] = append(byReason[s.reason], s.test)
	}
	slices.SortStableFunc(reasons, func(a, b string) int { return len(byReason[b]) - len(byReason[a]) })
	fmt.Fprintf(w, "skipped: %d tests\n", len(skips))
	for _, r := range reasons {
		fmt.Fprintf(w, "  %s (%d):\n", r, len(byReason[r]))
		for _, t := range byReason[r] {
			fmt.Fprintf(w, "    %s\n", t)
		}
	}
}
