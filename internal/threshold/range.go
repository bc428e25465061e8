// Package threshold parses Nagios ranges ([@]start:end) and tells whether a
// value raises an alert, following the Monitoring::Plugin rules.
package threshold

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Range is a parsed Nagios range. The zero Range is unset and never alerts.
type Range struct {
	Text   string // as the user gave it, for perfdata
	Start  float64
	End    float64
	Inside bool // '@': alert inside [Start, End] instead of outside
	set    bool
}

// Parse reads a range. An empty text gives the unset Range: monitoring cores
// pass empty custom variables as empty arguments, and that means "no threshold".
func Parse(text string) (Range, error) {
	r := Range{Start: 0, End: math.Inf(1), set: true}
	if text == "" {
		return Range{}, nil
	}
	s := text
	if strings.HasPrefix(s, "@") {
		r.Inside = true
		s = s[1:]
	}
	if strings.Count(s, ":") > 1 {
		return Range{}, fmt.Errorf("range %q: more than one colon", text)
	}
	startText, endText, hasColon := strings.Cut(s, ":")
	if !hasColon {
		startText, endText = "", s
		if endText == "" {
			return Range{}, fmt.Errorf("range %q: no end value", text)
		}
	}
	if startText == "" && endText == "" {
		return Range{}, fmt.Errorf("range %q: no start or end value", text)
	}
	var err error
	var start, end string // as the range's text shows them
	switch {
	case startText == "":
	case strings.TrimSpace(startText) == "~":
		r.Start, start = math.Inf(-1), "~"
	default:
		if r.Start, start, err = parseNumber(startText); err != nil {
			return Range{}, fmt.Errorf("range %q: start %w", text, err)
		}
		switch {
		case math.IsInf(r.Start, 1):
			return Range{}, fmt.Errorf("range %q: start %q: no count is above infinity", text, startText)
		case math.IsInf(r.Start, -1):
			start = "~"
		}
	}
	if endText != "" {
		if r.End, end, err = parseNumber(endText); err != nil {
			return Range{}, fmt.Errorf("range %q: end %w", text, err)
		}
		switch {
		case math.IsInf(r.End, -1):
			return Range{}, fmt.Errorf("range %q: end %q: no count is below minus infinity", text, endText)
		case math.IsInf(r.End, 1):
			end = ""
		}
	}
	if r.Start > r.End {
		return Range{}, fmt.Errorf("range %q: start is greater than end", text)
	}
	// The text the perfdata and JSON show: the numbers as given when they
	// are plain, else as the number they mean (" 1e3" shows as 1000).
	switch {
	case start == "" && end == "":
		r.Text = "0:"
	case hasColon || end == "":
		r.Text = start + ":" + end
	default:
		r.Text = end
	}
	if r.Inside {
		r.Text = "@" + r.Text
	}
	return r, nil
}

// parseNumber reads a number as the original plugin does, with Python's
// float(): blanks around it, an exponent (1e3), digits grouped with _
// (10_000), .5 and 5., inf or infinity in any case. Refused: nan (no count
// is ever inside or outside it), hex (float() refuses it too) and digits
// other than ASCII ones. It returns the number and its text for perfdata:
// as given when plain ([+-]digits[.digits]), else the number it means.
func parseNumber(s string) (float64, string, error) {
	t := strings.TrimSpace(s)
	if plain(t) {
		v, err := strconv.ParseFloat(t, 64)
		return v, t, err
	}
	if !pythonFloat.MatchString(t) {
		return 0, "", fmt.Errorf("%q is not a number", s)
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(t, "_", ""), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) { // 1e999 is inf, 1e-999 is 0, as in Python
		return 0, "", fmt.Errorf("%q is not a number", s)
	}
	return v, strconv.FormatFloat(v, 'f', -1, 64), nil
}

// pythonFloat is the grammar of Python's float() for finite numbers and
// infinity, in ASCII; nan is left out on purpose.
var pythonFloat = regexp.MustCompile(`^[+-]?(?:(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)(?:[eE][+-]?[0-9](?:_?[0-9])*)?|(?i:inf|infinity))$`)

// plain reports whether s is [+-]digits[.digits], which perfdata shows as is.
func plain(s string) bool {
	digits, dots := 0, 0
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		case (c == '-' || c == '+') && i == 0:
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// IsSet reports whether the range was given.
func (r Range) IsSet() bool { return r.set }

// Alerts reports whether v lies where the range raises an alert.
func (r Range) Alerts(v float64) bool {
	if !r.set {
		return false
	}
	in := r.Start <= v && v <= r.End
	if r.Inside {
		return in
	}
	return !in
}

// String gives the range as the user wrote it.
func (r Range) String() string { return r.Text }
