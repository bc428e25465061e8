package collect

import "testing"

// Every IP Helper table answers its size query: the probe that makes a
// failing table an error, not an empty count, passes where the tables work.
func TestProbeTables(t *testing.T) {
	for _, typ := range []Type{TCP, TCP6, UDP, UDP6} {
		if err := probeTable(typ); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
}
