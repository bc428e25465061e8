// Package threshold parses Nagios ranges ([@]start:end) and tells whether a
// value raises an alert, following the Monitoring::Plugin rules.
package threshold

import (
	"fmt"
	"math"
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
	r := Range{Text: text, Start: 0, End: math.Inf(1), set: true}
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
	switch startText {
	case "":
	case "~":
		r.Start = math.Inf(-1)
	default:
		if r.Start, err = parseNumber(startText); err != nil {
			return Range{}, fmt.Errorf("range %q: start %w", text, err)
		}
	}
	if endText != "" {
		if r.End, err = parseNumber(endText); err != nil {
			return Range{}, fmt.Errorf("range %q: end %w", text, err)
		}
	}
	if r.Start > r.End {
		return Range{}, fmt.Errorf("range %q: start is greater than end", text)
	}
	return r, nil
}

// parseNumber accepts only [+-]digits[.digits]: strconv alone would also take
// "inf", "1e3" and "0x10", which no Nagios range allows.
func parseNumber(s string) (float64, error) {
	digits, dots := 0, 0
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		case (c == '-' || c == '+') && i == 0:
		default:
			return 0, fmt.Errorf("%q is not a number", s)
		}
	}
	if digits == 0 || dots > 1 {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return strconv.ParseFloat(s, 64)
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
