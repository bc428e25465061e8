package threshold

import (
	"math"
	"testing"
)

func TestParse(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		text       string
		start, end float64
		inside     bool
	}{
		{"10", 0, 10, false},
		{"10:", 10, inf, false},
		{"~:10", math.Inf(-1), 10, false},
		{"10:20", 10, 20, false},
		{"@10:20", 10, 20, true},
		{"-7:23", -7, 23, false},
		{":5.75", 0, 5.75, false},
		{"~:-95.99", math.Inf(-1), -95.99, false},
		{"@0:657.8210567", 0, 657.8210567, true},
		{"1:1", 1, 1, false},
		{"+3:3.5", 3, 3.5, false},
		{"~:", math.Inf(-1), inf, false},
	}
	for _, tt := range tests {
		r, err := Parse(tt.text)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.text, err)
			continue
		}
		if r.Start != tt.start || r.End != tt.end || r.Inside != tt.inside || !r.IsSet() || r.String() != tt.text {
			t.Errorf("Parse(%q) = %+v, want start %v end %v inside %v", tt.text, r, tt.start, tt.end, tt.inside)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, text := range []string{
		"foo", "1-10", "10:~", "1,10", "1:2:3", "2:1", "10:5", "abc", "@", ":", "@:",
		"~", "~:~", "0x10", "1..2", ".", "-", "--1", "1-", "+3:.5x",
		"nan", "NaN", "-nan", "@10:5", "~10", "10:20:", "@@1", " ", "@ ", " :5", "5: ",
		"1__0", "_10", "10_", "1e", "e3", "1e3.5", "1_e3", "inf:", "infinity:5", "~:-inf",
		"５", "1 _0", "0b1", "1j", "10%", "in", "infinit",
	} {
		if r, err := Parse(text); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", text, r)
		}
	}
}

func TestEmptyIsUnset(t *testing.T) {
	r, err := Parse("")
	if err != nil || r.IsSet() || r.Alerts(-1) || r.Alerts(1e9) {
		t.Errorf("Parse(\"\") = %+v, %v; want an unset range that never alerts", r, err)
	}
}

// The number forms Python's float() takes, as the original reads a range:
// each parses to the range of the plain text that perfdata then shows.
func TestPythonNumbers(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		text, shown string
		start, end  float64
	}{
		{" 10", "10", 0, 10},
		{"10 ", "10", 0, 10},
		{"\t10\n", "10", 0, 10},
		{" 5 : 10 ", "5:10", 5, 10},
		{"1e3", "1000", 0, 1000},
		{"1E3", "1000", 0, 1000},
		{"1.5e-1:2.5E+2", "0.15:250", 0.15, 250},
		{"10_000", "10000", 0, 10000},
		{"1_0.2_5", "10.25", 0, 10.25},
		{".5", ".5", 0, 0.5},
		{"5.", "5.", 0, 5},
		{"+.5:5.", "+.5:5.", 0.5, 5},
		{"inf", "0:", 0, inf},
		{"10:inf", "10:", 10, inf},
		{"10:+Infinity", "10:", 10, inf},
		{"-inf:10", "~:10", math.Inf(-1), 10},
		{"@-INF:-1e0", "@~:-1", math.Inf(-1), -1},
		{"1e999", "0:", 0, inf},
		{"1e-999:1", "0:1", 0, 1},
		{" ~ :10", "~:10", math.Inf(-1), 10},
		// plain numbers keep their text
		{"+3:3.50", "+3:3.50", 3, 3.5},
		{"-0", "-0", 0, 0},
	}
	for _, tt := range tests {
		r, err := Parse(tt.text)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.text, err)
			continue
		}
		if r.Start != tt.start || r.End != tt.end || r.String() != tt.shown {
			t.Errorf("Parse(%q) = %+v, want %v:%v shown as %q", tt.text, r, tt.start, tt.end, tt.shown)
		}
		again, err := Parse(r.String())
		if err != nil || again.Start != r.Start || again.End != r.End || again.String() != r.String() {
			t.Errorf("Parse(%q) shows %q, which parses to %+v, %v", tt.text, r.String(), again, err)
		}
	}
}

// The vectors of the conventions doc: value -> alert?
func TestAlerts(t *testing.T) {
	tests := []struct {
		text   string
		values map[float64]bool
	}{
		{"6", map[float64]bool{-1: true, 0: false, 6: false, 6.1: true}},
		{"-7:23", map[float64]bool{-23: true, -7: false, 23: false, 23.1: true}},
		{":5.75", map[float64]bool{-1: true, 0: false, 5.75: false, 5.7501: true}},
		{"~:-95.99", map[float64]bool{-96: false, -95.99: false, -95.989: true, 0: true}},
		{"@0:657.8210567", map[float64]bool{-2: false, 0: true, 32.88: true, 657.8210567: true, 657.9: false}},
		{"1:1", map[float64]bool{0.5: true, 1: false, 5.2: true}},
		{"10", map[float64]bool{-0.1: true, 0: false, 10: false, 10.5: true}},
		{"10:", map[float64]bool{9: true, 10: false, 1e12: false}},
		{"~:10", map[float64]bool{-1e12: false, 10: false, 11: true}},
		{"10:20", map[float64]bool{9: true, 10: false, 20: false, 21: true}},
		{"@10:20", map[float64]bool{9: false, 10: true, 20: true, 21: false}},
		{"0", map[float64]bool{0: false, 1: true}},
		{"@0", map[float64]bool{0: true, 1: false}},
	}
	for _, tt := range tests {
		r, err := Parse(tt.text)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.text, err)
		}
		for v, want := range tt.values {
			if got := r.Alerts(v); got != want {
				t.Errorf("%q.Alerts(%v) = %v, want %v", tt.text, v, got, want)
			}
		}
	}
}

// w=30, c=60 from the conventions doc: critical first, then warning.
func TestWarningCritical(t *testing.T) {
	w, _ := Parse("30")
	c, _ := Parse("60")
	state := func(v float64) string {
		switch {
		case c.Alerts(v):
			return "CRITICAL"
		case w.Alerts(v):
			return "WARNING"
		}
		return "OK"
	}
	for v, want := range map[float64]string{15.3: "OK", 30.0001: "WARNING", 69: "CRITICAL"} {
		if got := state(v); got != want {
			t.Errorf("w=30 c=60 at %v: %s, want %s", v, got, want)
		}
	}
}
