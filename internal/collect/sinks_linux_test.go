package collect

import "testing"

type pickySink struct {
	listSink
	port uint16
}

func (s *pickySink) Needs(_ Status, local, _ uint16) bool { return local == s.port }

// A sink that needs only some sockets gets only those; a tee needs what
// any of its sinks that takes the status needs; every socket is counted.
func TestPicky(t *testing.T) {
	picky := &pickySink{port: 80}
	listeners := &statusSink{mask: 1 << Listen}
	sink := Tee(picky, listeners).(Picky)
	for _, tt := range []struct {
		s     Status
		local uint16
		want  bool
	}{{Established, 80, true}, {Established, 81, false}, {Listen, 81, true}} {
		if got := sink.Needs(tt.s, tt.local, 1); got != tt.want {
			t.Errorf("tee Needs(%v, %d) = %v", tt.s, tt.local, got)
		}
	}
	out := newRows(picky)
	msg := func(sport uint16) []byte {
		m := make([]byte, inetDiagMsgLen)
		m[diagFamily], m[diagState] = 2, byte(Established) // AF_INET
		m[diagSport], m[diagSport+1] = byte(sport>>8), byte(sport)
		return m
	}
	for _, p := range []uint16{80, 81, 80} {
		if err := decodeInet(msg(p), TCP, All, out); err != nil {
			t.Fatal(err)
		}
	}
	if len(picky.list) != 2 || out.row[Established] != 3 {
		t.Errorf("got %v, row %v", picky.list, out.row)
	}
}
