package threshold

import (
	"math"
	"testing"
)

// FuzzParse: any text parses or fails, never panics; a parsed range shows a
// text that parses to the same range (its own text when that is plain), has
// start <= end, and '@' alerts exactly where the plain range does not.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"10", "10:", "~:10", "10:20", "@10:20", "-7:23", ":5.75", "~:-95.99",
		"@0:657.8210567", "1:1", "", "foo", "1-10", "10:~", "1,10", "1:2:3", "2:1", "@", "+3:3.5", "1e3", " 1_0 ", "inf", "-Infinity:.5e1"} {
		f.Add(seed, 0.0)
	}
	f.Fuzz(func(t *testing.T, text string, v float64) {
		r, err := Parse(text)
		if err != nil {
			return
		}
		if r.Start > r.End || math.IsNaN(r.Start) || math.IsNaN(r.End) {
			t.Fatalf("%q: %+v", text, r)
		}
		again, err := Parse(r.String())
		if err != nil || again != r {
			t.Fatalf("%q shows as %q, which parses to %+v, %v", text, r.String(), again, err)
		}
		if text == "" || math.IsNaN(v) {
			return
		}
		flipped := r
		flipped.Inside = !r.Inside
		if r.Alerts(v) == flipped.Alerts(v) {
			t.Fatalf("%q at %v: @ and plain agree", text, v)
		}
	})
}
